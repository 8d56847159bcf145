import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import {
  encodeAlterClientQuotasRequest,
  type AlterClientQuotasRequestEntryData,
} from '../../../protocol/generated/alter-client-quotas-request.js';
import { decodeAlterClientQuotasResponse } from '../../../protocol/generated/alter-client-quotas-response.js';
import { encodeDescribeClientQuotasRequest } from '../../../protocol/generated/describe-client-quotas-request.js';
import { decodeDescribeClientQuotasResponse } from '../../../protocol/generated/describe-client-quotas-response.js';

const env = useBrokerAndClient();

const set = (key: string, value: number) => ({ key, value, remove: false });
const remove = (key: string) => ({ key, value: 0, remove: true });
const ent = (...pairs: Array<[string, string | null]>) =>
  pairs.map(([entityType, entityName]) => ({ entityType, entityName }));

async function alter(v: number, entries: AlterClientQuotasRequestEntryData[], validateOnly = false) {
  const res = await call(env.client, 49, v, encodeAlterClientQuotasRequest, decodeAlterClientQuotasResponse, {
    entries,
    validateOnly,
  });
  assert.equal(res.entries.length, entries.length);
  return res.entries;
}

async function describeAll() {
  const res = await call(env.client, 48, 1, encodeDescribeClientQuotasRequest, decodeDescribeClientQuotasResponse, {
    components: [],
    strict: false,
  });
  assert.equal(res.errorCode, 0);
  return new Map(
    res.entries!.map((e) => [
      JSON.stringify(e.entity.map((x) => [x.entityType, x.entityName]).sort()),
      Object.fromEntries(e.values.map((x) => [x.key, x.value])),
    ]),
  );
}

test('v0-v1 set quotas for user, client-id, user+client-id, defaults and ip; remove keys', async () => {
  for (let v = 0; v <= 1; v++) {
    const res = await alter(v, [
      { entity: ent(['user', `alice${v}`]), ops: [set('producer_byte_rate', 1024), set('request_percentage', 12.5)] },
      { entity: ent(['user', null]), ops: [set('consumer_byte_rate', 2048)] },
      { entity: ent(['user', `alice${v}`], ['client-id', 'app']), ops: [set('controller_mutation_rate', 3.5)] },
      { entity: ent(['client-id', null]), ops: [set('producer_byte_rate', 10)] },
      { entity: ent(['ip', '10.0.0.1']), ops: [set('connection_creation_rate', 100)] },
      { entity: ent(['ip', null]), ops: [set('connection_creation_rate', 50)] },
    ]);
    assert.deepEqual(
      res.map((e) => [e.errorCode, e.errorMessage]),
      res.map(() => [0, null]),
      `v${v}`,
    );
    assert.deepEqual(res[2]!.entity, ent(['user', `alice${v}`], ['client-id', 'app']));
  }
  const all = await describeAll();
  assert.deepEqual(all.get(JSON.stringify([['user', 'alice0']])), {
    producer_byte_rate: 1024,
    request_percentage: 12.5,
  });
  assert.deepEqual(all.get(JSON.stringify([['user', null]])), { consumer_byte_rate: 2048 });
  assert.deepEqual(all.get(JSON.stringify([['ip', '10.0.0.1']])), { connection_creation_rate: 100 });

  const removed = await alter(1, [
    { entity: ent(['user', 'alice0']), ops: [remove('producer_byte_rate'), remove('consumer_byte_rate')] },
    { entity: ent(['ip', null]), ops: [remove('connection_creation_rate')] },
  ]);
  assert.deepEqual(
    removed.map((e) => e.errorCode),
    [0, 0],
  );
  const after = await describeAll();
  assert.deepEqual(after.get(JSON.stringify([['user', 'alice0']])), { request_percentage: 12.5 });
  assert.equal(after.has(JSON.stringify([['ip', null]])), false, 'an entity without quotas is gone');
});

