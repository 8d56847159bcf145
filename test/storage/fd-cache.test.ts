import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { FileHandle, FileSystem, OpenOptions } from '../../storage/fs.js';
import { FileSystemError, NodeFileSystem, readAt } from '../../storage/fs.js';
import {
  CachingFileSystem,
  deriveMaxOpenFiles,
  FALLBACK_FD_LIMIT,
  MIN_OPEN_FILES,
  processFdLimit,
} from '../../storage/fd-cache.js';
import { writeFileAtomically } from '../../storage/checkpoint.js';
import { tempDir } from './helpers.js';

/** Descriptors of this process open on files under `dir` (from /proc/self/fd). */
function fdsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir + path.sep)) out.push(target);
    } catch {
      // closed in between
    }
  }
  return out;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir();
  try {
    await fn(dir);
  } finally {
    await cleanup();
  }
}

test('fd cache: at most maxOpen descriptors, least recently used closed, reopened on demand', () =>
  withDir(async (dir) => {
    const fs = new CachingFileSystem(new NodeFileSystem(), { maxOpen: 3 });
    const handles: FileHandle[] = [];
    for (let i = 0; i < 10; i++) {
      const h = await fs.open(path.join(dir, `f${i}`), { create: true, truncate: true });
      await h.writev([Buffer.from(`file ${i}`)], 0);
      handles.push(h);
      assert.ok(fdsUnder(dir).length <= 3, `at most 3 descriptors after ${i + 1} files`);
    }
    assert.equal(fs.stats().open, 3);
    assert.equal(fs.stats().handles, 10);
    // The three most recently used are the ones open.
    assert.deepEqual(
      fdsUnder(dir).sort(),
      ['f7', 'f8', 'f9'].map((f) => path.join(dir, f)),
    );
    for (let i = 0; i < 10; i++) {
      assert.equal((await readAt(handles[i]!, 0, 20)).toString(), `file ${i}`);
      assert.equal(await handles[i]!.size(), `file ${i}`.length);
    }
    assert.ok(fs.stats().reopens >= 7);
    assert.ok(fs.stats().evictions >= 14);
    // A reopen neither truncates nor loses appends: write at the end of an evicted file.
    await handles[0]!.writev([Buffer.from('+more')], 6);
    await handles[0]!.datasync();
    assert.equal((await readAt(handles[0]!, 0, 20)).toString(), 'file 0+more');
    for (const h of handles) await h.close();
    assert.equal(fs.stats().open, 0);
    assert.equal(fdsUnder(dir).length, 0);
    await assert.rejects(handles[0]!.size(), (e: unknown) => e instanceof FileSystemError && e.errno === 'EBADF');
  }));

/** Wraps NodeFileSystem so reads of one file wait for a gate. */
class GatedFs extends NodeFileSystem {
  gate: Promise<void> | undefined;
  entered: (() => void) | undefined;
  override async open(p: string, o?: OpenOptions): Promise<FileHandle> {
    const h = await super.open(p, o);
    const read = h.read.bind(h);
    h.read = async (...args) => {
      if (this.gate && p.endsWith('pinned')) {
        this.entered?.();
        await this.gate;
      }
      return read(...args);
    };
    return h;
  }
}

test('fd cache: a descriptor under an in-flight read is never closed', () =>
  withDir(async (dir) => {
    const inner = new GatedFs();
    const fs = new CachingFileSystem(inner, { maxOpen: 2 });
    const pinned = await fs.open(path.join(dir, 'pinned'), { create: true });
    await pinned.writev([Buffer.from('still here')], 0);
    let open!: () => void;
    inner.gate = new Promise((r) => (open = r));
    const entered = new Promise<void>((r) => (inner.entered = r));
    const reading = readAt(pinned, 0, 10);
    await entered;
    const others: FileHandle[] = [];
    for (let i = 0; i < 4; i++) others.push(await fs.open(path.join(dir, `o${i}`), { create: true }));
    // The pinned file kept its descriptor while the others took turns.
    assert.ok(fdsUnder(dir).includes(path.join(dir, 'pinned')));
    assert.ok(fdsUnder(dir).length <= 2);
    open();
    assert.equal((await reading).toString(), 'still here');
    // Once unpinned, the cache is back under its limit.
    assert.ok(fs.stats().open <= 2);
    // A close during an in-flight read waits for the read before releasing the descriptor.
    inner.gate = new Promise((r) => (open = r));
    const entered2 = new Promise<void>((r) => (inner.entered = r));
    const reading2 = readAt(pinned, 0, 5);
    await entered2;
    await pinned.close();
    assert.ok(fdsUnder(dir).includes(path.join(dir, 'pinned')), 'kept open under the read');
    open();
    assert.equal((await reading2).toString(), 'still');
    assert.ok(!fdsUnder(dir).includes(path.join(dir, 'pinned')));
    for (const h of others) await h.close();
  }));

