/**
 * The committed generated code must be exactly what the generator makes from the Kafka specs today.
 * Needs ../shared/kafka-protocol beside the repository; skips (and says so) where it is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate, GENERATED_DIRS, repoRoot } from '../../../protocol/codegen/main.js';
import { parseRange, parseJsonWithComments } from '../../../protocol/codegen/spec.js';

const root = repoRoot();
const specRoot = join(root, '..', 'shared', 'kafka-protocol');

test('committed generated code matches a fresh generation', (t) => {
  if (!existsSync(join(specRoot, 'message'))) {
    t.skip(`../shared/kafka-protocol not found at ${specRoot}: cannot regenerate`);
    return;
  }
  const files = generate(specRoot);
  assert.ok(files.size > 300, `generated ${files.size} files`);
  for (const [rel, text] of files) {
    const path = join(root, rel);
    assert.ok(existsSync(path), `${rel} is missing: run npm run gen:protocol`);
    assert.equal(readFileSync(path, 'utf8'), text, `${rel} differs from a fresh generation: run npm run gen:protocol`);
  }
  for (const d of GENERATED_DIRS) {
    for (const f of readdirSync(join(root, d))) {
      if (f.endsWith('.ts')) assert.ok(files.has(`${d}/${f}`), `${d}/${f} is stale: the generator no longer makes it`);
    }
  }
});

test('version ranges parse as the spec language defines them', () => {
  assert.deepEqual(parseRange('0+'), { min: 0, max: Infinity });
  assert.deepEqual(parseRange('3-7'), { min: 3, max: 7 });
  assert.deepEqual(parseRange('5'), { min: 5, max: 5 });
  assert.ok(parseRange('none').max < parseRange('none').min);
});

test('comments are stripped outside strings only', () => {
  const v = parseJsonWithComments('// head\n{ "a": "http://x//y", // trailing\n  "b": 1 }\n') as {
    a: string;
    b: number;
  };
  assert.equal(v.a, 'http://x//y');
  assert.equal(v.b, 1);
});
