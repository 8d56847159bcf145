/**
 * Repository-wide source rules Biome does not enforce by itself: no hand-written source line is longer than
 * 120 characters (Biome's lineWidth cannot break long strings, comments or one-name imports). The file set is
 * the git-tracked sources, so the test is skipped outside a git checkout (e.g. an unpacked npm tarball).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAX = 120;
/** Generated code and captured samples are not hand-written. */
const EXCLUDED = ['protocol/generated/', 'test/helpers/samples/'];

function trackedSources(): string[] | null {
  if (!existsSync(join(root, '.git'))) return null;
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.cts', '*.mjs'], {
      cwd: root,
      encoding: 'utf8',
    });
    return out
      .split('\0')
      .filter((f) => f !== '' && !EXCLUDED.some((dir) => f.startsWith(dir)))
      .filter((f) => existsSync(join(root, f)));
  } catch {
    return null;
  }
}

const files = trackedSources();

test(`no hand-written source line is longer than ${MAX} characters`, {
  skip: files === null && 'no git checkout',
}, () => {
  assert.ok(files!.length > 100, `expected the repository's sources, found ${files!.length} files`);
  const long: string[] = [];
  for (const f of files!) {
    const lines = readFileSync(join(root, f), 'utf8').split(/\r?\n/);
    lines.forEach((line, i) => {
      const length = [...line].length; // code points, as an editor counts them
      if (length > MAX) long.push(`${f}:${i + 1}: ${length}`);
    });
  }
  assert.deepEqual(long, [], `wrap or split these lines to at most ${MAX} characters`);
});