test("Kafka's validation: INVALID_REQUEST per entity, other entities applied", async () => {
  const res = await alter(1, [
    { entity: [], ops: [set('producer_byte_rate', 1)] },
    { entity: ent(['group', 'g']), ops: [set('producer_byte_rate', 1)] },
    { entity: ent(['user', '']), ops: [set('producer_byte_rate', 1)] },
    { entity: ent(['user', 'u'], ['user', 'v']), ops: [set('producer_byte_rate', 1)] },
    { entity: ent(['ip', '1.2.3.4'], ['user', 'u']), ops: [set('connection_creation_rate', 1)] },
    { entity: ent(['ip', 'not an ip']), ops: [set('connection_creation_rate', 1)] },
    { entity: ent(['user', 'bob']), ops: [set('connection_creation_rate', 1)] },
    { entity: ent(['ip', '1.2.3.4']), ops: [set('producer_byte_rate', 1)] },
    { entity: ent(['user', 'bob2']), ops: [set('producer_byte_rate', 0)] },
    { entity: ent(['user', 'bob3']), ops: [set('producer_byte_rate', 1.5)] },
    { entity: ent(['client-id', 'c']), ops: [set('producer_byte_rate', 5), set('producer_byte_rate', 6)] },
    { entity: ent(['client-id', 'ok']), ops: [set('producer_byte_rate', 5)] },
    { entity: ent(['client-id', 'ok']), ops: [set('producer_byte_rate', 7)] },
  ]);
  const codes = res.map((e) => e.errorCode);
  assert.deepEqual(codes.slice(0, 11), Array(11).fill(ErrorCode.INVALID_REQUEST));
  assert.deepEqual(codes.slice(11), [0, ErrorCode.INVALID_REQUEST]);
  assert.equal(res[1]!.errorMessage, 'Unhandled client quota entity type: group');
  assert.equal(res[6]!.errorMessage, 'Invalid configuration key connection_creation_rate');
  assert.equal(res[8]!.errorMessage, 'Quota producer_byte_rate must be greater than 0');
  assert.equal(res[9]!.errorMessage, 'producer_byte_rate cannot be a fractional value.');
  assert.match(res[12]!.errorMessage!, /^Ignoring duplicate entity/);
  const all = await describeAll();
  assert.deepEqual(all.get(JSON.stringify([['client-id', 'ok']])), { producer_byte_rate: 5 });
  assert.equal(all.has(JSON.stringify([['user', 'bob']])), false);
});

test('validateOnly checks and changes nothing', async () => {
  const res = await alter(1, [{ entity: ent(['user', 'carol']), ops: [set('producer_byte_rate', 99)] }], true);
  assert.equal(res[0]!.errorCode, 0);
  assert.equal((await describeAll()).has(JSON.stringify([['user', 'carol']])), false);
});

test('quotas survive a restart (client-quotas.json in the data dir)', async () => {
  await alter(1, [{ entity: ent(['user', 'dave']), ops: [set('consumer_byte_rate', 4096)] }]);
  const file = JSON.parse(await readFile(join(env.broker.dataDir, 'client-quotas.json'), 'utf8'));
  assert.equal(file.version, 1);
  await env.restart();
  const all = await describeAll();
  assert.deepEqual(all.get(JSON.stringify([['user', 'dave']])), { consumer_byte_rate: 4096 });
  assert.deepEqual(all.get(JSON.stringify([['user', 'alice0']])), { request_percentage: 12.5 });
});

test('@platformatic/kafka admin alterClientQuotas / describeClientQuotas', async () => {
  const admin = new Admin({ clientId: 'quota-test', bootstrapBrokers: [env.broker.bootstrapServers], retries: 0 });
  try {
    const altered = await admin.alterClientQuotas({
      entries: [
        {
          entities: [{ entityType: 'user', entityName: 'erin' }],
          ops: [{ key: 'producer_byte_rate', value: 777, remove: false }],
        },
      ],
    });
    assert.deepEqual(
      altered.map((e) => e.errorCode),
      [0],
    );
    const found = await admin.describeClientQuotas({
      components: [{ entityType: 'user', matchType: 0, match: 'erin' }],
      strict: true,
    });
    assert.deepEqual(
      found.map((e) => [e.entity, e.values]),
      [[[{ entityType: 'user', entityName: 'erin' }], [{ key: 'producer_byte_rate', value: 777 }]]],
    );
  } finally {
    await admin.close();
  }
});
