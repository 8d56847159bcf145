/**
 * /metrics: every metric the issue lists is exported and moves with real traffic (kafkajs), fsync latency
 * comes from the storage flushers' observer hook, produces waiting on a flush are counted while a flush
 * is stalled (memory filesystem with a slow fsync), recovery time is reported per start and per partition,
 * and requests served before the admin API loaded (on its first HTTP request, never because of traffic) are
 * not lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { testBroker } from '../../helpers/test-broker.js';
import { buildAdminApp } from '../../../broker/admin/app.js';
import { Broker } from '../../../broker/broker.js';
import { BrokerConfig } from '../../../broker/config.js';
import { MemoryFileSystem } from '../../../storage/memory-fs.js';
import type { FileHandle } from '../../../storage/fs.js';
import { RawClient } from '../../helpers/raw-client.js';
import { encodeProduceRequest, defaultProduceRequest } from '../../../protocol/generated/produce-request.js';
import { buildRecordBatchSync } from '../../../protocol/records/builder.js';

/** The value of one sample line `name{labels} value` (labels matched as a substring), or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith('{') || rest.startsWith(' '))) continue;
    if (labels && !rest.includes(labels)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

test('every listed metric exists and follows produce, fetch, group commits and fsyncs', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'runnel-metrics-'));
  try {
    // First start creates the topic; the second start recovers it (per-partition recovery time).
    const first = await testBroker({
      dataDir,
      config: { 'admin.port': -1 },
      topics: [{ name: 'm', partitions: 2, configs: { 'flush.messages': 1 } }],
    });
    await first.stop();
    const b = await testBroker({ dataDir, config: { 'admin.port': -1 } });
    const app = buildAdminApp(b.broker);
    const kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'metrics-test', logLevel: logLevel.NOTHING });
    try {
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: 'm',
        acks: -1,
        messages: [
          { value: 'a', partition: 0 },
          { value: 'b', partition: 0 },
          { value: 'c', partition: 1 },
        ],
      });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: 'g1' });
      await consumer.connect();
      await consumer.subscribe({ topic: 'm', fromBeginning: true });
      let seen = 0;
      const done = new Promise<void>((resolve) => {
        void consumer.run({
          autoCommit: false,
          eachMessage: async ({ topic, partition, message }) => {
            seen++;
            if (partition === 0 && message.offset === '0')
              await consumer.commitOffsets([{ topic, partition, offset: '1' }]);
            if (seen === 3) resolve();
          },
        });
      });
      await Promise.race([
        done,
        new Promise((_, reject) => setTimeout(() => reject(new Error('consumer saw too little in 30 s')), 30_000)),
      ]);
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /text\/plain/);
      const m = res.body;
      await consumer.disconnect();

      // process metrics
      assert.ok(sample(m, 'process_cpu_user_seconds_total')! > 0);
      assert.ok(sample(m, 'process_resident_memory_bytes')! > 0);
      // requests by API, version, error code; latency histogram
      assert.ok(sample(m, 'runnel_requests_total', 'api="Produce",version=') === 1);
      assert.ok(sample(m, 'runnel_requests_total', 'api="Fetch"')! >= 1);
      assert.ok(sample(m, 'runnel_request_duration_seconds_count', 'api="Produce"') === 1);
      assert.ok(sample(m, 'runnel_request_duration_seconds_bucket', 'le="+Inf"')! >= 1);
      // bytes and records in/out per topic
      assert.equal(sample(m, 'runnel_topic_records_in_total', 'topic="m"'), 3);
      assert.ok(sample(m, 'runnel_topic_bytes_in_total', 'topic="m"')! > 0);
      assert.ok(sample(m, 'runnel_topic_records_out_total', 'topic="m"')! >= 3);
      assert.ok(sample(m, 'runnel_topic_bytes_out_total', 'topic="m"')! > 0);
      // partition offsets and size
      assert.equal(sample(m, 'runnel_partition_log_start_offset', 'topic="m",partition="0"'), 0);
      assert.equal(sample(m, 'runnel_partition_log_end_offset', 'topic="m",partition="0"'), 2);
      assert.equal(sample(m, 'runnel_partition_high_watermark', 'topic="m",partition="1"'), 1);
      assert.ok(sample(m, 'runnel_partition_size_bytes', 'topic="m",partition="0"')! > 0);
      // consumer-group lag per partition (committed 1 of 2 on partition 0)
      assert.equal(sample(m, 'runnel_consumer_group_committed_offset', 'group="g1",topic="m",partition="0"'), 1);
      assert.equal(sample(m, 'runnel_consumer_group_lag', 'group="g1",topic="m",partition="0"'), 1);
      // connections, waiting fetches and produces
      assert.ok(sample(m, 'runnel_connections')! >= 1);
      assert.notEqual(sample(m, 'runnel_fetch_waiting'), undefined);
      assert.equal(sample(m, 'runnel_produce_waiting'), 0);
      // fsync latency: flush.messages=1 made the produce wait for a flush run
      assert.ok(sample(m, 'runnel_log_flush_duration_seconds_count')! >= 1);
      assert.ok(sample(m, 'runnel_log_flush_duration_seconds_sum')! > 0);
      // recovery time of this start, total and per partition
      assert.ok(sample(m, 'runnel_log_recovery_seconds')! > 0);
      assert.ok(sample(m, 'runnel_partition_recovery_seconds', 'topic="m",partition="1"')! > 0);
    } finally {
      await app.close();
      await b.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

/** A filesystem whose fsyncs of `.log` files wait while the gate is closed. */
class GatedFs extends MemoryFileSystem {
  gate: Promise<void> | undefined;
  override async open(filePath: string, options?: Parameters<MemoryFileSystem['open']>[1]): Promise<FileHandle> {
    const h = await super.open(filePath, options);
    if (!filePath.endsWith('.log')) return h;
    const wait = async (): Promise<void> => {
      if (this.gate) await this.gate;
    };
    return {
      path: h.path,
      read: (...a) => h.read(...a),
      writev: (...a) => h.writev(...a),
      sync: async () => {
        await wait();
        return h.sync();
      },
      datasync: async () => {
        await wait();
        return h.datasync();
      },
      truncate: (n) => h.truncate(n),
      size: () => h.size(),
      close: () => h.close(),
    };
  }
}

