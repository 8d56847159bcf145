import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { encodeAlterClientQuotasRequest } from '../../../protocol/generated/alter-client-quotas-request.js';
import { decodeAlterClientQuotasResponse } from '../../../protocol/generated/alter-client-quotas-response.js';
import {
  encodeDescribeClientQuotasRequest,
  type DescribeClientQuotasRequestComponentData,
} from '../../../protocol/generated/describe-client-quotas-request.js';
import {
  decodeDescribeClientQuotasResponse,
  type DescribeClientQuotasResponse,
} from '../../../protocol/generated/describe-client-quotas-response.js';

type Entity = Array<[string, string | null]>;
const ENTITIES: Entity[] = [
  [['user', 'alice']],
  [['user', null]],
  [
    ['user', 'alice'],
    ['client-id', 'app'],
  ],
  [['client-id', 'app']],
  [['ip', '10.0.0.1']],
];

const env = useBrokerAndClient({
  async setup(_broker, client) {
    const res = await call(client, 49, 1, encodeAlterClientQuotasRequest, decodeAlterClientQuotasResponse, {
      validateOnly: false,
      entries: ENTITIES.map((e) => ({
        entity: e.map(([entityType, entityName]) => ({ entityType, entityName })),
        ops: [
          { key: e[0]![0] === 'ip' ? 'connection_creation_rate' : 'producer_byte_rate', value: 100, remove: false },
        ],
      })),
    });
    assert.deepEqual(
      res.entries.map((e) => e.errorCode),
      ENTITIES.map(() => 0),
    );
  },
});

const EXACT = 0;
const DEFAULT = 1;
const ANY = 2;
const c = (entityType: string, matchType: number, match: string | null = null) => ({ entityType, matchType, match });

async function describe(
  components: DescribeClientQuotasRequestComponentData[],
  strict = false,
  v = 1,
): Promise<DescribeClientQuotasResponse> {
  return call(env.client, 48, v, encodeDescribeClientQuotasRequest, decodeDescribeClientQuotasResponse, {
    components,
    strict,
  });
}

async function matched(components: DescribeClientQuotasRequestComponentData[], strict = false, v = 1) {
  const res = await describe(components, strict, v);
  assert.equal(res.errorCode, 0, res.errorMessage ?? '');
  return res
    .entries!.map((e) =>
      e.entity
        .map((x) => `${x.entityType}=${x.entityName}`)
        .sort()
        .join(','),
    )
    .sort();
}

test('v0-v1 filters: exact, default, any; strict', async () => {
  for (let v = 0; v <= 1; v++) {
    assert.deepEqual(await matched([c('user', EXACT, 'alice')], false, v), ['client-id=app,user=alice', 'user=alice']);
    assert.deepEqual(await matched([c('user', EXACT, 'alice')], true, v), ['user=alice']);
  }
  assert.deepEqual(await matched([c('user', DEFAULT)]), ['user=null']);
  assert.deepEqual(await matched([c('user', ANY)], true), ['user=alice', 'user=null']);
  assert.deepEqual(await matched([c('client-id', ANY)]), ['client-id=app', 'client-id=app,user=alice']);
  assert.deepEqual(await matched([c('user', ANY), c('client-id', EXACT, 'app')]), ['client-id=app,user=alice']);
  assert.deepEqual(await matched([c('ip', ANY)]), ['ip=10.0.0.1']);
  assert.deepEqual((await matched([])).length, ENTITIES.length);
  assert.deepEqual(await matched([c('user', EXACT, 'nobody')]), []);
  const one = await describe([c('ip', EXACT, '10.0.0.1')]);
  assert.deepEqual(one.entries![0]!.values, [{ key: 'connection_creation_rate', value: 100 }]);
});

test('bad filters fail the whole request, entries null', async () => {
  const cases: Array<[DescribeClientQuotasRequestComponentData[], number, RegExp]> = [
    [[c('', ANY)], ErrorCode.INVALID_REQUEST, /Invalid empty entity type/],
    [[c('user', ANY), c('user', DEFAULT)], ErrorCode.INVALID_REQUEST, /cannot appear more than once/],
    [[c('group', ANY)], ErrorCode.UNSUPPORTED_VERSION, /Unsupported entity type group/],
    [[c('user', EXACT, null)], ErrorCode.INVALID_REQUEST, /MATCH_TYPE_EXACT/],
    [[c('user', DEFAULT, 'x')], ErrorCode.INVALID_REQUEST, /MATCH_TYPE_DEFAULT/],
    [[c('user', 9)], ErrorCode.INVALID_REQUEST, /Unknown match type 9/],
    [[c('ip', ANY), c('user', ANY)], ErrorCode.INVALID_REQUEST, /IP filter component should not be used/],
  ];
  for (const [components, code, message] of cases) {
    const res = await describe(components);
    assert.equal(res.errorCode, code, JSON.stringify(components));
    assert.match(res.errorMessage ?? '', message);
    assert.equal(res.entries, null);
  }
});
