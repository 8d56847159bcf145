import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  DEFAULT_INLINE_WRITES,
  NodeFileSystem,
  FileSystemError,
  ensureDirDurable,
  isNotFound,
  processDiskReadBytes,
  readAt,
} from '../../storage/fs.js';
import { CachingFileSystem } from '../../storage/fd-cache.js';
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

test('NodeFileSystem start-up mode: readdir, stat, exists, readFile answer as of the call; coded errors', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // Set through the descriptor cache, which passes the mode on (as the broker's file system does).
    const fs = new NodeFileSystem();
    const cache = new CachingFileSystem(fs, { maxOpen: 4 });
    writeFileSync(path.join(dir, 'a'), 'aa');
    cache.setStartupMode(true);
    const listed = fs.readdir(dir);
    const read = fs.readFile(path.join(dir, 'a'));
    const stated = fs.stat(path.join(dir, 'a'));
    const existed = fs.exists(path.join(dir, 'b'));
    // Changed after the calls, before their promises are awaited: blocking calls already have their answers.
    writeFileSync(path.join(dir, 'a'), 'changed');
    writeFileSync(path.join(dir, 'b'), 'b');
    assert.deepEqual(await listed, ['a']);
    assert.equal((await read).toString(), 'aa');
    assert.equal((await stated).size, 2);
    assert.equal(await existed, false);
    await assert.rejects(fs.readFile(path.join(dir, 'nope')), (e: unknown) => isNotFound(e));
    await assert.rejects(fs.stat(path.join(dir, 'nope')), (e: unknown) => isNotFound(e));
    await assert.rejects(fs.readdir(path.join(dir, 'nope')), (e: unknown) => e instanceof FileSystemError);
    assert.deepEqual((await cache.readdir(dir)).sort(), ['a', 'b']);
    cache.setStartupMode(false);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['a', 'b']);
    assert.equal((await cache.stat(path.join(dir, 'a'))).size, 7);
  } finally {
    await cleanup();
  }
});

test('NodeFileSystem.readNow: a range by blocking calls in start-up mode only', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const fs = new NodeFileSystem();
    const f = path.join(dir, 'f');
    writeFileSync(f, 'abcdefgh');
    assert.equal(fs.readNow(f, 2, 3), undefined, 'not in start-up mode');
    fs.setStartupMode(true);
    assert.equal(fs.readNow(f, 2, 3)?.toString(), 'cde');
    assert.equal(fs.readNow(f, 6, 10)?.toString(), 'gh', 'fewer at end of file');
    assert.throws(
      () => fs.readNow(path.join(dir, 'nope'), 0, 1),
      (e: unknown) => isNotFound(e),
    );
  } finally {
    await cleanup();
  }
});

test('NodeFileSystem writevNow: every byte written by the call; a closed handle throws a coded error', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const fs = new NodeFileSystem();
    const f = path.join(dir, 'f');
    const h = await fs.open(f, { create: true });
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    assert.equal(h.writevNow!([Buffer.from('xy'), big, Buffer.from('z')], 0), true);
    // No await in between: the bytes are in the file when the call returns.
    const data = readFileSync(f);
    assert.equal(data.length, big.length + 3);
    assert.equal(data.subarray(0, 2).toString(), 'xy');
    assert.equal(data[data.length - 1], 'z'.charCodeAt(0));
    assert.equal(h.writevNow!([Buffer.from('Q')], 1), true);
    assert.equal(readFileSync(f).subarray(0, 3).toString('latin1'), 'xQ\x07');
    await h.close();
    assert.throws(
      () => h.writevNow!([Buffer.from('late')], 0),
      (e: unknown) => e instanceof FileSystemError && e.errno === 'EBADF',
    );
  } finally {
    await cleanup();
  }
});