test('runnel_produce_waiting counts produces waiting on a stalled fsync', async () => {
  const fs = new GatedFs();
  const broker = new Broker(
    new BrokerConfig({ overrides: { port: 0, host: '127.0.0.1', 'admin.port': -1, 'data.dir': '/data' } }),
    { fs },
  );
  await broker.start();
  const app = buildAdminApp(broker);
  let c: RawClient | undefined;
  let open = (): void => {};
  try {
    await broker.metadata.createTopic('slow', { partitions: 1, configs: { 'flush.messages': '1' } });
    fs.gate = new Promise<void>((r) => (open = r));
    c = await RawClient.connect(broker.started.port);
    const batch = buildRecordBatchSync([{ key: null, value: Buffer.from('v'), headers: [], timestamp: Date.now() }]);
    const req = {
      ...defaultProduceRequest(),
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: 'slow', partitionData: [{ index: 0, records: batch }] }],
    };
    c.send(0, 7, (w) => encodeProduceRequest(w, 7, req as never));
    let waiting = 0;
    const deadline = Date.now() + 5000;
    while (waiting === 0 && Date.now() < deadline) {
      waiting = sample((await app.inject({ method: 'GET', url: '/metrics' })).body, 'runnel_produce_waiting') ?? 0;
      if (waiting === 0) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(waiting, 1);
    fs.gate = undefined;
    open();
    assert.ok(await c.receive(10_000), 'the produce is answered once the fsync completes');
    const m = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(sample(m, 'runnel_produce_waiting'), 0);
    assert.ok(sample(m, 'runnel_log_flush_duration_seconds_count')! >= 1);
  } finally {
    open();
    c?.socket.destroy();
    await app.close();
    await broker.stop();
  }
});

const RAW_REQUESTS = 10_001;

