/**
 * How long the log cleaner and retention hold the event loop (a benchmark, not a test; issue #16: compaction and
 * retention must not stall produce). In this process: a PartitionLog on disk filled with MIB MiB of keyed records
 * (KEYS distinct keys, VALUE bytes each, BATCH records a batch, SEGMENT_MIB segments), then one clean
 * (LogCleaner.cleanLog), then retention of every closed segment (retention.bytes 0), while a 1 ms interval timer
 * records the longest gap between its ticks (the longest the loop was held; also the most CPU the main thread used
 * in one gap, which leaves out the time a shared machine took the core away: from /proc/thread-self/schedstat on
 * Linux, else the whole process's, which then counts the cleaner's worker thread too) and the gaps over 10 ms.
 * Usage: `tsc -p tsconfig.json && node dist/test/bench/cleaner-stall.bench.js` (env MIB 128, KEYS 10000,
 * VALUE 1000, BATCH 1000, SEGMENT_MIB 8). Prints one line per phase and one JSON line (`cleaner-stall-json`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { PartitionLog } from '../../storage/partition-log.js';
import { LogCleaner } from '../../storage/log-cleaner.js';
import { SystemClock } from '../../storage/clock.js';
import { buildRecordBatch, type RecordInput } from '../../protocol/records/builder.js';
import { DEFAULT_LOG_CONFIG } from '../helpers/log-config.js';
import type { LogConfig } from '../../storage/log-config.js';

const env = process.env;
const num = (name: string, dflt: number): number => {
  const v = Number(env[name] ?? dflt);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : dflt;
};

/** CPU ms used so far by the calling thread (Linux schedstat), or by the process where that is not readable. */
function threadCpuMs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]) / 1e6;
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
}

/** Runs `fn` while a 1 ms timer measures the longest gap between ticks. */
async function stallsOf<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; ms: number; maxGapMs: number; over10: number; maxCpuGapMs: number; cpuOver5: number }> {
  let last = performance.now();
  let lastCpu = threadCpuMs();
  let maxGapMs = 0;
  let maxCpuGapMs = 0;
  let over10 = 0;
  let cpuOver5 = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const gap = now - last;
    // CPU the main thread used during the gap: the loop's own work, apart from time the machine took the core away
    // (this box is shared): the wall gap includes both.
    const cpuNow = threadCpuMs();
    const cpuMs = cpuNow - lastCpu;
    if (gap > maxGapMs) maxGapMs = gap;
    if (cpuMs > maxCpuGapMs) maxCpuGapMs = cpuMs;
    if (gap > 10) over10++;
    if (cpuMs > 5) cpuOver5++;
    last = now;
    lastCpu = cpuNow;
  }, 1);
  const t0 = performance.now();
  try {
    const result = await fn();
    return { result, ms: performance.now() - t0, maxGapMs, over10, maxCpuGapMs, cpuOver5 };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const mib = num('MIB', 128);
  const keys = num('KEYS', 10_000);
  const valueSize = num('VALUE', 1000);
  const perBatch = num('BATCH', 1000);
  const segmentBytes = num('SEGMENT_MIB', 8) * 1024 * 1024;
  const dir = mkdtempSync(join(tmpdir(), 'runnel-cleaner-stall-'));
  const clock = new SystemClock();
  const config: LogConfig = {
    ...DEFAULT_LOG_CONFIG,
    cleanupPolicy: ['compact'],
    segmentBytes,
    minCleanableDirtyRatio: 0.01,
    fileDeleteDelayMs: 0,
  };
  const say = (s: string): boolean => process.stderr.write(`# ${s}\n`);
  say(`load average ${loadavg()[0]!.toFixed(2)}; ${mib} MiB, ${keys} keys, ${valueSize} B values, ${perBatch} a batch`);
  const out: Record<string, unknown> = { mib, keys, valueSize, perBatch, segmentMiB: segmentBytes / 1048576 };
  try {
    const log = await PartitionLog.open(join(dir, 't-0'), config, { clock });
    const value = Buffer.alloc(valueSize, 'v');
    const total = Math.ceil((mib * 1024 * 1024) / (valueSize + 30));
    for (let i = 0; i < total; i += perBatch) {
      const recs: RecordInput[] = [];
      for (let j = i; j < Math.min(total, i + perBatch); j++) recs.push({ key: `k${j % keys}`, value, timestamp: 0 });
      await log.append(await buildRecordBatch(recs, {}));
    }
    await log.forceRoll();
    log.updateHighWatermark(log.logEndOffset);
    say(`filled: ${log.segmentCount} segments, ${(log.size / 1048576).toFixed(0)} MiB, HW ${log.lastStableOffset}`);
    const cleaner = new LogCleaner({ clock });
    const c = await stallsOf(() => cleaner.cleanLog(log));
    say(
      `clean: ${c.ms.toFixed(0)} ms, ${c.result.segmentsReplaced} segments, ${c.result.recordsRemoved} records ` +
        `removed; longest loop stall ${c.maxGapMs.toFixed(1)} ms (CPU ${c.maxCpuGapMs.toFixed(1)} ms), ` +
        `${c.over10} stalls > 10 ms, ${c.cpuOver5} gaps with > 5 ms CPU`,
    );
    out.clean = {
      ms: c.ms,
      maxGapMs: c.maxGapMs,
      maxCpuGapMs: c.maxCpuGapMs,
      over10: c.over10,
      cpuOver5: c.cpuOver5,
      segments: c.result.segmentsReplaced,
    };
    // Retention: refill with uncompactable (distinct) keys, then delete every closed segment.
    for (let i = 0; i < total; i += perBatch) {
      const recs: RecordInput[] = [];
      for (let j = i; j < Math.min(total, i + perBatch); j++) recs.push({ key: `u${j}`, value, timestamp: 0 });
      await log.append(await buildRecordBatch(recs, {}));
    }
    await log.forceRoll();
    log.updateConfig({ ...config, cleanupPolicy: ['delete'], retentionBytes: 0 });
    const segs = log.segmentCount;
    const r = await stallsOf(() => log.deleteOldSegments());
    say(
      `retention: ${r.ms.toFixed(0)} ms, ${segs - log.segmentCount} of ${segs} segments; longest loop stall ` +
        `${r.maxGapMs.toFixed(1)} ms (CPU ${r.maxCpuGapMs.toFixed(1)} ms), ${r.over10} stalls > 10 ms, ` +
        `${r.cpuOver5} gaps with > 5 ms CPU`,
    );
    out.retention = {
      ms: r.ms,
      maxGapMs: r.maxGapMs,
      maxCpuGapMs: r.maxCpuGapMs,
      over10: r.over10,
      cpuOver5: r.cpuOver5,
      segments: segs - log.segmentCount,
    };
    await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`cleaner-stall-json ${JSON.stringify(out)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
