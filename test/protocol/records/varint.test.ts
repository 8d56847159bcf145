/**
 * Zig-zag varint / varlong: known encodings, round trips over the whole int32/int64 range, agreement with
 * kafkajs's encoder, and bounded failure on over-long or truncated input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { CorruptRecordError, EncodeError } from '../../../protocol/errors.js';
import {
  readVarint,
  readVarlong,
  readVarlongNumber,
  sizeOfVarint,
  sizeOfVarlong,
  skipVarint,
  writeVarint,
  writeVarlong,
} from '../../../protocol/records/varint.js';

const require = createRequire(import.meta.url);
// kafkajs's own encoder: an independent implementation to compare bytes with.
const KafkajsEncoder = require('kafkajs/src/protocol/encoder') as new () => {
  writeVarInt(v: number): unknown;
  writeVarLong(v: unknown): unknown;
  buffer: Buffer;
};

function encVarint(v: number): Buffer {
  const out = Buffer.alloc(10);
  const end = writeVarint(out, 0, v);
  return out.subarray(0, end);
}

function encVarlong(v: bigint | number): Buffer {
  const out = Buffer.alloc(10);
  const end = writeVarlong(out, 0, v);
  return out.subarray(0, end);
}

test('known varint encodings', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-2, '03'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [-65, '8101'],
    [300, 'd804'],
    [2147483647, 'feffffff0f'],
    [-2147483648, 'ffffffff0f'],
  ];
  for (const [v, hex] of cases) {
    assert.equal(encVarint(v).toString('hex'), hex, `encode ${v}`);
    assert.equal(sizeOfVarint(v), hex.length / 2);
    const cur = { pos: 0 };
    assert.equal(readVarint(Buffer.from(hex, 'hex'), cur), v, `decode ${hex}`);
    assert.equal(cur.pos, hex.length / 2);
  }
});

test('known varlong encodings', () => {
  const cases: [bigint, string][] = [
    [0n, '00'],
    [-1n, '01'],
    [1n, '02'],
    [2n ** 31n, '8080808010'],
    [9223372036854775807n, 'feffffffffffffffff01'],
    [-9223372036854775808n, 'ffffffffffffffffff01'],
  ];
  for (const [v, hex] of cases) {
    assert.equal(encVarlong(v).toString('hex'), hex, `encode ${v}`);
    assert.equal(sizeOfVarlong(v), hex.length / 2);
    const cur = { pos: 0 };
    assert.equal(readVarlong(Buffer.from(hex, 'hex'), cur), v, `decode ${hex}`);
    assert.equal(cur.pos, hex.length / 2);
  }
});

function randomInt32(): number {
  const bits = 1 + Math.floor(Math.random() * 32);
  return randomBytes(4).readInt32BE(0) >> (32 - bits);
}

function randomInt64(): bigint {
  const bits = 1n + BigInt(Math.floor(Math.random() * 64));
  return randomBytes(8).readBigInt64BE(0) >> (64n - bits);
}

test('varint round trip and agreement with kafkajs', () => {
  for (let i = 0; i < 5000; i++) {
    const v = randomInt32();
    const ours = encVarint(v);
    const theirs = new KafkajsEncoder();
    theirs.writeVarInt(v);
    assert.deepEqual(ours, theirs.buffer, `value ${v}`);
    assert.equal(sizeOfVarint(v), ours.length);
    assert.equal(readVarint(ours, { pos: 0 }), v);
    assert.equal(skipVarint(ours, 0), ours.length);
  }
});

test('varlong round trip (bigint and number forms) and agreement with kafkajs', () => {
  for (let i = 0; i < 5000; i++) {
    const v = randomInt64();
    const ours = encVarlong(v);
    const theirs = new KafkajsEncoder();
    theirs.writeVarLong(v);
    assert.deepEqual(ours, theirs.buffer, `value ${v}`);
    assert.equal(sizeOfVarlong(v), ours.length);
    assert.equal(readVarlong(ours, { pos: 0 }), v);
    if (v >= -(2n ** 52n) && v <= 2n ** 52n) {
      const n = Number(v);
      assert.deepEqual(encVarlong(n), ours, `number form of ${v}`);
      assert.equal(sizeOfVarlong(n), ours.length);
      assert.equal(readVarlongNumber(ours, { pos: 0 }), n);
    }
  }
});

test('number varlongs beyond 2^52 take the exact bigint path', () => {
  const v = Number.MAX_SAFE_INTEGER;
  assert.deepEqual(encVarlong(v), encVarlong(BigInt(v)));
  assert.deepEqual(encVarlong(-v), encVarlong(BigInt(-v)));
  assert.throws(() => readVarlongNumber(encVarlong(2n ** 60n), { pos: 0 }), CorruptRecordError);
});

test('consecutive values advance a shared cursor', () => {
  const out = Buffer.alloc(64);
  let p = writeVarint(out, 0, -5);
  p = writeVarlong(out, p, 1700000000000n);
  p = writeVarint(out, p, 123456);
  const cur = { pos: 0 };
  assert.equal(readVarint(out, cur), -5);
  assert.equal(readVarlong(out, cur), 1700000000000n);
  assert.equal(readVarint(out, cur, p), 123456);
  assert.equal(cur.pos, p);
});

test('over-long and over-wide encodings are CorruptRecordError', () => {
  // 6-byte varint
  assert.throws(() => readVarint(Buffer.from('808080808000', 'hex'), { pos: 0 }), CorruptRecordError);
  // 5th byte with more than 4 bits
  assert.throws(() => readVarint(Buffer.from('ffffffff1f', 'hex'), { pos: 0 }), CorruptRecordError);
  // 11-byte varlong
  assert.throws(() => readVarlong(Buffer.from('8080808080808080808000', 'hex'), { pos: 0 }), CorruptRecordError);
  // 10th byte with more than 1 bit
  assert.throws(() => readVarlong(Buffer.from('ffffffffffffffffff03', 'hex'), { pos: 0 }), CorruptRecordError);
  assert.throws(() => skipVarint(Buffer.alloc(20, 0x80), 0), CorruptRecordError);
  // all continuation bits: never loops past the limits
  assert.throws(() => readVarint(Buffer.alloc(1000, 0xff), { pos: 0 }), CorruptRecordError);
  assert.throws(() => readVarlong(Buffer.alloc(1000, 0xff), { pos: 0 }), CorruptRecordError);
  assert.throws(() => readVarlongNumber(Buffer.alloc(1000, 0xff), { pos: 0 }), CorruptRecordError);
});

test('truncated input is CorruptRecordError, including an explicit end', () => {
  assert.throws(() => readVarint(Buffer.from('80', 'hex'), { pos: 0 }), CorruptRecordError);
  assert.throws(() => readVarint(Buffer.alloc(0), { pos: 0 }), CorruptRecordError);
  assert.throws(() => readVarlong(Buffer.from('ffff', 'hex'), { pos: 0 }), CorruptRecordError);
  assert.throws(() => readVarlong(Buffer.from('ffffffffff', 'hex'), { pos: 0 }), CorruptRecordError);
  const b = encVarint(300);
  assert.throws(() => readVarint(b, { pos: 0 }, 1), CorruptRecordError);
  assert.throws(() => readVarint(b, { pos: 2 }), CorruptRecordError);
});

test('writers reject values outside their type', () => {
  const out = Buffer.alloc(16);
  assert.throws(() => writeVarint(out, 0, 2 ** 31), EncodeError);
  assert.throws(() => writeVarint(out, 0, 1.5), EncodeError);
  assert.throws(() => writeVarlong(out, 0, 2n ** 63n), EncodeError);
  assert.throws(() => writeVarlong(out, 0, 0.5), EncodeError);
});
