import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { NodeFileSystem, FileSystemError, ensureDirDurable, isNotFound, readAt } from '../../storage/fs.js';
import { tempDir } from './helpers.js';

test('NodeFileSystem: positional writev, read, truncate, sync, rename, readdir, rmrf', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const fs = new NodeFileSystem();
    const sub = path.join(dir, 'a', 'b');
    assert.equal(await ensureDirDurable(fs, sub), true);
    assert.equal(await ensureDirDurable(fs, sub), false);
    const f = path.join(sub, 'f');
    const h = await fs.open(f, { create: true });
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    await h.writev([Buffer.from('xy'), big], 0);
    assert.equal(await h.size(), big.length + 2);
    await h.writev([Buffer.from('Z')], 1);
    assert.equal((await readAt(h, 0, 3)).toString('latin1'), 'xZ\x07');
    await h.datasync();
    await h.sync();
    await h.truncate(2);
    assert.equal(await h.size(), 2);
    await h.close();
    await fs.syncDir(sub);
    await fs.writeFile(path.join(sub, 'g'), Buffer.from('g'));
    await fs.rename(path.join(sub, 'g'), path.join(sub, 'h'));
    assert.deepEqual((await fs.readdir(sub)).sort(), ['f', 'h']);
    assert.equal((await fs.readFile(path.join(sub, 'h'))).toString(), 'g');
    assert.equal((await fs.stat(sub)).isDirectory, true);
    await fs.unlink(path.join(sub, 'h'));
    await assert.rejects(fs.readFile(path.join(sub, 'h')), (e: unknown) => isNotFound(e));
    await assert.rejects(
      fs.open(path.join(sub, 'nope')),
      (e: unknown) => e instanceof FileSystemError && e.code === 'ERR_STORAGE',
    );
    await fs.rmrf(path.join(dir, 'a'));
    assert.equal(await fs.exists(path.join(dir, 'a')), false);
  } finally {
    await cleanup();
  }
});