test('fastify and prom-client load on the first HTTP request, not with traffic; what came before counts', async () => {
  // A child process, so this test's own imports do not pollute the module cache it inspects.
  const index = fileURLToPath(new URL('../../../broker/index.js', import.meta.url));
  const script = `
    import { createRequire } from 'node:module';
    import { Kafka, logLevel } from 'kafkajs';
    import { connect } from 'node:net';
    const { startBroker } = await import(${JSON.stringify(index)});
    const require = createRequire(${JSON.stringify(index)});
    const loaded = (p) => Object.keys(require.cache).some((k) => k.includes('/node_modules/' + p + '/'));
    const b = await startBroker({ topics: [{ name: 't', configs: { 'flush.messages': 1 } }] });
    const before = { fastify: loaded('fastify'), prom: loaded('prom-client') };
    // More requests than the 10,000 observations that once forced the load in the middle of traffic:
    // ApiVersions v0 frames (size, key 18, version 0, correlation id, null client id), pipelined.
    const N = ${RAW_REQUESTS};
    const sock = connect(Number(b.bootstrapServers.split(':')[1]), '127.0.0.1');
    await new Promise((r, j) => sock.once('connect', r).once('error', j));
    let answered = 0;
    let pending = Buffer.alloc(0);
    const done = new Promise((r, j) => {
      const t = setTimeout(() => j(new Error('ApiVersions: ' + answered + ' of ' + N + ' answered')), 20000);
      sock.on('data', (d) => {
        pending = Buffer.concat([pending, d]);
        while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
          pending = pending.subarray(4 + pending.readInt32BE(0));
          if (++answered === N) { clearTimeout(t); r(); }
        }
      });
    });
    for (let i = 0; i < N; i++) {
      const f = Buffer.alloc(14);
      f.writeInt32BE(10, 0); f.writeInt16BE(18, 4); f.writeInt16BE(0, 6); f.writeInt32BE(i + 1, 8);
      f.writeInt16BE(-1, 12);
      sock.write(f);
    }
    await done;
    sock.destroy();
    const kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'lazy', logLevel: logLevel.NOTHING });
    const p = kafka.producer();
    await p.connect();
    await p.send({ topic: 't', acks: -1, messages: [{ value: 'x' }] });
    await p.disconnect();
    const stillBefore = { fastify: loaded('fastify'), prom: loaded('prom-client') };
    const m = await (await fetch(b.adminUrl + '/metrics')).text();
    const after = { fastify: loaded('fastify'), prom: loaded('prom-client') };
    await b.stop();
    process.stdout.write(JSON.stringify({ before, stillBefore, after, m }));
  `;
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      env: { ...process.env, RUNNEL_LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(t);
      if (code === 0) resolve(stdout);
      else reject(new Error(`child exited ${code}: ${stderr}`));
    });
  });
  const r = JSON.parse(out) as {
    before: Record<string, boolean>;
    stillBefore: Record<string, boolean>;
    after: Record<string, boolean>;
    m: string;
  };
  assert.deepEqual(r.before, { fastify: false, prom: false });
  assert.deepEqual(r.stillBefore, { fastify: false, prom: false });
  assert.deepEqual(r.after, { fastify: true, prom: true });
  assert.equal(sample(r.m, 'runnel_requests_total', 'api="Produce"'), 1);
  assert.equal(sample(r.m, 'runnel_requests_total', 'api="ApiVersions",version="0"'), RAW_REQUESTS);
  assert.equal(sample(r.m, 'runnel_request_duration_seconds_count', 'api="ApiVersions",version="0"'), RAW_REQUESTS);
  assert.equal(sample(r.m, 'runnel_topic_records_in_total', 'topic="t"'), 1);
  assert.ok(sample(r.m, 'runnel_log_flush_duration_seconds_count')! >= 1);
});

test('client quota throttling is counted per user and client id', async () => {
  const b = await testBroker({ config: { 'admin.port': -1 }, topics: [{ name: 'qm', partitions: 1 }] });
  const app = buildAdminApp(b.broker);
  const c = await RawClient.connect(b.port);
  try {
    const entity = [{ entityType: 'client-id', entityName: 'metered' }];
    await b.broker.clientQuotas.alter(
      [{ entity, ops: [{ key: 'producer_byte_rate', value: 100, remove: false }] }],
      false,
    );
    const req = defaultProduceRequest();
    req.acks = 1;
    req.timeoutMs = 5000;
    const records = buildRecordBatchSync([{ key: 'k', value: Buffer.alloc(10_000, 3) }]);
    req.topicData = [{ name: 'qm', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records }] }];
    c.send(0, 9, (w) => encodeProduceRequest(w, 9, req), 'metered');
    assert.ok(await c.receive(10_000), 'produce answered');
    const m = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const labels = 'user="ANONYMOUS",client_id="metered"';
    assert.ok(sample(m, 'runnel_client_throttle_time_seconds_total', labels)! > 0);
    assert.equal(sample(m, 'runnel_client_throttled_requests_total', `${labels},api="Produce"`), 1);
    assert.equal(sample(m, 'runnel_client_throttled_requests_total', 'client_id="raw-test"'), undefined);
  } finally {
    c.close();
    await app.close();
    await b.stop();
  }
});
