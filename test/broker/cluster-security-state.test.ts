/**
 * Security state shared by every node of a replicated cluster (the metadata store's keyed-record sections on
 * etcd): SCRAM credentials, client quotas and dynamic broker configs altered through one node's Kafka listener
 * are answered by both other nodes', and a restarted node still has them. A real etcd and three in-process brokers
 * (test/helpers/cluster.ts), raw Kafka-protocol clients aimed at one node each. Every wait is bounded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import type { RunningBroker } from '../../broker/index.js';
import { TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { call } from '../helpers/test-broker.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  encodeAlterUserScramCredentialsRequest,
} from '../../protocol/generated/alter-user-scram-credentials-request.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  decodeAlterUserScramCredentialsResponse,
} from '../../protocol/generated/alter-user-scram-credentials-response.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  encodeDescribeUserScramCredentialsRequest,
} from '../../protocol/generated/describe-user-scram-credentials-request.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  decodeDescribeUserScramCredentialsResponse,
} from '../../protocol/generated/describe-user-scram-credentials-response.js';
import { encodeAlterClientQuotasRequest } from '../../protocol/generated/alter-client-quotas-request.js';
import { decodeAlterClientQuotasResponse } from '../../protocol/generated/alter-client-quotas-response.js';
import { encodeDescribeClientQuotasRequest } from '../../protocol/generated/describe-client-quotas-request.js';
import { decodeDescribeClientQuotasResponse } from '../../protocol/generated/describe-client-quotas-response.js';
import {
  defaultIncrementalAlterConfigsRequest,
  encodeIncrementalAlterConfigsRequest,
} from '../../protocol/generated/incremental-alter-configs-request.js';
import { decodeIncrementalAlterConfigsResponse } from '../../protocol/generated/incremental-alter-configs-response.js';
import {
  defaultDescribeConfigsRequest,
  encodeDescribeConfigsRequest,
} from '../../protocol/generated/describe-configs-request.js';
import { decodeDescribeConfigsResponse } from '../../protocol/generated/describe-configs-response.js';

const BROKER = 4;
const SET = 0;
const DYNAMIC_DEFAULT_BROKER_CONFIG = 3; // Kafka's ConfigSource

let cluster: TestCluster;

before(async () => {
  cluster = await TestCluster.start({ name: 'security-state', nodes: 3 });
});

after(async () => {
  await cluster?.close();
});

/** Runs `fn` with a raw client connected to node `id`. */
async function on<T>(id: number, fn: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(cluster.broker(id).port);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** Asks node `id` again (every 50 ms, 15 s / 300 times at most) until `ok` holds; returns that answer. */
async function eventually<T>(id: number, read: (c: RawClient) => Promise<T>, ok: (v: T) => boolean, what: string) {
  const deadline = Date.now() + 15_000;
  let last: T | undefined;
  for (let i = 0; i < 300 && Date.now() < deadline; i++) {
    last = await on(id, read);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not within 15 s; last answer ${JSON.stringify(last)}`);
}

const describeUsers = (c: RawClient) =>
  call(c, 50, 0, encodeDescribeUserScramCredentialsRequest, decodeDescribeUserScramCredentialsResponse, {
    users: null,
  }).then((r) =>
    r.results.map((u) => [u.user, u.errorCode, u.credentialInfos.map((i) => [i.mechanism, i.iterations])]),
  );

const describeQuotas = (c: RawClient) =>
  call(c, 48, 1, encodeDescribeClientQuotasRequest, decodeDescribeClientQuotasResponse, {
    components: [{ entityType: 'user', matchType: 0, match: 'carol' }],
    strict: false,
  }).then((r) => (r.entries ?? []).map((e) => e.values.map((v) => [v.key, v.value])));

/** DescribeConfigs of node `id`'s own BROKER resource: log.retention.ms's value and source. */
const describeRetention = (id: number) => (c: RawClient) =>
  call(c, 32, 4, encodeDescribeConfigsRequest, decodeDescribeConfigsResponse, {
    ...defaultDescribeConfigsRequest(),
    resources: [{ resourceType: BROKER, resourceName: String(id), configurationKeys: ['log.retention.ms'] }],
  }).then((r) => r.results[0]!.configs.map((x) => [x.name, x.value, x.configSource]));

test('SCRAM users, client quotas, cluster-default configs set on node 1 hold on nodes 2 and 3', async () => {
  const salt = randomBytes(16);
  const upsertion = {
    name: 'alice',
    mechanism: 1,
    iterations: 8192,
    salt,
    saltedPassword: pbkdf2Sync('secret', salt, 8192, 32, 'sha256'),
  };
  const altered = await on(1, (c) =>
    call(c, 51, 0, encodeAlterUserScramCredentialsRequest, decodeAlterUserScramCredentialsResponse, {
      deletions: [],
      upsertions: [upsertion],
    }),
  );
  assert.deepEqual(
    altered.results.map((r) => [r.user, r.errorCode]),
    [['alice', 0]],
  );
  for (const id of [2, 3]) {
    const users = await eventually(id, describeUsers, (u) => u.length === 1, `node ${id} lists alice`);
    assert.deepEqual(users, [['alice', 0, [[1, 8192]]]]);
  }

  const quotas = await on(1, (c) =>
    call(c, 49, 1, encodeAlterClientQuotasRequest, decodeAlterClientQuotasResponse, {
      entries: [
        {
          entity: [{ entityType: 'user', entityName: 'carol' }],
          ops: [{ key: 'producer_byte_rate', value: 4096, remove: false }],
        },
      ],
      validateOnly: false,
    }),
  );
  assert.deepEqual(
    quotas.entries.map((e) => e.errorCode),
    [0],
  );
  for (const id of [2, 3]) {
    const found = await eventually(id, describeQuotas, (q) => q.length === 1, `node ${id} describes carol`);
    assert.deepEqual(found, [[['producer_byte_rate', 4096]]]);
  }

  const set = await on(1, (c) =>
    call(c, 44, 1, encodeIncrementalAlterConfigsRequest, decodeIncrementalAlterConfigsResponse, {
      ...defaultIncrementalAlterConfigsRequest(),
      resources: [
        {
          resourceType: BROKER,
          resourceName: '',
          configs: [{ name: 'log.retention.ms', configOperation: SET, value: '7200000' }],
        },
      ],
    }),
  );
  assert.deepEqual(
    set.responses.map((r) => [r.errorCode, r.errorMessage]),
    [[0, null]],
  );
  for (const id of [2, 3]) {
    const retention = await eventually(
      id,
      describeRetention(id),
      (r) => r[0]?.[1] === '7200000',
      `node ${id} describes the new default`,
    );
    assert.deepEqual(retention, [['log.retention.ms', '7200000', DYNAMIC_DEFAULT_BROKER_CONFIG]]);
    const node: RunningBroker = cluster.broker(id);
    assert.equal(node.broker.defaultLogConfig().retentionMs, 7_200_000, `node ${id} applies it to its logs`);
  }
});

test('a restarted node still has them (they live in etcd, not in its data dir)', async () => {
  await cluster.stopNode(2);
  await cluster.startNode(2);
  await cluster.waitAll((b) => b.broker.metadata.image.liveBrokers().length === 3, 30_000, 'node 2 is back');
  assert.deepEqual(await on(2, describeUsers), [['alice', 0, [[1, 8192]]]]);
  assert.deepEqual(await on(2, describeQuotas), [[['producer_byte_rate', 4096]]]);
  assert.deepEqual(await on(2, describeRetention(2)), [['log.retention.ms', '7200000', DYNAMIC_DEFAULT_BROKER_CONFIG]]);
  assert.equal(cluster.broker(2).broker.defaultLogConfig().retentionMs, 7_200_000);
});
