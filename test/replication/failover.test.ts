/**
 * Leader failures under idempotent acks=all producers, with real processes and real files: etcd + 3
 * `runnel start` processes (test/helpers/process-cluster.ts; needs `npm run build`). librdkafka
 * (python3-confluent-kafka) and kafkajs (idempotent) produce to an RF 3 topic with min.insync.replicas=2 while
 * (a) a leader is killed with SIGKILL and restarted, (b) another leader is paused (SIGSTOP) past
 * broker.session.timeout.ms and resumed, (c) after catch-up the next leader is killed. Afterwards every
 * acknowledged record is there exactly once, in order, at the offset it was acknowledged at; the replicas'
 * logs are identical batch by batch (same offsets: same bytes, so same partitionLeaderEpoch) and their
 * leader-epoch checkpoints agree, so the paused leader stepped down and truncated and no two nodes wrote one
 * partition in one epoch. Every wait is bounded; every process is ended by its handle in `after`.
 *
 * To debug a failing run: FAILOVER_LOG_LEVEL (e.g. debug) prints the nodes' logs on stderr at that level, and
 * RDKAFKA_DEBUG / RDKAFKA_DEBUG_LOG (read by the driver) write librdkafka's debug log to a file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Producer } from 'kafkajs';
import type { LogLevel } from '../../broker/logger.js';
import { run } from '../helpers/broker-process.js';
import { ProcessCluster, until } from '../helpers/process-cluster.js';

const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/helpers/clients'));
const PY = '/usr/bin/python3';
const TOPIC = 'failover';
const PARTITIONS = 3;

let cluster: ProcessCluster;
const tmp = mkdtempSync(join(tmpdir(), 'runnel-failover-'));

before(async () => {
  const level = process.env.FAILOVER_LOG_LEVEL as LogLevel | undefined;
  cluster = await ProcessCluster.start(
    3,
    { 'broker.session.timeout.ms': 3000, 'replica.lag.time.max.ms': 5000 },
    level ? { logLevel: level, printOutput: true } : {},
  );
});

after(async () => {
  await cluster?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** The leader of `partition` once every live node agrees on one (other than `not`). */
async function leaderOf(partition: number, not = -1): Promise<number> {
  return until(
    async () => {
      const md = await cluster.metadata(TOPIC);
      const l = md.partitions[partition]!.leader;
      return l >= 0 && l !== not && cluster.liveIds().includes(l) ? l : undefined;
    },
    60_000,
    `a live leader for ${TOPIC}-${partition} other than ${not}`,
  );
}

/** Time from now until one acks=all record reaches `partition` (a fresh producer per attempt). */
async function firstAcksAll(partition: number, t0: number): Promise<number> {
  return until(
    async () => {
      const p = cluster.kafka(cluster.liveIds(), 0).producer({ allowAutoTopicCreation: false });
      await p.connect();
      try {
        await p.send({ topic: TOPIC, acks: -1, timeout: 5000, messages: [{ value: 'probe', partition }] });
        return Date.now() - t0;
      } finally {
        await p.disconnect().catch(() => undefined);
      }
    },
    90_000,
    `an acks=all produce to ${TOPIC}-${partition}`,
    100,
  );
}

interface Acked {
  partition: number;
  offset: number;
  value: string;
}

/**
 * kafkajs idempotent producer: sends 5 records every 20 ms until `stop`, recording acknowledged ones. After a
 * failed send it starts a new producer (a new producer id): kafkajs rolls its sequence number back when a
 * request fails (producer/sendMessages.js), so its next batch would reuse the sequence of one the leader may
 * have written after all, and any broker — Kafka too — would answer it as that batch's duplicate.
 */
