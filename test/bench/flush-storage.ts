/**
 * MODE=storage of `npm run bench:flush`: group commit measured below the protocol, in this process, where the
 * clients' CPU does not hide it. Four PartitionLogs on real files (NodeFileSystem, a temp directory), PRODUCERS x
 * IN_FLIGHT concurrent appenders, each appending BATCH-record batches of SIZE-byte values round-robin over the
 * four logs until STORAGE_MB are written; once with flush.messages unset (plain) and once with flush.messages=1
 * (every append awaits the fdatasync covering it), ROUNDS rounds. Per run: MB/s, appends, flush runs (group
 * commits: fdatasyncs of the active segment) and appends per flush run. Prints a table and one
 * `flush-storage-json {...}` line. No goal is asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeFileSystem } from '../../storage/fs.js';
import { FakeClock } from '../../storage/clock.js';
import { LONG_MAX } from '../../storage/log-config.js';
import { PartitionLog } from '../../storage/partition-log.js';
import { DEFAULT_LOG_CONFIG } from '../helpers/log-config.js';
import { batchOf } from '../storage/helpers.js';
import { say } from './security-procs.js';
import { median } from './bench-env.js';

interface StorageRun {
  mbps: number;
  appends: number;
  flushRuns: number;
  appendsPerRun: number;
  load1: number;
}

async function once(flush: boolean, o: StorageOptions): Promise<StorageRun> {
  const dir = mkdtempSync(join(tmpdir(), 'flushbench-storage-'));
  try {
    const config = { ...DEFAULT_LOG_CONFIG, cleanupPolicy: ['delete' as const], flushMessages: flush ? 1 : LONG_MAX };
    const logs: PartitionLog[] = [];
    for (let i = 0; i < 4; i++) {
      logs.push(
        await PartitionLog.open(join(dir, `t-${i}`), config, { fs: new NodeFileSystem(), clock: new FakeClock() }),
      );
    }
    const proto = batchOf(o.batch, { valueSize: o.size });
    const total = Math.ceil((o.mb * 1e6) / proto.length);
    let issued = 0;
    const t0 = performance.now();
    const appender = async (first: number): Promise<void> => {
      for (let p = first; issued < total; p++) {
        issued++;
        await logs[p % 4].append(Buffer.from(proto)); // stamped in place: a copy per append
      }
    };
    await Promise.all(Array.from({ length: o.producers * o.inFlight }, (_, i) => appender(i)));
    const seconds = (performance.now() - t0) / 1000;
    const flushRuns = logs.reduce((n, l) => n + l.flushCount, 0);
    for (const l of logs) await l.close();
    return {
      mbps: Number(((total * proto.length) / seconds / 1e6).toFixed(1)),
      appends: total,
      flushRuns,
      appendsPerRun: flushRuns > 0 ? Number((total / flushRuns).toFixed(1)) : 0,
      load1: Number(loadavg()[0].toFixed(2)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface StorageOptions {
  rounds: number;
  producers: number;
  inFlight: number;
  batch: number;
  size: number;
  mb: number;
}

export async function runStorage(o: StorageOptions): Promise<void> {
  const load0 = loadavg().map((x) => Number(x.toFixed(2)));
  say(`flush bench (storage): node ${process.version}, ${cpus().length} CPUs, load average ${load0}`);
  const plain: StorageRun[] = [];
  const flushed: StorageRun[] = [];
  for (let r = 1; r <= o.rounds; r++) {
    for (const [flush, runs] of [
      [false, plain],
      [true, flushed],
    ] as const) {
      const run = await once(flush, o);
      runs.push(run);
      say(
        `${flush ? 'flush' : 'plain'} ${o.producers * o.inFlight} appenders x ${o.batch} x ${o.size} B: ` +
          `${run.mbps} MB/s, ${run.appends} appends, ${run.flushRuns} flush runs, load1 ${run.load1}`,
      );
    }
  }
  const ratio = median(plain.map((p, i) => flushed[i].mbps / p.mbps));
  const perRun = median(flushed.map((f) => f.appendsPerRun));
  console.log(
    `storage: plain ${median(plain.map((p) => p.mbps))} MB/s, flush ${median(flushed.map((f) => f.mbps))} MB/s, ` +
      `flush/plain ${ratio.toFixed(3)}, ${perRun} appends per flush run (medians of ${o.rounds} rounds)`,
  );
  const loadEnd = loadavg().map((x) => Number(x.toFixed(2)));
  console.log(`load average (1m/5m/15m) at start ${load0.join('/')}, at end ${loadEnd.join('/')}`);
  const out = { ...o, ratio: Number(ratio.toFixed(3)), appendsPerRun: perRun, load0, loadEnd };
  console.log(`flush-storage-json ${JSON.stringify({ ...out, runs: { plain, flush: flushed } })}`);
}