test('fd cache: when every descriptor is pinned, an open waits for one to be unpinned', () =>
  withDir(async (dir) => {
    const inner = new GatedFs();
    const fs = new CachingFileSystem(inner, { maxOpen: 1 });
    const pinned = await fs.open(path.join(dir, 'pinned'), { create: true });
    await pinned.writev([Buffer.from('p')], 0);
    let open!: () => void;
    inner.gate = new Promise((r) => (open = r));
    const entered = new Promise<void>((r) => (inner.entered = r));
    const reading = readAt(pinned, 0, 1);
    await entered;
    let opened = false;
    const other = fs.open(path.join(dir, 'other'), { create: true }).then((h) => {
      opened = true;
      return h;
    });
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(opened, false, 'no second descriptor while the only one is pinned');
    assert.deepEqual(fdsUnder(dir), [path.join(dir, 'pinned')]);
    open();
    assert.equal((await reading).toString(), 'p');
    const h = await other;
    assert.deepEqual(fdsUnder(dir), [path.join(dir, 'other')]);
    assert.equal(fs.stats().waitsForRoom, 1);
    // Many concurrent operations on more files than the limit all complete, one descriptor at a time.
    inner.gate = undefined;
    const many: FileHandle[] = [];
    for (let i = 0; i < 20; i++) many.push(await fs.open(path.join(dir, `m${i}`), { create: true }));
    await Promise.all(many.map((m, i) => m.writev([Buffer.from(`m${i}`)], 0)));
    const back = await Promise.all(many.map((m) => readAt(m, 0, 3)));
    assert.deepEqual(
      back.map((b) => b.toString()),
      many.map((_, i) => `m${i}`),
    );
    assert.ok(fdsUnder(dir).length <= 1);
    for (const x of [pinned, h, ...many]) await x.close();
  }));

test('fd cache: handles follow renames of files and directories, also while evicted', () =>
  withDir(async (dir) => {
    const fs = new CachingFileSystem(new NodeFileSystem(), { maxOpen: 1 });
    await fs.mkdirp(path.join(dir, 'p-0'));
    const a = await fs.open(path.join(dir, 'p-0', 'a.log'), { create: true });
    await a.writev([Buffer.from('aaa')], 0);
    const b = await fs.open(path.join(dir, 'p-0', 'b.log'), { create: true }); // evicts a
    await b.writev([Buffer.from('bbb')], 0);
    await fs.rename(path.join(dir, 'p-0', 'a.log'), path.join(dir, 'p-0', 'a.log.deleted'));
    assert.equal(a.path, path.join(dir, 'p-0', 'a.log.deleted'));
    assert.equal((await readAt(a, 0, 3)).toString(), 'aaa'); // reopened under its new name
    await fs.rename(path.join(dir, 'p-0'), path.join(dir, 'p-0.x-delete'));
    assert.equal(b.path, path.join(dir, 'p-0.x-delete', 'b.log'));
    assert.equal((await readAt(b, 0, 3)).toString(), 'bbb');
    assert.equal((await readAt(a, 0, 3)).toString(), 'aaa');
    await a.close();
    await b.close();
  }));

test('fd cache: a file removed or replaced stays readable if open, fails with ENOENT if evicted', () =>
  withDir(async (dir) => {
    const fs = new CachingFileSystem(new NodeFileSystem(), { maxOpen: 2 });
    const open = await fs.open(path.join(dir, 'open'), { create: true });
    await open.writev([Buffer.from('kept')], 0);
    const evicted = await fs.open(path.join(dir, 'evicted'), { create: true });
    await evicted.writev([Buffer.from('gone')], 0);
    await open.size(); // most recently used: `evicted` goes first
    const third = await fs.open(path.join(dir, 'third'), { create: true });
    assert.deepEqual(fdsUnder(dir).sort(), [path.join(dir, 'open'), path.join(dir, 'third')]);
    await fs.unlink(path.join(dir, 'open'));
    await fs.writeFile(path.join(dir, 'other'), Buffer.from('new'));
    await fs.rename(path.join(dir, 'other'), path.join(dir, 'evicted'));
    // `open` keeps its (now sticky) descriptor even as others come and go.
    for (let i = 0; i < 3; i++) await (await fs.open(path.join(dir, `x${i}`), { create: true })).close();
    assert.equal((await readAt(open, 0, 4)).toString(), 'kept');
    await assert.rejects(readAt(evicted, 0, 4), (e: unknown) => e instanceof FileSystemError && e.errno === 'ENOENT');
    for (const h of [open, evicted, third]) await h.close();
    assert.equal(fdsUnder(dir).length, 0);
  }));

/** A FileSystem whose next `failures` opens fail with EMFILE. */
class EmfileFs extends NodeFileSystem {
  failures = 0;
  opens = 0;
  override async open(p: string, o?: OpenOptions): Promise<FileHandle> {
    this.opens++;
    if (this.failures > 0) {
      this.failures--;
      throw new FileSystemError('open', p, 'EMFILE', 'too many open files');
    }
    return super.open(p, o);
  }
}

