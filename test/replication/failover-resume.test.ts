/**
 * A leader stopped (SIGSTOP) past broker.session.timeout.ms and resumed, with real processes (etcd + 3
 * `runnel start`, test/helpers/process-cluster.ts; needs `npm run build`): the Metadata and Produce requests
 * that reached it while it was stopped are answered, once it runs again, from the leaderships as etcd has them
 * now, not from its image of before the stop. Without that, its Metadata named itself leader of the partition
 * it lost meanwhile (librdkafka 2.0's idempotent producer then stayed stuck on that partition: issue #13), and
 * an acks=1 Produce was appended and acknowledged by a node that no longer led. Every wait is bounded; every
 * process is ended by its handle in `after`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { responseHeaderVersion } from '../../protocol/generated/apis.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import {
  defaultMetadataRequest,
  defaultMetadataRequestTopic,
  encodeMetadataRequest,
} from '../../protocol/generated/metadata-request.js';
import { decodeMetadataResponse } from '../../protocol/generated/metadata-response.js';
import { defaultProduceRequest, encodeProduceRequest } from '../../protocol/generated/produce-request.js';
import { decodeProduceResponse } from '../../protocol/generated/produce-response.js';
import { buildRecordBatch } from '../../protocol/records/builder.js';
import { ProcessCluster, until } from '../helpers/process-cluster.js';
import { RawClient } from '../helpers/raw-client.js';

const TOPIC = 'resumed';
let cluster: ProcessCluster;
const clients: RawClient[] = [];

before(async () => {
  cluster = await ProcessCluster.start(3, { 'broker.session.timeout.ms': 3000, 'replica.lag.time.max.ms': 5000 });
});

after(async () => {
  for (const c of clients) c.close();
  await cluster?.close();
});

test('a leader resumed after its session timed out answers from the new leaderships, accepting nothing', async () => {
  await cluster.createTopic(TOPIC, 1);
  const before = (await cluster.metadata(TOPIC)).partitions[0]!;
  const old = before.leader;
  const c = await RawClient.connect(cluster.node(old).port);
  clients.push(c);

  cluster.pause(old);
  // Queued in the stopped node's socket: read and answered once it runs again.
  const md = defaultMetadataRequest();
  md.topics = [{ ...defaultMetadataRequestTopic(), name: TOPIC }];
  md.allowAutoTopicCreation = false;
  const mdId = c.send(3, 9, (w) => encodeMetadataRequest(w, 9, md));
  const produce = defaultProduceRequest();
  produce.acks = 1;
  produce.timeoutMs = 10_000;
  const records = await buildRecordBatch([{ key: 'k', value: 'to a stopped leader' }]);
  produce.topicData = [{ name: TOPIC, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records }] }];
  const produceId = c.send(0, 9, (w) => encodeProduceRequest(w, 9, produce));

  // The other nodes elect another leader once the stopped one's session timed out.
  const now = await until(
    async () => {
      const p = (await cluster.metadata(TOPIC)).partitions[0]!;
      return p.leader >= 0 && p.leader !== old ? p : undefined;
    },
    60_000,
    `a leader of ${TOPIC}-0 other than ${old}`,
  );
  cluster.resume(old);

  const mdRes = await c.response(responseHeaderVersion(3, 9), 30_000);
  assert.ok(mdRes, 'the Metadata request is answered');
  assert.equal(mdRes.correlationId, mdId);
  const p = decodeMetadataResponse(mdRes.body, 9).topics[0]!.partitions[0]!;
  assert.notEqual(p.leaderId, old, `the resumed node ${old} does not name itself leader`);
  assert.equal(p.leaderId, now.leader, 'it names the leader the others elected');
  assert.ok(p.leaderEpoch >= now.leaderEpoch && p.leaderEpoch > before.leaderEpoch, `epoch ${p.leaderEpoch}`);

  const prRes = await c.response(responseHeaderVersion(0, 9), 30_000);
  assert.ok(prRes, 'the Produce request is answered');
  assert.equal(prRes.correlationId, produceId);
  const pr = decodeProduceResponse(prRes.body, 9).responses[0]!.partitionResponses[0]!;
  assert.equal(pr.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER, 'the former leader accepts nothing');

  // It follows the new leader again; nothing it was sent while stopped is in the partition.
  await cluster.waitIsr(TOPIC, 3, 90_000);
  for (const id of [1, 2, 3]) await cluster.stop(id);
  const logs = [1, 2, 3].map((id) => cluster.readLog(id, TOPIC, 0));
  for (const log of logs) assert.deepEqual(log, logs[0], 'every replica has the same batches');
  assert.equal(logs[0]!.length, 0, 'the record sent to the stopped leader was not written');
});
