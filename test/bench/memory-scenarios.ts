/**
 * The memory and cold-cache scenarios of `npm run bench:scale` (issue #16), run against a broker child process
 * (scale-broker.ts) with the librdkafka generator of ../shared/perf (`loadgen`, security-procs.ts):
 *   memory  a topic of P partitions (100), GiB of 1 KiB records produced (bench.sh's producer settings, acks=1),
 *           then read back from the log start by `loadgen consume`; the broker's VmRSS sampled every 200 ms
 *           (peak while producing, while consuming, after each) and its VmHWM; then a slow consumer: one
 *           connection that pipelines F Fetch requests (50 MiB each, 1 MiB a partition, like clients' defaults)
 *           and never reads, and the RSS it costs the broker (bounded by back-pressure, not by F x 50 MiB)
 *   cold    consume-1k (bench.sh: COLD_MIB of 1 KiB records in 4 partitions, read from the start) ROUNDS
 *           times alternately with the page cache warm and dropped: MB/s medians, cold / warm (target >= 0.7).
 *           Dropping: COLD_METHOD=fadvise (default: fsync then posix_fadvise(DONTNEED) on every file of the
 *           data directory, python3 os.posix_fadvise; only this broker's files, other processes on the machine
 *           keep their cache) or drop_caches (`sync; echo 1 > /proc/sys/vm/drop_caches`, root; the whole
 *           machine's page cache). `fincore` (util-linux) gives the resident share of the data directory before
 *           each run, so the figure says whether the files were cold.
 * Every wait is bounded (generator timeouts, sampler stopped in finally); only processes started here are
 * signalled.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { encodeRequestFrame } from '../../protocol/frame.js';
import { defaultFetchRequest, encodeFetchRequest } from '../../protocol/generated/fetch-request.js';
import { RawClient } from '../helpers/raw-client.js';
import { type BrokerChild, createTopics, median, say, sleep } from './scale-broker.js';
import { type Figures, loadgenBinary, produce, runLoadgen } from './security-procs.js';

const MiB = 1024 * 1024;

/** VmRSS and VmHWM of a process in MiB. */
export function memStatus(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

/** Samples a process's VmRSS every `everyMs`; `mark()` starts a new phase and returns the last one's peak. */
export class RssSampler {
  private peak = 0;
  private allPeak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 200,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): number {
    try {
      const { rss } = memStatus(this.pid);
      this.peak = Math.max(this.peak, rss);
      this.allPeak = Math.max(this.allPeak, rss);
      return rss;
    } catch {
      return Number.NaN; // the process is gone
    }
  }

  mark(): number {
    this.sample();
    const p = this.peak;
    this.peak = 0;
    return p;
  }

  get overallPeak(): number {
    return this.allPeak;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** `loadgen consume` of `count` records of `topic` from the log start; its figures (rejects unless all read). */
export function consume(
  bin: string,
  bootstrap: string,
  topic: string,
  count: number,
  timeoutS: number,
  extra: string[] = [],
): Promise<Figures> {
  const args = ['consume', '-b', bootstrap, '-t', topic, '-n', String(count), '-T', String(timeoutS)];
  args.push('-X', 'fetch.wait.max.ms=100', ...extra);
  return runLoadgen(bin, args, timeoutS, (code, figures) =>
    code === 0 && Number(figures.get('msgs')) === count ? undefined : `read ${figures.get('msgs')}`,
  );
}

/** Every regular file under dir (recursively). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Share (0..1) of the bytes of dir's files resident in the page cache (`fincore`), NaN if unavailable. */
export function residentShare(dir: string): number {
  const files = filesUnder(dir).filter((f) => statSync(f).size > 0);
  if (files.length === 0) return Number.NaN;
  let res = 0;
  let size = 0;
  try {
    for (let i = 0; i < files.length; i += 200) {
      const out = execFileSync('fincore', ['-b', '-n', '-r', '-o', 'RES,SIZE', ...files.slice(i, i + 200)], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      for (const line of out.trim().split('\n')) {
        const [r, s] = line.trim().split(/\s+/).map(Number);
        res += r;
        size += s;
      }
    }
  } catch {
    return Number.NaN;
  }
  return size > 0 ? res / size : Number.NaN;
}

const FADVISE = `
import os, sys
for root, _, names in os.walk(sys.argv[1]):
    for n in names:
        fd = os.open(os.path.join(root, n), os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
`;

/** Drops dir's files from the page cache; returns the method that worked ('drop_caches' or 'fadvise'). */
export function dropCache(dir: string, method: string): string {
  if (method === 'drop_caches') {
    try {
      execFileSync('sync', [], { timeout: 120_000 });
      writeFileSync('/proc/sys/vm/drop_caches', '1');
      return 'drop_caches';
    } catch (err) {
      say(`drop_caches not permitted (${(err as Error).message}); posix_fadvise instead`);
    }
  }
  execFileSync('python3', ['-c', FADVISE, dir], { timeout: 120_000 });
  return 'fadvise';
}

/**
 * A slow consumer: one connection sends `count` Fetch v12 requests for every partition of topic from offset 0
 * (maxBytes 50 MiB, 1 MiB a partition, no wait) and does not read for `holdMs`: the broker's RSS peak over it.
 */
async function slowConsumer(b: BrokerChild, topic: string, partitions: number, count: number, holdMs: number) {
  const sock = connect({ host: '127.0.0.1', port: b.port });
  await new Promise<void>((r, j) => sock.once('connect', r).once('error', j));
  sock.on('error', () => {});
  sock.pause(); // never read: the broker's writes fill the socket buffers
  const req = {
    ...defaultFetchRequest(),
    maxWaitMs: 0,
    maxBytes: 50 * MiB,
    topics: [
      {
        topic,
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: Array.from({ length: partitions }, (_, p) => ({
          partition: p,
          currentLeaderEpoch: -1,
          fetchOffset: 0n,
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: MiB,
          replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
          highWatermark: -1n,
        })),
      },
    ],
  };
  const before = memStatus(b.pid).rss;
  let peak = before;
  for (let i = 0; i < count; i++) {
    for (const c of encodeRequestFrame(1, 12, i + 1, 'slow-consumer', (w) => encodeFetchRequest(w, 12, req))) {
      sock.write(c);
    }
  }
  const end = performance.now() + holdMs;
  while (performance.now() < end) {
    peak = Math.max(peak, memStatus(b.pid).rss);
    await sleep(100);
  }
  sock.destroy();
  await sleep(1000);
  return { requests: count, rssBeforeMiB: before, rssPeakMiB: peak, rssAfterMiB: memStatus(b.pid).rss };
}

export interface MemoryOptions {
  partitions: number;
  mib: number;
  slowFetches: number;
  slowHoldMs: number;
  timeoutS: number;
}

export async function memoryScenario(b: BrokerChild, o: MemoryOptions) {
  const bin = loadgenBinary();
  const boot = `127.0.0.1:${b.port}`;
  const topic = 'memory-bench';
  const count = Math.floor((o.mib * MiB) / 1024);
  const c = await RawClient.connect(b.port);
  await createTopics(c, [topic], o.partitions);
  c.close();
  const sampler = new RssSampler(b.pid);
  try {
    const rssStartMiB = sampler.mark();
    say(`memory: producing ${count} x 1 KiB to ${o.partitions} partitions`);
    const p = await produce(bin, boot, topic, count, 1024, [], o.timeoutS);
    const producePeakMiB = sampler.mark();
    const afterProduce = memStatus(b.pid);
    say(`memory: produced at ${p.get('MB_per_s')} MB/s, RSS ${afterProduce.rss.toFixed(0)} MiB; consuming`);
    // The client's own queue, not the broker's: 8 MiB a partition keeps the generator's memory modest.
    const r = await consume(bin, boot, topic, count, o.timeoutS, ['-X', 'queued.max.messages.kbytes=8192']);
    const consumePeakMiB = sampler.mark();
    const afterConsume = memStatus(b.pid);
    say(`memory: consumed at ${r.get('MB_per_s')} MB/s, RSS ${afterConsume.rss.toFixed(0)} MiB; slow consumer`);
    const slow = await slowConsumer(b, topic, o.partitions, o.slowFetches, o.slowHoldMs);
    await sleep(2000);
    const end = memStatus(b.pid);
    return {
      partitions: o.partitions,
      records: count,
      gib: (count * 1024) / (1024 * MiB),
      produceMBps: Number(p.get('MB_per_s')),
      consumeMBps: Number(r.get('MB_per_s')),
      rssStartMiB,
      producePeakMiB,
      rssAfterProduceMiB: afterProduce.rss,
      consumePeakMiB,
      rssAfterConsumeMiB: afterConsume.rss,
      slowConsumer: slow,
      rssFinalMiB: end.rss,
      rssPeakMiB: Math.max(sampler.overallPeak, slow.rssPeakMiB),
      vmHwmMiB: end.hwm,
    };
  } finally {
    sampler.stop();
  }
}

export interface ColdOptions {
  partitions: number;
  mib: number;
  rounds: number;
  method: string;
  timeoutS: number;
}

export async function coldScenario(b: BrokerChild, o: ColdOptions) {
  const bin = loadgenBinary();
  const boot = `127.0.0.1:${b.port}`;
  const topic = 'cold-bench';
  const count = Math.floor((o.mib * MiB) / 1024);
  const c = await RawClient.connect(b.port);
  await createTopics(c, [topic], o.partitions);
  c.close();
  say(`cold: producing ${count} x 1 KiB to ${o.partitions} partitions`);
  await produce(bin, boot, topic, count, 1024, [], o.timeoutS);
  await consume(bin, boot, topic, count, o.timeoutS); // unmeasured: the first read warms whatever the broker keeps
  const warm: number[] = [];
  const cold: number[] = [];
  const residentWarm: number[] = [];
  const residentCold: number[] = [];
  let method = o.method;
  for (let i = 0; i < o.rounds; i++) {
    residentWarm.push(residentShare(b.dataDir));
    warm.push(Number((await consume(bin, boot, topic, count, o.timeoutS)).get('MB_per_s')));
    method = dropCache(b.dataDir, o.method);
    residentCold.push(residentShare(b.dataDir));
    cold.push(Number((await consume(bin, boot, topic, count, o.timeoutS)).get('MB_per_s')));
    say(`cold: round ${i + 1}: warm ${warm[i]} MB/s, cold (${method}) ${cold[i]} MB/s`);
  }
  return {
    partitions: o.partitions,
    records: count,
    method,
    warmMBps: warm,
    coldMBps: cold,
    warmMedianMBps: median(warm),
    coldMedianMBps: median(cold),
    ratio: median(cold) / median(warm),
    residentWarm: Math.min(...residentWarm),
    residentCold: Math.max(...residentCold),
  };
}