test('fd cache: EMFILE closes cached descriptors and retries once, then fails that operation only', () =>
  withDir(async (dir) => {
    const inner = new EmfileFs();
    const fs: FileSystem & CachingFileSystem = new CachingFileSystem(inner, { maxOpen: 100 });
    const hs: FileHandle[] = [];
    for (let i = 0; i < 8; i++) hs.push(await fs.open(path.join(dir, `f${i}`), { create: true }));
    assert.equal(fdsUnder(dir).length, 8);
    inner.failures = 1;
    const h = await fs.open(path.join(dir, 'new'), { create: true });
    assert.equal(fs.stats().outOfDescriptors, 1);
    assert.ok(fdsUnder(dir).length < 8, 'cached descriptors were closed to make room');
    inner.failures = 2;
    await assert.rejects(
      fs.open(path.join(dir, 'fails'), { create: true }),
      (e: unknown) => e instanceof FileSystemError && e.errno === 'EMFILE',
    );
    assert.equal(fs.stats().open, fdsUnder(dir).length);
    // Everything opened before still works (reopened on demand).
    for (const x of [...hs, h]) assert.equal(await x.size(), 0);
    for (const x of [...hs, h]) await x.close();
  }));

test('fd cache: the limit is derived from the soft limit in /proc/self/limits', () => {
  const limits =
    'Limit                     Soft Limit           Hard Limit           Units     \n' +
    'Max processes             63429                63429                processes \n' +
    'Max open files            256                  256                  files     \n';
  assert.equal(processFdLimit(limits), 256);
  assert.equal(
    processFdLimit('Max open files            unlimited            unlimited            files'),
    2 ** 53 - 1,
  );
  assert.equal(processFdLimit('nothing here'), undefined);
  assert.ok((processFdLimit() ?? 0) > 0, 'this process has a readable limit');
  assert.equal(deriveMaxOpenFiles(0, 256), 128);
  assert.equal(deriveMaxOpenFiles(0, undefined), FALLBACK_FD_LIMIT / 2);
  assert.equal(deriveMaxOpenFiles(0, 10), MIN_OPEN_FILES);
  assert.equal(deriveMaxOpenFiles(500, 256), 500);
});

test('fd cache: many concurrent checkpoint writes (open, write, fsync, close, rename) stay within the limit', () =>
  withDir(async (dir) => {
    let live = 0;
    let maxLive = 0;
    class Counting extends NodeFileSystem {
      override async open(p: string, o?: OpenOptions): Promise<FileHandle> {
        const h = await super.open(p, o);
        maxLive = Math.max(maxLive, ++live);
        const close = h.close.bind(h);
        h.close = async () => {
          await close();
          live--;
        };
        return h;
      }
    }
    const fs = new CachingFileSystem(new Counting(), { maxOpen: 8 });
    for (let i = 0; i < 60; i++) await fs.mkdirp(path.join(dir, `p${i}`));
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => writeFileAtomically(fs, path.join(dir, `p${i}`, 'cp'), Buffer.from(`${i}`))),
    );
    assert.ok(maxLive <= 8, `${maxLive} descriptors at once`);
    assert.equal(live, 0);
    for (let i = 0; i < 60; i++) assert.equal((await fs.readFile(path.join(dir, `p${i}`, 'cp'))).toString(), `${i}`);
  }));

test('fd cache: writevNow writes through a held descriptor as a use; false (nothing written) without one', () =>
  withDir(async (dir) => {
    const fs = new CachingFileSystem(new NodeFileSystem(), { maxOpen: 2 });
    const [a, b] = [
      await fs.open(path.join(dir, 'a'), { create: true }),
      await fs.open(path.join(dir, 'b'), { create: true }),
    ];
    // `a` is the least recently used; writing it now makes `b` the one the next open evicts.
    assert.equal(a.writevNow!([Buffer.from('a1')], 0), true);
    assert.equal(readFileSync(path.join(dir, 'a'), 'utf8'), 'a1');
    const c = await fs.open(path.join(dir, 'c'), { create: true });
    assert.deepEqual(
      fdsUnder(dir).sort(),
      ['a', 'c'].map((f) => path.join(dir, f)),
    );
    // `b` holds no descriptor: nothing is written and the caller's async write reopens it.
    assert.equal(b.writevNow!([Buffer.from('b1')], 0), false);
    assert.equal(readFileSync(path.join(dir, 'b'), 'utf8'), '');
    await b.writev([Buffer.from('b1')], 0);
    assert.equal(readFileSync(path.join(dir, 'b'), 'utf8'), 'b1');
    await c.close();
    assert.equal(c.writevNow!([Buffer.from('c1')], 0), false);
    assert.equal(readFileSync(path.join(dir, 'c'), 'utf8'), '');
    await a.close();
    await b.close();
  }));
