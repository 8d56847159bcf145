/**
 * Authorization of DescribeTransactions (DESCRIBE TransactionalId, topics filtered by DESCRIBE), ListTransactions
 * (filtered by DESCRIBE), ConsumerGroupHeartbeat (READ group, DESCRIBE on subscribed topics) and
 * ConsumerGroupDescribe (DESCRIBE group), over raw protocol requests with a RuleAuthorizer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { RuleAuthorizer } from '../../helpers/rule-authorizer.js';
import { AclOperation as Op, AclResourceType as Res } from '../../../broker/authorizer.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { addPartitions, describeTxns, initTxn, listTxns } from '../../helpers/txn-client.js';
import {
  defaultConsumerGroupHeartbeatRequest,
  encodeConsumerGroupHeartbeatRequest,
} from '../../../protocol/generated/consumer-group-heartbeat-request.js';
import { decodeConsumerGroupHeartbeatResponse } from '../../../protocol/generated/consumer-group-heartbeat-response.js';
import { encodeConsumerGroupDescribeRequest } from '../../../protocol/generated/consumer-group-describe-request.js';
import { decodeConsumerGroupDescribeResponse } from '../../../protocol/generated/consumer-group-describe-response.js';

const auth = new RuleAuthorizer();
const env = useBrokerAndClient({
  topics: [
    { name: 'a', partitions: 1 },
    { name: 'b', partitions: 1 },
  ],
  setup: async (b) => {
    b.broker.authorizer = auth;
  },
});

test('DescribeTransactions: DESCRIBE on the id, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED; topics cut', async () => {
  const p = await initTxn(env.broker, 'tx-1');
  auth.set([
    { operation: Op.WRITE, resourceType: Res.TRANSACTIONAL_ID, name: '*' },
    { operation: Op.WRITE, resourceType: Res.TOPIC, name: '*' },
  ]);
  const added = await addPartitions(env.client, 3, p, [
    { name: 'a', partitions: [0] },
    { name: 'b', partitions: [0] },
  ]);
  assert.deepEqual([...added.values()], [ErrorCode.NONE, ErrorCode.NONE]);
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: '*' }]);
  const denied = await describeTxns(env.client, ['tx-1', 'no-such']);
  assert.deepEqual(
    denied.transactionStates.map((s) => [s.transactionalId, s.errorCode, s.topics.length]),
    [
      ['tx-1', ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 0],
      ['no-such', ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 0],
    ],
  );
  assert.equal(denied.transactionStates[0]!.producerId, -1n);
  auth.set([
    { operation: Op.DESCRIBE, resourceType: Res.TRANSACTIONAL_ID, name: '*' },
    { operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: 'a' },
  ]);
  const ok = await describeTxns(env.client, ['tx-1', 'no-such']);
  assert.equal(ok.transactionStates[0]!.errorCode, ErrorCode.NONE);
  assert.equal(ok.transactionStates[0]!.transactionState, 'Ongoing');
  assert.deepEqual(ok.transactionStates[0]!.topics, [{ topic: 'a', partitions: [0] }]);
  assert.equal(ok.transactionStates[1]!.errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
});

test('ListTransactions: only the ids the principal may DESCRIBE', async () => {
  await initTxn(env.broker, 'tx-open');
  await initTxn(env.broker, 'tx-hidden');
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.TRANSACTIONAL_ID, name: 'tx-open' }]);
  const res = await listTxns(env.client, 0);
  assert.deepEqual(
    res.transactionStates.map((s) => s.transactionalId),
    ['tx-open'],
  );
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.TRANSACTIONAL_ID, prefix: 'tx-' }]);
  const all = await listTxns(env.client, 0);
  assert.ok(all.transactionStates.some((s) => s.transactionalId === 'tx-hidden'));
});

function heartbeat(groupId: string, topics: string[]) {
  return call(env.client, 68, 1, encodeConsumerGroupHeartbeatRequest, decodeConsumerGroupHeartbeatResponse, {
    ...defaultConsumerGroupHeartbeatRequest(),
    groupId,
    memberId: 'member-one-0000000000',
    memberEpoch: 0,
    rebalanceTimeoutMs: 5000,
    subscribedTopicNames: topics,
    topicPartitions: [],
  });
}

function describeGroups(groupIds: string[]) {
  return call(env.client, 69, 0, encodeConsumerGroupDescribeRequest, decodeConsumerGroupDescribeResponse, {
    groupIds,
    includeAuthorizedOperations: false,
  });
}

test('ConsumerGroupHeartbeat: READ on the group and DESCRIBE on every subscribed topic', async () => {
  auth.set([{ operation: Op.READ, resourceType: Res.TOPIC, name: '*' }]);
  assert.equal((await heartbeat('cg', ['a'])).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  auth.set([
    { operation: Op.READ, resourceType: Res.GROUP, name: 'cg' },
    { operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: 'a' },
  ]);
  assert.equal((await heartbeat('cg', ['a', 'b'])).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.GROUP, name: '*' }]);
  const none = await describeGroups(['cg']);
  assert.equal(none.groups[0]!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND, 'denied heartbeats created no group');
  auth.set([
    { operation: Op.READ, resourceType: Res.GROUP, name: 'cg' },
    { operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: '*' },
  ]);
  const ok = await heartbeat('cg', ['a', 'b']);
  assert.equal(ok.errorCode, ErrorCode.NONE, ok.errorMessage ?? '');
  assert.ok(ok.memberEpoch > 0);
});

test('ConsumerGroupDescribe: DESCRIBE on the group, else GROUP_AUTHORIZATION_FAILED first, nothing else', async () => {
  auth.set([{ operation: Op.READ, resourceType: Res.GROUP, name: 'cg2' }]);
  assert.equal((await heartbeat('cg2', ['a'])).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  auth.set([
    { operation: Op.READ, resourceType: Res.GROUP, name: 'cg2' },
    { operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: '*' },
  ]);
  assert.equal((await heartbeat('cg2', ['a'])).errorCode, ErrorCode.NONE);
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.GROUP, name: 'other' }]);
  const denied = await describeGroups(['cg2', 'other']);
  assert.deepEqual(
    denied.groups.map((g) => [g.groupId, g.errorCode, g.members.length]),
    [
      ['cg2', ErrorCode.GROUP_AUTHORIZATION_FAILED, 0],
      ['other', ErrorCode.GROUP_ID_NOT_FOUND, 0],
    ],
  );
  assert.equal(denied.groups[0]!.groupState, '');
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.GROUP, name: '*' }]);
  const ok = await describeGroups(['cg2']);
  assert.equal(ok.groups[0]!.errorCode, ErrorCode.NONE);
  assert.equal(ok.groups[0]!.members.length, 1);
});

test('ConsumerGroupHeartbeat: a regex subscription resolves only to topics the member may DESCRIBE', async () => {
  const join = () =>
    call(env.client, 68, 1, encodeConsumerGroupHeartbeatRequest, decodeConsumerGroupHeartbeatResponse, {
      ...defaultConsumerGroupHeartbeatRequest(),
      groupId: 'cg-re',
      memberId: 'member-regex-00000000',
      memberEpoch: 0,
      rebalanceTimeoutMs: 5000,
      subscribedTopicRegex: '[ab]',
      topicPartitions: [],
    });
  const assignedTopics = async (): Promise<string[]> => {
    const d = await describeGroups(['cg-re']);
    assert.equal(d.groups[0]!.errorCode, ErrorCode.NONE);
    return d.groups[0]!.members[0]!.assignment.topicPartitions.map((t) => t.topicName).sort();
  };
  auth.set([
    { operation: Op.READ, resourceType: Res.GROUP, name: 'cg-re' },
    { operation: Op.DESCRIBE, resourceType: Res.GROUP, name: 'cg-re' },
    { operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: 'a' },
  ]);
  const first = await join();
  assert.equal(first.errorCode, ErrorCode.NONE, first.errorMessage ?? '');
  assert.equal(first.assignment?.topicPartitions.length, 1, 'only the describable topic is assigned');
  assert.deepEqual(await assignedTopics(), ['a']);

  auth.set([
    { operation: Op.READ, resourceType: Res.GROUP, name: 'cg-re' },
    { operation: Op.DESCRIBE, resourceType: Res.GROUP, name: 'cg-re' },
    { operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: '*' },
  ]);
  const next = await call(
    env.client,
    68,
    1,
    encodeConsumerGroupHeartbeatRequest,
    decodeConsumerGroupHeartbeatResponse,
    {
      ...defaultConsumerGroupHeartbeatRequest(),
      groupId: 'cg-re',
      memberId: 'member-regex-00000000',
      memberEpoch: first.memberEpoch,
      topicPartitions: first.assignment!.topicPartitions,
    },
  );
  assert.equal(next.errorCode, ErrorCode.NONE, next.errorMessage ?? '');
  assert.ok(next.memberEpoch > first.memberEpoch, 'the wider match bumped the group epoch');
  assert.deepEqual(await assignedTopics(), ['a', 'b']);
});
