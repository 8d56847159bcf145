/**
 * Authorization in the data-path handlers (Produce, Fetch, ListOffsets, OffsetCommit, OffsetFetch,
 * FindCoordinator, JoinGroup), over raw protocol requests with a RuleAuthorizer plugged in: a denied part answers
 * Kafka's code and writes or reveals nothing; an allowed part works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { RuleAuthorizer } from '../../helpers/rule-authorizer.js';
import { RawClient } from '../../helpers/raw-client.js';
import { AclOperation as Op, AclResourceType as Res } from '../../../broker/authorizer.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { defaultProduceRequest, encodeProduceRequest } from '../../../protocol/generated/produce-request.js';
import { decodeProduceResponse } from '../../../protocol/generated/produce-response.js';
import { defaultFetchRequest, encodeFetchRequest } from '../../../protocol/generated/fetch-request.js';
import { decodeFetchResponse } from '../../../protocol/generated/fetch-response.js';
import {
  defaultListOffsetsRequest,
  encodeListOffsetsRequest,
} from '../../../protocol/generated/list-offsets-request.js';
import { decodeListOffsetsResponse } from '../../../protocol/generated/list-offsets-response.js';
import {
  defaultOffsetCommitRequest,
  encodeOffsetCommitRequest,
} from '../../../protocol/generated/offset-commit-request.js';
import { decodeOffsetCommitResponse } from '../../../protocol/generated/offset-commit-response.js';
import {
  defaultOffsetFetchRequest,
  encodeOffsetFetchRequest,
} from '../../../protocol/generated/offset-fetch-request.js';
import { decodeOffsetFetchResponse } from '../../../protocol/generated/offset-fetch-response.js';
import {
  defaultFindCoordinatorRequest,
  encodeFindCoordinatorRequest,
} from '../../../protocol/generated/find-coordinator-request.js';
import { decodeFindCoordinatorResponse } from '../../../protocol/generated/find-coordinator-response.js';
import { defaultJoinGroupRequest, encodeJoinGroupRequest } from '../../../protocol/generated/join-group-request.js';
import { decodeJoinGroupResponse } from '../../../protocol/generated/join-group-response.js';

const ZERO = 'AAAAAAAAAAAAAAAAAAAAAA';
const auth = new RuleAuthorizer();
const env = useBrokerAndClient({
  topics: [
    { name: 'open', partitions: 1 },
    { name: 'secret', partitions: 1 },
  ],
  setup: async (b) => {
    b.broker.authorizer = auth;
  },
});

const leo = (topic: string): number => env.broker.broker.logs.getLog(topic, 0)!.logEndOffset;

async function produce(topics: string[], opts: { transactionalId?: string; transactional?: boolean } = {}) {
  const req = defaultProduceRequest();
  req.acks = -1;
  req.timeoutMs = 5000;
  req.transactionalId = opts.transactionalId ?? null;
  const batch = Buffer.from(
    await buildRecordBatch(
      [{ key: 'k', value: 'v' }],
      opts.transactional ? { producerId: 1, producerEpoch: 0, baseSequence: 0, transactional: true } : {},
    ),
  );
  req.topicData = topics.map((name) => ({ name, topicId: ZERO, partitionData: [{ index: 0, records: batch }] }));
  const res = await call(env.client, 0, 9, encodeProduceRequest, decodeProduceResponse, req);
  return res.responses.map((t) => [t.name, t.partitionResponses[0]!.errorCode]);
}

test('Produce: WRITE per topic; denied (even unknown) topics answer TOPIC_AUTHORIZATION_FAILED', async () => {
  auth.set([{ operation: Op.WRITE, resourceType: Res.TOPIC, name: 'open' }]);
  const before = [leo('open'), leo('secret')];
  assert.deepEqual(await produce(['open', 'secret', 'no-such-topic']), [
    ['open', ErrorCode.NONE],
    ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ['no-such-topic', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
  ]);
  assert.deepEqual([leo('open'), leo('secret')], [before[0]! + 1, before[1]]);
  assert.ok(auth.asked.some((a) => a.operation === Op.WRITE && a.resourceName === 'secret' && !a.allowed));
});

test('Produce acks=0: a denied topic closes the connection (no answer), an allowed one does not', async () => {
  auth.set([{ operation: Op.WRITE, resourceType: Res.TOPIC, name: 'open' }]);
  const batch = Buffer.from(await buildRecordBatch([{ key: 'k', value: 'v' }]));
  const req = (name: string) => {
    const r = defaultProduceRequest();
    r.acks = 0;
    r.timeoutMs = 5000;
    r.topicData = [{ name, topicId: ZERO, partitionData: [{ index: 0, records: batch }] }];
    return r;
  };
  const c = await RawClient.connect(env.broker.port);
  try {
    const before = [leo('open'), leo('secret')];
    c.send(0, 9, (w) => encodeProduceRequest(w, 9, req('open')));
    c.send(0, 9, (w) => encodeProduceRequest(w, 9, req('secret')));
    assert.equal(await c.receive(10_000), null, 'closed without a response');
    assert.equal(c.closed, true);
    assert.deepEqual([leo('open'), leo('secret')], [before[0]! + 1, before[1]]);
  } finally {
    c.socket.destroy();
  }
});

test('Produce: transactional batches need WRITE on the TransactionalId, else all is refused', async () => {
  auth.set([{ operation: Op.WRITE, resourceType: Res.TOPIC, name: '*' }]);
  const before = [leo('open'), leo('secret')];
  assert.deepEqual(await produce(['open', 'secret'], { transactionalId: 'tx', transactional: true }), [
    ['open', ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
    ['secret', ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
  ]);
  assert.deepEqual([leo('open'), leo('secret')], before);
});

test('Fetch: READ per topic; a denied partition has no records and no offsets', async () => {
  auth.set([{ operation: Op.READ, resourceType: Res.TOPIC, name: 'open' }]);
  const req = defaultFetchRequest();
  req.replicaId = -1;
  req.maxWaitMs = 0;
  req.maxBytes = 1 << 20;
  req.topics = ['open', 'secret'].map((topic) => ({
    topic,
    topicId: ZERO,
    partitions: [
      {
        partition: 0,
        currentLeaderEpoch: -1,
        fetchOffset: 0n,
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: 1 << 20,
        replicaDirectoryId: ZERO,
        highWatermark: -1n,
      },
    ],
  }));
  const res = await call(env.client, 1, 11, encodeFetchRequest, decodeFetchResponse, req);
  const [open, secret] = res.responses.map((t) => t.partitions[0]!);
  assert.equal(open!.errorCode, ErrorCode.NONE);
  assert.ok((open!.records?.length ?? 0) > 0);
  assert.equal(secret!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.equal(secret!.highWatermark, -1n);
  assert.equal(secret!.records?.length ?? 0, 0);
});

test('ListOffsets: DESCRIBE per topic (WRITE implies it)', async () => {
  auth.set([{ operation: Op.WRITE, resourceType: Res.TOPIC, name: 'open' }]);
  const req = defaultListOffsetsRequest();
  req.replicaId = -1;
  req.topics = ['open', 'secret'].map((name) => ({
    name,
    partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }],
  }));
  const res = await call(env.client, 2, 5, encodeListOffsetsRequest, decodeListOffsetsResponse, req);
  const [open, secret] = res.topics.map((t) => t.partitions[0]!);
  assert.equal(open!.errorCode, ErrorCode.NONE);
  assert.equal(open!.offset, BigInt(leo('open')));
  assert.equal(secret!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.equal(secret!.offset, -1n);
});

async function commit(groupId: string, topics: string[]) {
  const req = defaultOffsetCommitRequest();
  req.groupId = groupId;
  req.generationIdOrMemberEpoch = -1;
  req.topics = topics.map((name) => ({
    name,
    topicId: ZERO,
    partitions: [
      { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: '', commitTimestamp: -1n },
    ],
  }));
  const res = await call(env.client, 8, 8, encodeOffsetCommitRequest, decodeOffsetCommitResponse, req);
  return res.topics.map((t) => [t.name, t.partitions[0]!.errorCode]);
}

async function fetchCommitted(groupId: string, topics: string[] | null) {
  const req = defaultOffsetFetchRequest();
  req.groupId = groupId;
  req.topics = topics === null ? null : topics.map((name) => ({ name, partitionIndexes: [0] }));
  return call(env.client, 9, 7, encodeOffsetFetchRequest, decodeOffsetFetchResponse, req);
}

test('OffsetCommit: READ on the group, then READ per topic; denied offsets are not committed', async () => {
  auth.set([
    { operation: Op.READ, resourceType: Res.TOPIC, name: 'open' },
    { operation: Op.DESCRIBE, resourceType: Res.GROUP, name: '*' },
  ]);
  assert.deepEqual(await commit('g-denied', ['open']), [['open', ErrorCode.GROUP_AUTHORIZATION_FAILED]]);
  auth.rules.push({ operation: Op.READ, resourceType: Res.GROUP, name: 'g-ok' });
  assert.deepEqual(await commit('g-ok', ['open', 'secret']), [
    ['open', ErrorCode.NONE],
    ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
  ]);
  auth.set([
    { operation: Op.ALL, resourceType: Res.GROUP, name: '*' },
    { operation: Op.ALL, resourceType: Res.TOPIC, name: '*' },
  ]);
  const denied = await fetchCommitted('g-denied', ['open']);
  assert.equal(denied.topics[0]!.partitions[0]!.committedOffset, -1n);
  const ok = await fetchCommitted('g-ok', null);
  assert.deepEqual(
    ok.topics.map((t) => [t.name, t.partitions[0]!.committedOffset]),
    [['open', 1n]],
  );
});

test('OffsetFetch: DESCRIBE on the group (top-level error), DESCRIBE per topic (filtered or erred)', async () => {
  auth.set([
    { operation: Op.READ, resourceType: Res.GROUP, name: '*' },
    { operation: Op.READ, resourceType: Res.TOPIC, name: '*' },
  ]);
  assert.deepEqual(await commit('g-both', ['open', 'secret']), [
    ['open', ErrorCode.NONE],
    ['secret', ErrorCode.NONE],
  ]);
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: 'open' }]);
  const denied = await fetchCommitted('g-both', ['open']);
  assert.equal(denied.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  assert.deepEqual(denied.topics, []);
  auth.rules.push({ operation: Op.DESCRIBE, resourceType: Res.GROUP, name: 'g-both' });
  const all = await fetchCommitted('g-both', null);
  assert.deepEqual(
    all.topics.map((t) => t.name),
    ['open'],
  );
  const some = await fetchCommitted('g-both', ['open', 'secret']);
  const byName = new Map(some.topics.map((t) => [t.name, t.partitions[0]!]));
  assert.equal(byName.get('open')!.committedOffset, 1n);
  assert.equal(byName.get('secret')!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.equal(byName.get('secret')!.committedOffset, -1n);
});

test('FindCoordinator: DESCRIBE on the group / TransactionalId, per key (v4)', async () => {
  auth.set([
    { operation: Op.DESCRIBE, resourceType: Res.GROUP, prefix: 'ok-' },
    { operation: Op.WRITE, resourceType: Res.TRANSACTIONAL_ID, name: 'tx-ok' },
  ]);
  const req = defaultFindCoordinatorRequest();
  req.keyType = 0;
  req.coordinatorKeys = ['ok-1', 'nope'];
  const res = await call(env.client, 10, 4, encodeFindCoordinatorRequest, decodeFindCoordinatorResponse, req);
  assert.deepEqual(
    res.coordinators.map((c) => [c.key, c.errorCode, c.nodeId >= 0]),
    [
      ['ok-1', ErrorCode.NONE, true],
      ['nope', ErrorCode.GROUP_AUTHORIZATION_FAILED, false],
    ],
  );
  req.keyType = 1;
  req.coordinatorKeys = ['tx-ok', 'tx-no'];
  const txn = await call(env.client, 10, 4, encodeFindCoordinatorRequest, decodeFindCoordinatorResponse, req);
  assert.deepEqual(
    txn.coordinators.map((c) => c.errorCode),
    [ErrorCode.NONE, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
  );
});

test('JoinGroup: READ on the group, else GROUP_AUTHORIZATION_FAILED and no member joins', async () => {
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.GROUP, name: '*' }]);
  const req = defaultJoinGroupRequest();
  req.groupId = 'jg';
  req.sessionTimeoutMs = 10_000;
  req.rebalanceTimeoutMs = 10_000;
  req.protocolType = 'consumer';
  req.protocols = [{ name: 'range', metadata: Buffer.alloc(0) }];
  const res = await call(env.client, 11, 5, encodeJoinGroupRequest, decodeJoinGroupResponse, req);
  assert.equal(res.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  assert.equal(res.memberId, '');
  assert.equal(env.broker.broker.groups.groups.get('jg'), undefined);
});
