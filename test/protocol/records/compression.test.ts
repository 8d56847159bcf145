/**
 * Compression codecs: round trips for every codec and size class, frames checked against independent
 * implementations (the lz4 and zstd command-line tools, python3-lz4 / python3-snappy / python3-xxhash and
 * kafka-python's codec module via /usr/bin/python3, kafkajs's gzip codec), Kafka's lz4 header bytes and the
 * magic-0 header checksum quirk, size limits, and corrupt input raising CorruptRecordError.
 *
 * Tests needing an external tool are skipped when it is missing (Debian: lz4, zstd, python3-kafka,
 * python3-lz4, python3-snappy, python3-xxhash).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import * as lz4napi from 'lz4-napi';
import { CompressionError, CorruptRecordError } from '../../../protocol/errors.js';
import { CompressionType } from '../../../protocol/records/batch-header.js';
import { compress, decompress, isXerialSnappy, xxhash32 } from '../../../protocol/records/compression.js';

const require = createRequire(import.meta.url);
const PY = '/usr/bin/python3';

function hasPython(mods: string): boolean {
  return spawnSync(PY, ['-c', `import ${mods}`]).status === 0;
}
function hasTool(name: string): boolean {
  return spawnSync(name, ['--version']).status === 0;
}
/** Run python code reading hex from stdin (as `data`) and printing hex. */
function py(code: string, input: Buffer = Buffer.alloc(0)): Buffer {
  const script = `import sys, binascii\ndata = binascii.unhexlify(sys.stdin.read().strip())\n${code}\n`;
  const r = spawnSync(PY, ['-c', script], { input: input.toString('hex'), maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr.toString()}`);
  return Buffer.from(r.stdout.toString().trim(), 'hex');
}
function tool(cmd: string, args: string[], input: Buffer): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

const PY_LZ4 = hasPython('lz4.frame, xxhash');
const PY_KAFKA = hasPython('kafka.codec, snappy, lz4, xxhash');
const PY_SNAPPY = hasPython('snappy');
const LZ4_CLI = hasTool('lz4');
const ZSTD_CLI = hasTool('zstd');

const CODECS = [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];

function compressible(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 97 + ((i * 7) % 13) + ((i >> 9) & 3);
  return b;
}

test('round trip for every codec, empty to multi-block, compressible and random', async () => {
  for (const type of CODECS) {
    for (const size of [0, 1, 100, 32 * 1024, 64 * 1024, 64 * 1024 + 1, 300 * 1024]) {
      for (const data of [compressible(size), randomBytes(size)]) {
        const c = await compress(type, data);
        const d = await decompress(type, c);
        assert.ok(d.equals(data), `codec ${type} size ${size}`);
      }
    }
  }
});

test('None passes bytes through; unknown codecs are CompressionError', async () => {
  const b = Buffer.from('abc');
  assert.equal(await compress(CompressionType.None, b), b);
  assert.equal(await decompress(CompressionType.None, b), b);
  await assert.rejects(compress(5, b), CompressionError);
  await assert.rejects(decompress(7, b), CompressionError);
});

test('xxhash32 known values', () => {
  assert.equal(xxhash32(Buffer.alloc(0)), 0x02cc5d05);
  assert.equal(xxhash32(Buffer.from('a')), 0x550d7456);
  assert.equal(xxhash32(Buffer.from('abc')), 0x32d153ff);
  assert.equal(xxhash32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
  assert.equal(xxhash32(Buffer.from('abc'), 0, 3, 1), 0xaa3da8ff);
  const b = Buffer.from('xxabcxx');
  assert.equal(xxhash32(b, 2, 5), 0x32d153ff);
});

test('xxhash32 agrees with python3-xxhash', { skip: !PY_LZ4 && 'python3-xxhash missing' }, () => {
  const inputs = [1, 3, 4, 15, 16, 17, 31, 32, 33, 100, 1000, 4099].map((n) => randomBytes(n));
  const all = Buffer.concat(inputs);
  const sizes = inputs.map((b) => b.length);
  const out = py(
    `import xxhash\nsizes=${JSON.stringify(sizes)}\npos=0\nres=b''\nfor s in sizes:\n` +
      "    res += xxhash.xxh32(data[pos:pos+s]).intdigest().to_bytes(4,'big')\n    pos += s\nprint(res.hex())",
    all,
  );
  inputs.forEach((b, i) => {
    assert.equal(xxhash32(b), out.readUInt32BE(i * 4), `size ${b.length}`);
  });
});

test('lz4 frame header is what Kafka writes', async () => {
  const c = await compress(CompressionType.Lz4, compressible(200 * 1024));
  assert.equal(c.readUInt32LE(0), 0x184d2204);
  assert.equal(c[4], 0x60, 'FLG: version 01, independent blocks, no checksums, no content size');
  assert.equal(c[5], 0x40, 'BD: 64 KiB blocks');
  assert.equal(c[6], (xxhash32(c, 4, 6) >>> 8) & 0xff, 'HC over the descriptor');
  // four blocks of at most 64 KiB each, then the end mark
  let pos = 7;
  let blocks = 0;
  for (;;) {
    const w = c.readUInt32LE(pos);
    pos += 4;
    if (w === 0) break;
    assert.ok((w & 0x7fffffff) <= 65536);
    pos += w & 0x7fffffff;
    blocks++;
  }
  assert.equal(blocks, 4);
  assert.equal(pos, c.length);
  // incompressible data is stored raw (high bit set) rather than expanded
  const r = await compress(CompressionType.Lz4, randomBytes(1000));
  assert.equal(r.readUInt32LE(7), (1000 | 0x80000000) >>> 0);
});

test('lz4 magic 0 quirk: HC over magic+descriptor written, HC ignored on read', async () => {
  const data = compressible(5000);
  const c = await compress(CompressionType.Lz4, data, { legacyMagic0: true });
  assert.equal(c[6], (xxhash32(c, 0, 6) >>> 8) & 0xff);
  assert.notEqual(c[6], (xxhash32(c, 4, 6) >>> 8) & 0xff);
  assert.ok((await decompress(CompressionType.Lz4, c, { legacyMagic0: true })).equals(data));
  await assert.rejects(decompress(CompressionType.Lz4, c), CorruptRecordError);
});

test('lz4 frames from lz4-napi compressFrame (block size chosen by input size) are read', async () => {
  for (const size of [1000, 200 * 1024, 600 * 1024]) {
    const data = compressible(size);
    const frame = lz4napi.compressFrameSync(data);
    assert.equal(frame[4], 0x60);
    assert.ok(frame[5] >= 0x40 && frame[5] <= 0x70);
    assert.ok((await decompress(CompressionType.Lz4, frame)).equals(data));
  }
});

test('lz4: our frames decode with the lz4 CLI', { skip: !LZ4_CLI && 'lz4 CLI missing' }, async () => {
  for (const data of [compressible(300 * 1024), randomBytes(70000), Buffer.alloc(0)]) {
    const c = await compress(CompressionType.Lz4, data);
    assert.ok(tool('lz4', ['-d', '-c', '-q'], c).equals(data));
  }
});

test('lz4: CLI frames (4 MiB blocks, content checksum, content size) decode', {
  skip: !LZ4_CLI && 'lz4 CLI missing',
}, async () => {
  const data = compressible(500 * 1024);
  for (const args of [
    ['-c', '-q'],
    ['-c', '-q', '-B4', '--content-size'],
    ['-c', '-q', '-BX', '-B5'],
  ]) {
    const c = tool('lz4', args, data);
    assert.ok((await decompress(CompressionType.Lz4, c)).equals(data), args.join(' '));
  }
  // dependent blocks: Java Kafka rejects them, so do we
  const linked = tool('lz4', ['-c', '-q', '-BD', '-B4'], data);
  await assert.rejects(decompress(CompressionType.Lz4, linked), CorruptRecordError);
});

test('lz4: python3-lz4 frames and kafka-python encodings', {
  skip: !PY_KAFKA && 'python3-kafka/lz4/xxhash missing',
}, async () => {
  const data = compressible(150 * 1024);
  const variants = [
    'lz4.frame.compress(data, block_linked=False)',
    'lz4.frame.compress(data, block_linked=False, store_size=False, block_size=lz4.frame.BLOCKSIZE_MAX64KB)',
    'lz4.frame.compress(data, block_linked=False, block_checksum=True, content_checksum=True)',
  ];
  for (const v of variants) {
    const c = py(`import lz4.frame\nprint(${v}.hex())`, data);
    assert.ok((await decompress(CompressionType.Lz4, c)).equals(data), v);
  }
  const kp = py('from kafka.codec import lz4_encode\nprint(lz4_encode(data).hex())', data);
  assert.ok((await decompress(CompressionType.Lz4, kp)).equals(data));
  const old = py('from kafka.codec import lz4_encode_old_kafka\nprint(lz4_encode_old_kafka(data).hex())', data);
  assert.ok((await decompress(CompressionType.Lz4, old, { legacyMagic0: true })).equals(data));
  // python decodes ours, including the magic-0 form through kafka-python's old-kafka decoder
  const ours = await compress(CompressionType.Lz4, data);
  assert.ok(py('import lz4.frame\nprint(lz4.frame.decompress(data).hex())', ours).equals(data));
  const oursOld = await compress(CompressionType.Lz4, data, { legacyMagic0: true });
  assert.ok(
    py('from kafka.codec import lz4_decode_old_kafka\nprint(lz4_decode_old_kafka(data).hex())', oursOld).equals(data),
  );
  // corrupted block checksum / content checksum are detected
  const withSums = py(
    'import lz4.frame\n' +
      'print(lz4.frame.compress(data, block_linked=False, block_checksum=True, content_checksum=True).hex())',
    data,
  );
  const bad = Buffer.from(withSums);
  bad[bad.length - 1] ^= 0xff;
  await assert.rejects(decompress(CompressionType.Lz4, bad), CorruptRecordError);
});

test('snappy: xerial framing written like snappy-java', async () => {
  const data = compressible(100 * 1024);
  const c = await compress(CompressionType.Snappy, data);
  assert.ok(isXerialSnappy(c));
  assert.equal(c.subarray(0, 16).toString('hex'), '82534e41505059000000000100000001');
  // 100 KiB in 32 KiB blocks = 4 chunks
  let pos = 16;
  let chunks = 0;
  while (pos < c.length) {
    pos += 4 + c.readInt32BE(pos);
    chunks++;
  }
  assert.equal(chunks, 4);
  assert.equal(pos, c.length);
});

test('snappy: raw blocks and concatenated xerial streams are read', async () => {
  const snappy = require('snappy') as { compressSync(b: Buffer): Buffer };
  const data = compressible(50000);
  assert.ok((await decompress(CompressionType.Snappy, snappy.compressSync(data))).equals(data));
  const a = await compress(CompressionType.Snappy, data.subarray(0, 20000));
  const b = await compress(CompressionType.Snappy, data.subarray(20000));
  assert.ok((await decompress(CompressionType.Snappy, Buffer.concat([a, b]))).equals(data));
});

test('snappy: agrees with kafka-python / python3-snappy', {
  skip: !(PY_KAFKA && PY_SNAPPY) && 'python3-kafka/snappy missing',
}, async () => {
  const data = compressible(90000);
  const xerial = py('from kafka.codec import snappy_encode\nprint(snappy_encode(data).hex())', data);
  const ours = await compress(CompressionType.Snappy, data);
  assert.ok(xerial.equals(ours), 'same xerial bytes as kafka-python (32 KiB blocks)');
  assert.ok((await decompress(CompressionType.Snappy, xerial)).equals(data));
  const raw = py('import snappy\nprint(snappy.compress(data).hex())', data);
  assert.ok((await decompress(CompressionType.Snappy, raw)).equals(data));
  assert.ok(py('from kafka.codec import snappy_decode\nprint(snappy_decode(data).hex())', ours).equals(data));
});

test('gzip: multi-member input, kafkajs codec output, trailing zeros', async () => {
  const data = compressible(40000);
  const half = data.length / 2;
  const two = Buffer.concat([zlib.gzipSync(data.subarray(0, half)), zlib.gzipSync(data.subarray(half))]);
  assert.ok((await decompress(CompressionType.Gzip, two)).equals(data));
  const kafkajsGzip = require('kafkajs/src/protocol/message/compression/gzip') as {
    compress(e: { buffer: Buffer }): Promise<Buffer>;
  };
  const k = await kafkajsGzip.compress({ buffer: data });
  assert.ok((await decompress(CompressionType.Gzip, k)).equals(data));
  const ours = await compress(CompressionType.Gzip, data);
  assert.equal(ours.readUInt16BE(0), 0x1f8b);
  assert.ok(zlib.gunzipSync(ours).equals(data));
});

test('gzip: agrees with kafka-python', { skip: !PY_KAFKA && 'python3-kafka missing' }, async () => {
  const data = compressible(30000);
  const g = py('from kafka.codec import gzip_encode\nprint(gzip_encode(data).hex())', data);
  assert.ok((await decompress(CompressionType.Gzip, g)).equals(data));
  const ours = await compress(CompressionType.Gzip, data);
  assert.ok(py('from kafka.codec import gzip_decode\nprint(gzip_decode(data).hex())', ours).equals(data));
});

test('zstd: CLI decodes ours; streamed, multi-frame and skippable input is read', {
  skip: !ZSTD_CLI && 'zstd CLI missing',
}, async () => {
  const data = compressible(200 * 1024);
  const ours = await compress(CompressionType.Zstd, data);
  assert.equal(ours.readUInt32LE(0), 0xfd2fb528);
  assert.ok(tool('zstd', ['-d', '-c', '-q'], ours).equals(data));
  const streamed = tool('zstd', ['-c', '-q', '--no-check'], data);
  assert.ok((await decompress(CompressionType.Zstd, streamed)).equals(data));
  const skippable = Buffer.alloc(12);
  skippable.writeUInt32LE(0x184d2a50, 0);
  skippable.writeUInt32LE(4, 4);
  const multi = Buffer.concat([streamed, skippable, ours]);
  assert.ok((await decompress(CompressionType.Zstd, multi)).equals(Buffer.concat([data, data])));
});

test('maxSize bounds the decompressed size for every codec', async () => {
  const data = Buffer.alloc(2 * 1024 * 1024); // zeros compress extremely well
  for (const type of CODECS) {
    const c = await compress(type, data);
    await assert.rejects(decompress(type, c, { maxSize: 1024 * 1024 }), CorruptRecordError, `codec ${type}`);
    assert.equal((await decompress(type, c, { maxSize: data.length })).length, data.length);
  }
});

test('corrupt and truncated input is CorruptRecordError for every codec', async () => {
  const data = compressible(100 * 1024);
  for (const type of CODECS) {
    const c = await compress(type, data);
    await assert.rejects(
      decompress(type, c.subarray(0, Math.floor(c.length / 2))),
      CorruptRecordError,
      `truncated ${type}`,
    );
    await assert.rejects(
      decompress(type, Buffer.from('definitely not compressed data')),
      CorruptRecordError,
      `garbage ${type}`,
    );
    for (let cut = 0; cut < Math.min(c.length, 40); cut++) {
      try {
        await decompress(type, c.subarray(0, cut));
      } catch (e) {
        assert.ok(e instanceof CorruptRecordError, `codec ${type} cut ${cut}: ${String(e)}`);
      }
    }
  }
  // lz4 header checks
  const l = await compress(CompressionType.Lz4, data);
  const badHc = Buffer.from(l);
  badHc[6] ^= 0x55;
  await assert.rejects(decompress(CompressionType.Lz4, badHc), CorruptRecordError);
  const badVersion = Buffer.from(l);
  badVersion[4] = 0xa0;
  await assert.rejects(decompress(CompressionType.Lz4, badVersion), CorruptRecordError);
  const badBd = Buffer.from(l);
  badBd[5] = 0x30;
  await assert.rejects(decompress(CompressionType.Lz4, badBd, { legacyMagic0: true }), CorruptRecordError);
  // random bytes after a valid header never crash the process
  for (let i = 0; i < 50; i++) {
    const junk = Buffer.concat([l.subarray(0, 7), randomBytes(200)]);
    try {
      await decompress(CompressionType.Lz4, junk);
    } catch (e) {
      assert.ok(e instanceof CorruptRecordError, String(e));
    }
  }
});
