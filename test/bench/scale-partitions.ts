/**
 * Scenario "partitions" of `npm run bench:scale`: T topics x P partitions (default 1000 x 10) on one broker
 * child process, each partition given R small records (Runnel's own Producer, acks=1). Measures the time to
 * create them, the broker's RSS and open descriptors, Metadata-for-all-topics latency (median of N), restart
 * times (SIGTERM then kill -9: spawn -> a Metadata that lists every topic with a leader for every partition; the
 * broker's CPU time until then is printed too, the figure a shared machine's load does not stretch),
 * and produce throughput of the same bytes spread over SPREAD partitions against over 4 (ratio).
 * Every loop is bounded in count; every wait in time.
 */
import { Producer } from '../../client/index.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  type BrokerChild,
  cpuMs,
  createTopics,
  median,
  metadataAll,
  openFds,
  rssKiB,
  say,
  sleep,
  timeUntilListed,
} from './scale-broker.js';

export interface PartitionsFigures {
  topics: number;
  partitionsPerTopic: number;
  recordsPerPartition: number;
  createMs: number;
  produceMs: number;
  rssMiB: number;
  openFds: number;
  metadataAllMedianMs: number;
  metadataAllMaxMs: number;
  cleanShutdownMs: number;
  restartAfterCleanMs: number;
  restartAfterKill9Ms: number;
  rssAfterRestartMiB: number;
  spreadPartitions: number;
  spreadMiB: number;
  spreadMBps: number;
  fourMBps: number;
  spreadRatio: number;
}

export interface PartitionsOptions {
  topics: number;
  partitions: number;
  records: number;
  metadataRuns: number;
  spreadPartitions: number;
  spreadMiB: number;
}

async function fillPartitions(bootstrap: string, names: string[], o: PartitionsOptions): Promise<void> {
  const p = new Producer({ bootstrap, acks: 1, lingerMs: 20, retries: 5 });
  const value = Buffer.alloc(100, 'v');
  try {
    for (let i = 0; i < names.length; i += 50) {
      const sends: Promise<unknown>[] = [];
      for (const topic of names.slice(i, i + 50)) {
        for (let part = 0; part < o.partitions; part++) {
          for (let r = 0; r < o.records; r++) sends.push(p.send({ topic, partition: part, value }));
        }
      }
      await p.flush();
      await Promise.all(sends);
    }
  } finally {
    await p.close();
  }
}

/** MB/s of `bytes` in 1 KiB records, round-robin over the topic's `n` partitions, acks=1. */
async function produceRate(bootstrap: string, topic: string, n: number, bytes: number): Promise<number> {
  const p = new Producer({ bootstrap, acks: 1, retries: 5 });
  const value = Buffer.alloc(1024, 'x');
  try {
    await p.send({ topic, partition: 0, value }); // metadata and connection, outside the timed part
    const count = Math.ceil(bytes / value.length);
    const t0 = performance.now();
    const window = 20_000; // records in flight from this loop at a time (bounded memory)
    for (let i = 0; i < count; i += window) {
      const sends: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(count, i + window); j++) sends.push(p.send({ topic, partition: j % n, value }));
      await p.flush();
      await Promise.all(sends);
    }
    const s = (performance.now() - t0) / 1000;
    return (count * value.length) / 1e6 / s;
  } finally {
    await p.close();
  }
}

async function metadataLatency(port: number, runs: number): Promise<number[]> {
  const c = await RawClient.connect(port);
  const out: number[] = [];
  try {
    await metadataAll(c); // warm-up
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await metadataAll(c);
      out.push(performance.now() - t0);
    }
  } finally {
    c.close();
  }
  return out;
}

export async function partitionsScenario(b: BrokerChild, o: PartitionsOptions): Promise<PartitionsFigures> {
  const bootstrap = `127.0.0.1:${b.port}`;
  const names = Array.from({ length: o.topics }, (_, i) => `scale-${String(i).padStart(5, '0')}`);
  const total = o.topics * o.partitions;
  say(`partitions: creating ${o.topics} topics x ${o.partitions} partitions`);
  const admin = await RawClient.connect(b.port);
  const t0 = performance.now();
  try {
    await createTopics(admin, names, o.partitions);
  } finally {
    admin.close();
  }
  const createMs = performance.now() - t0;
  say(`partitions: created in ${(createMs / 1000).toFixed(1)} s; producing ${o.records} records a partition`);
  const t1 = performance.now();
  await fillPartitions(bootstrap, names, o);
  const produceMs = performance.now() - t1;
  await sleep(1000);
  const rssMiB = rssKiB(b.pid) / 1024;
  const fds = openFds(b.pid);
  say(`partitions: RSS ${rssMiB.toFixed(0)} MiB, ${fds} fds; Metadata all topics x ${o.metadataRuns}`);
  const lat = await metadataLatency(b.port, o.metadataRuns);

  const cleanShutdownMs = await b.stop('SIGTERM');
  await b.start();
  const restartAfterCleanMs = await timeUntilListed(b, o.topics, total);
  // The broker's CPU time until then: what the start-up costs on a machine of its own (the wall time is shared).
  const cleanCpu = cpuMs(b.pid);
  say(
    `partitions: after SIGTERM (${cleanShutdownMs.toFixed(0)} ms) listed in ${restartAfterCleanMs.toFixed(0)} ms ` +
      `(broker CPU ${cleanCpu.toFixed(0)} ms)`,
  );
  await b.stop('SIGKILL');
  await b.start();
  const restartAfterKill9Ms = await timeUntilListed(b, o.topics, total);
  say(
    `partitions: after kill -9 listed in ${restartAfterKill9Ms.toFixed(0)} ms ` +
      `(broker CPU ${cpuMs(b.pid).toFixed(0)} ms)`,
  );
  await sleep(1000);
  const rssAfterRestartMiB = rssKiB(b.pid) / 1024;

  const c = await RawClient.connect(b.port);
  try {
    await createTopics(c, ['spread-wide'], o.spreadPartitions);
    await createTopics(c, ['spread-four'], 4);
  } finally {
    c.close();
  }
  const bytes = o.spreadMiB * 2 ** 20;
  const wide: number[] = [];
  const four: number[] = [];
  for (let round = 0; round < 2; round++) {
    say(`partitions: produce ${o.spreadMiB} MiB over ${o.spreadPartitions} vs 4 partitions, round ${round + 1}/2`);
    wide.push(await produceRate(bootstrap, 'spread-wide', o.spreadPartitions, bytes));
    four.push(await produceRate(bootstrap, 'spread-four', 4, bytes));
  }
  const spreadMBps = median(wide);
  const fourMBps = median(four);
  return {
    topics: o.topics,
    partitionsPerTopic: o.partitions,
    recordsPerPartition: o.records,
    createMs,
    produceMs,
    rssMiB,
    openFds: fds,
    metadataAllMedianMs: median(lat),
    metadataAllMaxMs: Math.max(...lat),
    cleanShutdownMs,
    restartAfterCleanMs,
    restartAfterKill9Ms,
    rssAfterRestartMiB,
    spreadPartitions: o.spreadPartitions,
    spreadMiB: o.spreadMiB,
    spreadMBps,
    fourMBps,
    spreadRatio: spreadMBps / fourMBps,
  };
}