test('processDiskReadBytes: what /proc/self/io counts as read_bytes (whole 512-byte blocks)', (t) => {
  if (!existsSync('/proc/self/io')) return t.skip('no /proc/self/io');
  const before = processDiskReadBytes();
  const text = readFileSync('/proc/self/io', 'latin1');
  const after = processDiskReadBytes();
  const field = Number(/^read_bytes: (\d+)$/m.exec(text)?.[1]);
  const blocks = Math.floor(field / 512) * 512;
  assert.ok(before <= blocks && blocks <= after, `${before} <= ${blocks} <= ${after}`);
});

test('NodeFileHandle: close waits for the reads in flight; a read after close fails EBADF', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const fs = new NodeFileSystem();
    const f = path.join(dir, 'r');
    writeFileSync(f, Buffer.alloc(4 << 20, 3));
    const h = await fs.open(f);
    const bufs = [0, 1, 2, 3].map(() => Buffer.alloc(1 << 20));
    const reads = bufs.map((b, i) => h.read(b, 0, b.length, i << 20));
    const closed = h.close();
    assert.deepEqual(await Promise.all(reads), [1 << 20, 1 << 20, 1 << 20, 1 << 20]);
    for (const b of bufs) assert.equal(b.indexOf(0), -1, 'every byte read before the close');
    await closed;
    await assert.rejects(
      h.read(Buffer.alloc(8), 0, 8, 0),
      (e: unknown) => e instanceof FileSystemError && e.errno === 'EBADF',
    );
  } finally {
    await cleanup();
  }
});

test('NodeFileSystem writevNow: after a write over stallMs it declines (nothing written) for pauseMs', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // Every write counts as stalled (over -1 ms): the first is written, then blocking writes pause.
    const paused = new NodeFileSystem({ maxBytes: 1024, stallMs: -1, pauseMs: 3_600_000 });
    const f = path.join(dir, 'f');
    const h = await paused.open(f, { create: true });
    assert.equal(h.writevNow!([Buffer.from('ab')], 0), true);
    assert.equal(h.writevNow!([Buffer.from('cd')], 2), false);
    assert.equal(readFileSync(f, 'utf8'), 'ab');
    // The pause is the file system's, not the handle's.
    const g = await paused.open(path.join(dir, 'g'), { create: true });
    assert.equal(g.writevNow!([Buffer.from('x')], 0), false);
    await h.writev([Buffer.from('cd')], 2);
    assert.equal(readFileSync(f, 'utf8'), 'abcd');
    await Promise.all([h.close(), g.close()]);
    // A pause of 0 ms is over at once; a write under stallMs never pauses.
    for (const policy of [
      { maxBytes: 1024, stallMs: -1, pauseMs: 0 },
      { maxBytes: 1024, stallMs: 60_000, pauseMs: 3_600_000 },
    ]) {
      const k = await new NodeFileSystem(policy).open(path.join(dir, 'k'), { create: true, truncate: true });
      assert.deepEqual([k.writevNow!([Buffer.from('1')], 0), k.writevNow!([Buffer.from('2')], 1)], [true, true]);
      assert.equal(readFileSync(path.join(dir, 'k'), 'utf8'), '12');
      await k.close();
    }
  } finally {
    await cleanup();
  }
});

test('NodeFileSystem writevNow declines (nothing written) writes over maxBytes; 0 declines every write', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const f = path.join(dir, 'f');
    const h = await new NodeFileSystem({ ...DEFAULT_INLINE_WRITES, maxBytes: 4 }).open(f, { create: true });
    assert.equal(h.writevNow!([Buffer.from('ab'), Buffer.from('c')], 0), true);
    assert.equal(h.writevNow!([Buffer.from('de'), Buffer.from('fgh')], 3), false);
    assert.equal(readFileSync(f, 'utf8'), 'abc');
    await h.close();
    const none = await new NodeFileSystem({ ...DEFAULT_INLINE_WRITES, maxBytes: 0 }).open(f, { create: true });
    assert.equal(none.writevNow!([Buffer.from('x')], 0), false);
    assert.equal(readFileSync(f, 'utf8'), 'abc');
    await none.close();
  } finally {
    await cleanup();
  }
});
