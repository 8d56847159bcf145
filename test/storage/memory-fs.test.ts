import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FileSystemError, ensureDirDurable, readAt } from '../../storage/fs.js';

test('basic file and directory operations', async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp('/a/b');
  const h = await fs.open('/a/b/f', { create: true });
  await h.writev([Buffer.from('hello '), Buffer.from('world')], 0);
  await h.writev([Buffer.from('W')], 6);
  assert.equal(await h.size(), 11);
  assert.equal((await readAt(h, 0, 100)).toString(), 'hello World');
  await h.truncate(5);
  assert.equal((await fs.readFile('/a/b/f')).toString(), 'hello');
  assert.deepEqual(await fs.readdir('/a/b'), ['f']);
  assert.equal((await fs.stat('/a')).isDirectory, true);
  await fs.rename('/a/b/f', '/a/g');
  assert.equal(await fs.exists('/a/b/f'), false);
  assert.equal((await fs.readFile('/a/g')).toString(), 'hello');
  await assert.rejects(fs.open('/nope'), (e: unknown) => e instanceof FileSystemError && e.errno === 'ENOENT');
  await fs.rmrf('/a');
  assert.equal(await fs.exists('/a/g'), false);
  await h.close();
  await assert.rejects(h.size(), (e: unknown) => e instanceof FileSystemError && e.errno === 'EBADF');
});

test('power loss keeps synced data only; names need a directory fsync', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, '/d');
  const h = await fs.open('/d/f', { create: true });
  await h.writev([Buffer.from('durable')], 0);
  await h.sync();
  await h.writev([Buffer.from('-volatile')], 7);
  // File synced but its name is not durable yet.
  const lost = await fs.open('/d/lost', { create: true });
  await lost.writev([Buffer.from('x')], 0);
  await lost.sync();
  fs.powerLoss();
  assert.equal(await fs.exists('/d/f'), false, 'entry was never made durable');
  await assert.rejects(h.size(), /power loss/);

  const h2 = await fs.open('/d/f', { create: true });
  await h2.writev([Buffer.from('durable')], 0);
  await h2.sync();
  await fs.syncDir('/d');
  await h2.writev([Buffer.from('-volatile')], 7);
  fs.powerLoss();
  assert.equal((await fs.readFile('/d/f')).toString(), 'durable');
});

test('renames are atomic and durable after the directory fsync; torn tails can be kept', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, '/d');
  await fs.writeFile('/d/x', Buffer.from('old'));
  const hx = await fs.open('/d/x');
  await hx.sync();
  await fs.syncDir('/d');
  await fs.writeFile('/d/x.tmp', Buffer.from('new'));
  const ht = await fs.open('/d/x.tmp');
  await ht.sync();
  await fs.rename('/d/x.tmp', '/d/x');
  fs.powerLoss();
  assert.equal((await fs.readFile('/d/x')).toString(), 'old');

  const h = await fs.open('/d/x');
  await h.writev([Buffer.from('-tail-bytes')], 3);
  fs.powerLoss({ keepUnsyncedBytes: 4 });
  assert.equal((await fs.readFile('/d/x')).toString(), 'old-tai');
});

test('failNextWrite can write a prefix then fail; failNextSync makes nothing durable', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, '/d');
  const h = await fs.open('/d/f', { create: true });
  await fs.syncDir('/d');
  fs.failNextWrite({ partialBytes: 3 });
  await assert.rejects(
    h.writev([Buffer.from('abcdef')], 0),
    (e: unknown) => e instanceof FileSystemError && e.errno === 'EIO',
  );
  assert.equal((await fs.readFile('/d/f')).toString(), 'abc');
  await h.writev([Buffer.from('abcdef')], 0);
  fs.failNextSync();
  await assert.rejects(h.sync(), /injected sync failure/);
  fs.powerLoss();
  assert.equal((await fs.readFile('/d/f')).length, 0);
  assert.equal(fs.stats.fileSyncs, 0);
});

test('a sync covers writes made before it started, not during it', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, '/d');
  const h = await fs.open('/d/f', { create: true });
  await fs.syncDir('/d');
  await h.writev([Buffer.from('AAAA')], 0);
  const s = h.sync();
  await h.writev([Buffer.from('BBBB')], 4);
  await s;
  fs.powerLoss();
  assert.equal((await fs.readFile('/d/f')).toString(), 'AAAA');
  const h2 = await fs.open('/d/f');
  await h2.writev([Buffer.from('CC')], 2);
  await h2.sync();
  fs.powerLoss();
  assert.equal((await fs.readFile('/d/f')).toString(), 'AACC');
});
