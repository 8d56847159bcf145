/**
 * protocol/consumer-protocol.ts, the one reader/writer of classic consumer groups' member metadata and
 * assignments: versions 0..3 round-trip (fields a version lacks come back at their defaults), the default
 * written version is 3, bytes are Kafka's layout, a newer version is read at our highest known one (its
 * extra bytes ignored), and a negative version or truncated bytes throw a coded error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ASSIGNMENT_VERSION,
  SUBSCRIPTION_VERSION,
  decodeConsumerAssignment,
  decodeConsumerSubscription,
  encodeConsumerAssignment,
  encodeConsumerSubscription,
  type ConsumerProtocolAssignment,
  type ConsumerProtocolSubscription,
} from '../../protocol/consumer-protocol.js';
import { DecodeError, type RunnelError, UnsupportedVersionError } from '../../protocol/errors.js';

const SUB: ConsumerProtocolSubscription = {
  topics: ['orders', 'payments'],
  userData: Buffer.from([1, 2, 3]),
  ownedPartitions: [{ topic: 'orders', partitions: [0, 2] }],
  generationId: 7,
  rackId: 'rack-a',
};

const ASSIGNMENT: ConsumerProtocolAssignment = {
  assignedPartitions: [
    { topic: 'orders', partitions: [1, 3] },
    { topic: 'payments', partitions: [0] },
  ],
  userData: Buffer.from('hi'),
};

/** SUB as read back from bytes written at `v`: fields added after v are at their defaults. */
function subAt(v: number): ConsumerProtocolSubscription {
  return {
    topics: SUB.topics,
    userData: SUB.userData,
    ownedPartitions: v >= 1 ? SUB.ownedPartitions : [],
    generationId: v >= 2 ? SUB.generationId : -1,
    rackId: v >= 3 ? SUB.rackId : null,
  };
}

function withVersion(version: number, encoded: Buffer): Buffer {
  const b = Buffer.from(encoded);
  b.writeInt16BE(version, 0);
  return b;
}

function assertCoded(fn: () => unknown, cls: typeof RunnelError, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof cls && (e as RunnelError).code === code);
}

test('highest known versions are 3', () => {
  assert.equal(SUBSCRIPTION_VERSION, 3);
  assert.equal(ASSIGNMENT_VERSION, 3);
});

test('subscription versions 0..3 round-trip, with the version as an int16 prefix', () => {
  for (let v = 0; v <= 3; v++) {
    const b = encodeConsumerSubscription(SUB, v);
    assert.equal(b.readInt16BE(0), v);
    assert.deepEqual(decodeConsumerSubscription(b), subAt(v), `version ${v}`);
  }
  const dflt = encodeConsumerSubscription(SUB);
  assert.equal(dflt.readInt16BE(0), 3);
  assert.deepEqual(dflt, encodeConsumerSubscription(SUB, 3));
});

test('assignment versions 0..3 round-trip, with the version as an int16 prefix', () => {
  for (let v = 0; v <= 3; v++) {
    const b = encodeConsumerAssignment(ASSIGNMENT, v);
    assert.equal(b.readInt16BE(0), v);
    assert.deepEqual(decodeConsumerAssignment(b), ASSIGNMENT, `version ${v}`);
  }
  const dflt = encodeConsumerAssignment(ASSIGNMENT);
  assert.equal(dflt.readInt16BE(0), 3);
  assert.deepEqual(dflt, encodeConsumerAssignment(ASSIGNMENT, 3));
});

test("bytes are Kafka's layout", () => {
  const sub = encodeConsumerSubscription(
    { topics: ['t'], userData: null, ownedPartitions: [], generationId: -1, rackId: null },
    0,
  );
  assert.deepEqual(sub, Buffer.from('0000' + '00000001' + '000174' + 'ffffffff', 'hex'));
  const a = encodeConsumerAssignment({ assignedPartitions: [{ topic: 't', partitions: [5] }], userData: null }, 0);
  assert.deepEqual(a, Buffer.from('0000' + '00000001' + '000174' + '00000001' + '00000005' + 'ffffffff', 'hex'));
});

test('a version above the highest known is read at the highest known, extra bytes ignored', () => {
  const extra = Buffer.from([0, 0, 0, 9, 0xab]); // fields a future version might append
  for (const v of [4, 5, 0x7fff]) {
    const sub = Buffer.concat([withVersion(v, encodeConsumerSubscription(SUB, 3)), extra]);
    assert.deepEqual(decodeConsumerSubscription(sub), SUB, `subscription version ${v}`);
    const a = Buffer.concat([withVersion(v, encodeConsumerAssignment(ASSIGNMENT, 3)), extra]);
    assert.deepEqual(decodeConsumerAssignment(a), ASSIGNMENT, `assignment version ${v}`);
  }
});

test('a negative version throws UnsupportedVersionError', () => {
  for (const v of [-1, -2, -0x8000]) {
    const sub = withVersion(v, encodeConsumerSubscription(SUB, 0));
    assertCoded(() => decodeConsumerSubscription(sub), UnsupportedVersionError, 'ERR_UNSUPPORTED_VERSION');
    assert.throws(() => decodeConsumerSubscription(sub), { message: `Unsupported subscription version: ${v}` });
    const a = withVersion(v, encodeConsumerAssignment(ASSIGNMENT, 0));
    assertCoded(() => decodeConsumerAssignment(a), UnsupportedVersionError, 'ERR_UNSUPPORTED_VERSION');
    assert.throws(() => decodeConsumerAssignment(a), { message: `Unsupported assignment version: ${v}` });
  }
});

test('truncated bytes (empty, short version, any cut of the body) throw DecodeError', () => {
  for (let v = 0; v <= 3; v++) {
    const sub = encodeConsumerSubscription(SUB, v);
    for (let n = 0; n < sub.length; n++) {
      assertCoded(() => decodeConsumerSubscription(sub.subarray(0, n)), DecodeError, 'ERR_DECODE');
    }
    const a = encodeConsumerAssignment(ASSIGNMENT, v);
    for (let n = 0; n < a.length; n++) {
      assertCoded(() => decodeConsumerAssignment(a.subarray(0, n)), DecodeError, 'ERR_DECODE');
    }
  }
});

test('writing an unknown version throws UnsupportedVersionError', () => {
  for (const v of [-1, 4]) {
    assertCoded(() => encodeConsumerSubscription(SUB, v), UnsupportedVersionError, 'ERR_UNSUPPORTED_VERSION');
    assertCoded(() => encodeConsumerAssignment(ASSIGNMENT, v), UnsupportedVersionError, 'ERR_UNSUPPORTED_VERSION');
  }
});