function kafkajsLoop(): { acked: Acked[]; errors: string[]; stop: () => Promise<void> } {
  const acked: Acked[] = [];
  const errors: string[] = [];
  let running = true;
  let producer: Producer | undefined;
  const connect = async (): Promise<Producer> => {
    // kafkajs retries a timed-out request on the same broker without refreshing its metadata, so a paused
    // leader would hold it for retries x requestTimeout: short timeouts and metadata age let it move on.
    const p = cluster.kafka(cluster.liveIds(), 3, 3000).producer({
      idempotent: true,
      metadataMaxAge: 1000,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await p.connect();
    return p;
  };
  const loop = (async () => {
    const deadline = Date.now() + 240_000;
    for (let i = 0; running && Date.now() < deadline; i += 5) {
      const partition = (i / 5) % PARTITIONS;
      const values = Array.from({ length: 5 }, (_, j) => `j${String(i + j).padStart(6, '0')}`);
      try {
        producer ??= await connect();
        const [r] = await producer.send({
          topic: TOPIC,
          acks: -1,
          timeout: 10_000,
          messages: values.map((value) => ({ value, partition })),
        });
        const base = Number(r!.baseOffset);
        for (const [j, value] of values.entries()) acked.push({ partition, offset: base + j, value });
      } catch (err) {
        errors.push((err as Error).message);
        await producer?.disconnect().catch(() => undefined);
        producer = undefined;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    acked,
    errors,
    stop: async () => {
      running = false;
      await loop;
      await producer?.disconnect().catch(() => undefined);
    },
  };
}

test('idempotent acks=all producers survive kill -9, a paused leader and a second kill; logs agree', async () => {
  await cluster.createTopic(TOPIC, PARTITIONS, { 'min.insync.replicas': '2' });

  const stopFile = join(tmp, 'stop');
  const pyAcked: Acked[] = [];
  const pyFailed: string[] = [];
  const pyErrors: string[] = [];
  const py = run(
    PY,
    [join(clients, 'idempotent_acked.py'), cluster.bootstrap().join(','), TOPIC, stopFile, 'c'],
    300_000,
    (line) => {
      const w = line.split(' ');
      if (w[0] === 'ACK') pyAcked.push({ partition: Number(w[1]), offset: Number(w[2]), value: w[3]! });
      if (w[0] === 'FAIL') pyFailed.push(line);
      if (w[0] === 'ERR') pyErrors.push(line);
    },
  );
  const js = kafkajsLoop();
  const progress = async (what: string): Promise<void> => {
    const [a, b] = [pyAcked.length, js.acked.length];
    await until(
      () => pyAcked.length >= a + 100 && js.acked.length >= b + 50,
      90_000,
      `producers progress ${what}`,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: librdkafka ${a} -> ${pyAcked.length}, kafkajs ${b} -> ${js.acked.length} ` +
          `(${js.errors.slice(-3).join('; ')}) librdkafka errors: ${pyErrors.slice(-5).join('; ')}`,
      );
    });
  };
  try {
    await progress('at first');

    // (a) kill -9 the leader of partition 0, measure the failover, restart it on its files.
    const a = await leaderOf(0);
    const t0 = Date.now();
    await cluster.kill(a);
    const failoverMs = await firstAcksAll(0, t0);
    process.stdout.write(`# failover (kill -9 to first acks=all produce via the new leader): ${failoverMs} ms\n`);
    await progress(`after killing ${a}`);
    await cluster.restart(a);
    await cluster.waitIsr(TOPIC, 3, 90_000);

    // (b) pause the leader of partition 1 past the session timeout: another node leads; resume it.
    const b = await leaderOf(1);
    cluster.pause(b);
    const bNext = await leaderOf(1, b);
    assert.notEqual(bNext, b);
    await progress(`while ${b} is paused`);
    cluster.resume(b);
    const resumed = await cluster.waitIsr(TOPIC, 3, 90_000);
    assert.notEqual(resumed[1]!.leader, b, `the resumed node ${b} stepped down and follows`);

    // (c) after catch-up, kill the leader of partition 2.
    await progress('after the resume');
    const c = await leaderOf(2);
    await cluster.kill(c);
    await leaderOf(2, c);
    await progress(`after killing ${c}`);

    writeFileSync(stopFile, '');
    const pyDone = await py;
    await js.stop();
    // Only the DONE line and the last client errors: the whole output (thousands of ACK lines) says nothing.
    const done = /^DONE \d+ \d+$/m.exec(pyDone.stdout)?.[0] ?? 'no DONE line';
    assert.match(
      done,
      /^DONE \d+ 0$/,
      `librdkafka flushed everything: ${done}; errors: ${pyErrors.slice(-5).join('; ')} ${pyDone.stderr.slice(-1000)}`,
    );
    assert.deepEqual(pyFailed, [], 'librdkafka reported no failed delivery');

    // Every acknowledged record exactly once, in order, at its acknowledged offset.
    for (let p = 0; p < PARTITIONS; p++) {
      const r = await run(PY, [join(clients, 'consume_all.py'), cluster.bootstrap().join(','), TOPIC, String(p)]);
      assert.match(r.stdout, /END \d+/, `consumed ${TOPIC}-${p}: ${r.stdout.slice(-300)} ${r.stderr.slice(-300)}`);
      const recs = r.stdout
        .split('\n')
        .filter((l) => l.startsWith('REC '))
        .map((l) => l.split(' '));
      const at = new Map(recs.map((x) => [Number(x[1]), x[3]!]));
      const values = recs.map((x) => x[3]!).filter((v) => v !== 'probe');
      assert.equal(new Set(values).size, values.length, `no record twice in partition ${p}`);
      for (const prefix of ['c', 'j']) {
        const mine = values.filter((v) => v.startsWith(prefix));
        for (let i = 1; i < mine.length; i++)
          assert.ok(mine[i]! > mine[i - 1]!, `order in ${p}: ${mine[i - 1]}, ${mine[i]}`);
      }
      for (const k of [...pyAcked, ...js.acked].filter((x) => x.partition === p)) {
        assert.equal(at.get(k.offset), k.value, `acknowledged ${k.value} at ${p}/${k.offset}`);
      }
    }

    // The killed node comes back; then every replica's files agree batch by batch.
    await cluster.restart(c);
    await cluster.waitIsr(TOPIC, 3, 90_000);
    for (const id of [1, 2, 3]) await cluster.stop(id);
    for (let p = 0; p < PARTITIONS; p++) {
      const logs = [1, 2, 3].map((id) => cluster.readLog(id, TOPIC, p));
      // Epochs that have batches: a leader elected after the last append records its epoch at the log end (as
      // Kafka's makeLeader does), which its followers learn only with a batch of that epoch.
      const end = (logs[0]!.at(-1)?.lastOffset ?? -1) + 1;
      const epochs = [1, 2, 3].map((id) =>
        cluster.readEpochs(id, TOPIC, p).filter((e) => Number(e.split(' ')[1]) < end),
      );
      for (const [i, log] of logs.entries()) {
        assert.deepEqual(
          log.map((x) => [x.baseOffset, x.lastOffset, x.partitionLeaderEpoch]),
          logs[0]!.map((x) => [x.baseOffset, x.lastOffset, x.partitionLeaderEpoch]),
          `node ${i + 1}'s batches of ${TOPIC}-${p} are node 1's`,
        );
        for (const [j, x] of log.entries())
          assert.ok(x.bytes.equals(logs[0]![j]!.bytes), `same bytes at ${p}/${x.baseOffset}`);
        assert.deepEqual(epochs[i], epochs[0], `node ${i + 1}'s leader epochs of ${TOPIC}-${p}`);
      }
      assert.ok(logs[0]!.length > 0, `${TOPIC}-${p} has batches on disk`);
      const epochsSeen = logs[0]!.map((x) => x.partitionLeaderEpoch);
      for (let i = 1; i < epochsSeen.length; i++) assert.ok(epochsSeen[i]! >= epochsSeen[i - 1]!, 'epochs grow');
    }
    assert.ok(js.acked.length > 0 && pyAcked.length > 0);
  } finally {
    writeFileSync(stopFile, '');
    await py;
    await js.stop();
  }
});
