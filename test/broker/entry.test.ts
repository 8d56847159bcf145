import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as entry from '../../broker/entry.js';
import * as index from '../../broker/index.js';
import { dynamicImportsLeft } from '../../broker/bundle.js';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

test("the package entry exports broker/index.ts's API, from the bundle", async () => {
  assert.ok(existsSync(join(dist, 'bundle/index.cjs')), 'npm run build makes dist/bundle/index.cjs');
  const values = (m: object): string[] =>
    Object.keys(m)
      .filter((k) => k !== 'default')
      .sort();
  assert.deepEqual(values(entry), values(index));
  assert.notEqual(entry.Broker, index.Broker, 'loaded from the bundle, not from dist/broker');
  assert.equal(entry.CONFIG_DEFS.length, index.CONFIG_DEFS.length);
  const pkg = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as {
    exports: Record<string, { default: string }>;
    bin: Record<string, string>;
  };
  assert.equal(pkg.exports['.'].default, './dist/broker/entry.js');
  assert.equal(pkg.bin.runnel, 'dist/broker/bin.cjs');

  const b = await entry.startBroker({ topics: [{ name: 't', partitions: 2 }], storage: 'memory' });
  try {
    assert.equal(b.broker.metadata.image.topic('t')?.partitions, 2);
    const meta = await b.createTopic('u', 1);
    assert.equal(meta.name, 'u');
  } finally {
    await b.stop();
  }
});

test('bundles keep no import(): a vm.Script from code cache cannot run one', () => {
  assert.deepEqual(
    dynamicImportsLeft(
      'a = await import("snappy"); b = import(\'node:zlib\'); c = import("snappy"); require("x"); reimport(y)',
    ),
    ['snappy', 'node:zlib'],
  );
  for (const f of ['start.cjs', 'cli.cjs', 'index.cjs']) {
    assert.deepEqual(dynamicImportsLeft(readFileSync(join(dist, 'bundle', f), 'utf8')), [], f);
  }
});
