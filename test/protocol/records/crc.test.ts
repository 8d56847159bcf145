/**
 * CRC-32C and CRC-32 (IEEE): published check values, RFC 3720 (iSCSI) CRC-32C vectors, ranges, incremental
 * updates, and a cross-check against the independent pure-JS `crc-32` package on random data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import crcIeee from 'crc-32';
import crcC from 'crc-32/crc32c.js';
import { crc32, crc32c, crc32cUpdate, crc32Update } from '../../../protocol/records/crc.js';

test('crc32c check value and RFC 3720 B.4 vectors', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32, 0x00)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
});

test('crc32 (IEEE) check value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.from('The quick brown fox jumps over the lazy dog')), 0x414fa339);
  assert.equal(crc32(Buffer.alloc(0)), 0);
});

test('results are unsigned 32-bit numbers', () => {
  for (let i = 0; i < 200; i++) {
    const b = randomBytes(1 + (i % 50));
    for (const v of [crc32c(b), crc32(b)]) {
      assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
    }
  }
});

test('start/end select a range, like hashing a subarray', () => {
  const b = randomBytes(300);
  assert.equal(crc32c(b, 21), crc32c(b.subarray(21)));
  assert.equal(crc32c(b, 10, 200), crc32c(Buffer.from(b.subarray(10, 200))));
  assert.equal(crc32(b, 16), crc32(b.subarray(16)));
  assert.equal(crc32(b, 5, 6), crc32(Buffer.from([b[5]])));
  assert.equal(crc32c(b, 7, 7), 0);
});

test('incremental updates equal one pass', () => {
  const a = randomBytes(1000);
  const b = randomBytes(777);
  const whole = Buffer.concat([a, b]);
  assert.equal(crc32cUpdate(crc32c(a), b), crc32c(whole));
  assert.equal(crc32Update(crc32(a), b), crc32(whole));
});

test('agrees with the pure-JS crc-32 package on random buffers', () => {
  for (const size of [1, 3, 7, 8, 15, 16, 17, 63, 64, 65, 255, 1024, 4097, 65536, 1 << 20]) {
    const b = randomBytes(size);
    assert.equal(crc32c(b), crcC.buf(b) >>> 0, `crc32c size ${size}`);
    assert.equal(crc32(b), crcIeee.buf(b) >>> 0, `crc32 size ${size}`);
  }
});
