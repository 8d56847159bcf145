import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  CheckpointFile,
  LEADER_EPOCH_CHECKPOINT_FORMAT,
  OffsetCheckpointFile,
  writeFileAtomically,
} from '../../storage/checkpoint.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { NodeFileSystem, ensureDirDurable } from '../../storage/fs.js';
import { tempDir } from './helpers.js';

test('offset checkpoint uses Kafka text format and round-trips (real files)', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const fs = new NodeFileSystem();
    const f = new OffsetCheckpointFile(fs, path.join(dir, 'recovery-point-offset-checkpoint'));
    assert.equal((await f.read()).size, 0);
    await f.write([
      { topic: 'orders', partition: 0, offset: 42 },
      { topic: 'my-topic', partition: 12, offset: 2 ** 40 },
    ]);
    assert.equal((await fs.readFile(f.path)).toString(), '0\n2\norders 0 42\nmy-topic 12 1099511627776\n');
    assert.deepEqual(
      [...(await f.read())],
      [
        ['orders-0', 42],
        ['my-topic-12', 2 ** 40],
      ],
    );
    assert.deepEqual((await fs.readdir(dir)).sort(), ['recovery-point-offset-checkpoint']);
  } finally {
    await cleanup();
  }
});

test('malformed checkpoints raise StorageError', async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp('/d');
  const f = new CheckpointFile(fs, '/d/c', LEADER_EPOCH_CHECKPOINT_FORMAT);
  for (const bad of ['', '1\n0\n', '0\n2\n1 2\n', '0\nx\n', '0\n1\n1 two\n']) {
    await fs.writeFile('/d/c', Buffer.from(bad));
    await assert.rejects(
      f.read(),
      (e: unknown) => (e as { code?: string }).code === 'ERR_STORAGE',
      JSON.stringify(bad),
    );
  }
  await f.write([{ epoch: 3, startOffset: 10 }]);
  assert.deepEqual(await f.read(), [{ epoch: 3, startOffset: 10 }]);
});

test('atomic replace survives power loss as old-or-new', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, '/d');
  await writeFileAtomically(fs, '/d/f', Buffer.from('one'));
  fs.powerLoss();
  assert.equal((await fs.readFile('/d/f')).toString(), 'one');
  // Crash after the tmp write but before the rename: old content stays.
  fs.failNextSync({ path: '/d/f.tmp' });
  await assert.rejects(writeFileAtomically(fs, '/d/f', Buffer.from('two')));
  fs.powerLoss();
  assert.equal((await fs.readFile('/d/f')).toString(), 'one');
  await writeFileAtomically(fs, '/d/f', Buffer.from('three'));
  fs.powerLoss();
  assert.equal((await fs.readFile('/d/f')).toString(), 'three');
});
