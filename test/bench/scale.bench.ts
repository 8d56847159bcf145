import { cpus, loadavg } from 'node:os';
import { say, withBroker } from './scale-broker.js';
import { connectionsScenario, groupsScenario } from './scale-clients.js';
import { partitionsScenario } from './scale-partitions.js';
import { coldScenario, memoryScenario } from './memory-scenarios.js';
import { cleanerScenario, idleConsumersScenario, latencyRows, retentionScenario } from './scale-latency.js';
import { envInt } from './bench-env.js';

const env = process.env;

const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : 'NA');

async function main(): Promise<void> {
  const scenarios = new Set((env.SCENARIOS ?? 'partitions,connections,groups,memory,cold').split(','));
  const deadline = envInt('BENCH_DEADLINE_S', 1800, 7200);
  const watchdog = setTimeout(() => {
    say(`scale bench: over ${deadline} s, giving up`);
    process.exit(1);
  }, deadline * 1000);
  watchdog.unref();
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  say(`scale bench: node ${process.version}, ${cpus().length} CPUs, load average ${load}`);
  const out: Record<string, unknown> = {};
  const rows: [string, string, string][] = [];
  const row = (name: string, value: string, target = ''): number => rows.push([name, value, target]);

  if (scenarios.has('partitions')) {
    const f = await withBroker('runnel-scale-', {}, (b) =>
      partitionsScenario(b, {
        topics: envInt('TOPICS', 1000, 100_000),
        partitions: envInt('PARTITIONS', 10, 1000),
        records: envInt('RECORDS', 10, 10_000),
        metadataRuns: envInt('METADATA_RUNS', 21, 1000),
        spreadPartitions: envInt('SPREAD_PARTITIONS', 1000, 10_000),
        spreadMiB: envInt('SPREAD_MIB', 16, 4096),
      }),
    );
    out.partitions = f;
    const n = f.topics * f.partitionsPerTopic;
    row('partitions', `${f.topics} topics x ${f.partitionsPerTopic} = ${n}, ${f.recordsPerPartition} records each`);
    row('  create topics', `${fmt(f.createMs / 1000, 2)} s`);
    row('  produce the records', `${fmt(f.produceMs / 1000, 2)} s`);
    row('  broker RSS', `${fmt(f.rssMiB, 0)} MiB`, '< 300 MiB');
    row('  broker open fds', String(f.openFds));
    row('  Metadata all topics', `${fmt(f.metadataAllMedianMs)} ms median (max ${fmt(f.metadataAllMaxMs)})`, '< 50 ms');
    row('  SIGTERM -> exit', `${fmt(f.cleanShutdownMs / 1000, 2)} s`);
    row('  restart after SIGTERM', `${fmt(f.restartAfterCleanMs / 1000, 2)} s`, '< 3 s');
    row('  restart after kill -9', `${fmt(f.restartAfterKill9Ms / 1000, 2)} s`, '< 10 s');
    row('  RSS after restart', `${fmt(f.rssAfterRestartMiB, 0)} MiB`);
    row(
      `  produce ${f.spreadMiB} MiB over ${f.spreadPartitions} vs 4`,
      `${fmt(f.spreadMBps)} vs ${fmt(f.fourMBps)} MB/s = ${fmt(f.spreadRatio, 2)}`,
      '>= 0.7',
    );
  }
  if (scenarios.has('connections')) {
    const f = await withBroker('runnel-scale-', {}, (b) =>
      connectionsScenario(b, {
        connections: envInt('CONNECTIONS', 10_000, 100_000),
        active: envInt('ACTIVE', 1000, 100_000),
        activeSeconds: envInt('ACTIVE_S', 10, 600),
      }),
    );
    out.connections = f;
    row('connections', `${f.connections} idle (ApiVersions once)`);
    row('  broker RSS before / idle', `${fmt(f.rssBeforeMiB, 0)} / ${fmt(f.rssIdleMiB, 0)} MiB`);
    row('  per idle connection', `${fmt(f.kibPerIdleConnection)} KiB`, '< 30 KiB');
    row(`  ${f.active} active (Metadata loop)`, `${f.activeRequests} requests, RSS peak ${fmt(f.rssActiveMiB, 0)} MiB`);
  }
  if (scenarios.has('memory')) {
    const f = await withBroker('runnel-scale-', {}, (b) =>
      memoryScenario(b, {
        partitions: envInt('MEMORY_PARTITIONS', 100, 10_000),
        mib: envInt('MEMORY_MIB', 10_240, 1 << 20),
        slowFetches: envInt('SLOW_FETCHES', 64, 10_000),
        slowHoldMs: envInt('SLOW_HOLD_MS', 5000, 600_000),
        timeoutS: envInt('GEN_TIMEOUT', 1800, 7200),
      }),
    );
    out.memory = f;
    row('memory', `${fmt(f.gib, 2)} GiB of 1 KiB records over ${f.partitions} partitions`);
    row('  produce / consume', `${fmt(f.produceMBps)} / ${fmt(f.consumeMBps)} MB/s`);
    row('  RSS peak producing / after', `${fmt(f.producePeakMiB, 0)} / ${fmt(f.rssAfterProduceMiB, 0)} MiB`);
    row('  RSS peak consuming / after', `${fmt(f.consumePeakMiB, 0)} / ${fmt(f.rssAfterConsumeMiB, 0)} MiB`);
    const s = f.slowConsumer;
    row(
      `  slow consumer, ${s.requests} fetches unread`,
      `RSS ${fmt(s.rssBeforeMiB, 0)} -> ${fmt(s.rssPeakMiB, 0)} MiB`,
    );
    row(
      '  RSS peak / VmHWM / final',
      `${fmt(f.rssPeakMiB, 0)} / ${fmt(f.vmHwmMiB, 0)} / ${fmt(f.rssFinalMiB, 0)} MiB`,
      '< 250 MiB',
    );
  }
  if (scenarios.has('cold')) {
    const f = await withBroker('runnel-scale-', { 'num.partitions': 4 }, (b) =>
      coldScenario(b, {
        partitions: envInt('COLD_PARTITIONS', 4, 10_000),
        mib: envInt('COLD_MIB', 1024, 1 << 20),
        rounds: envInt('ROUNDS', 3, 20),
        method: env.COLD_METHOD ?? 'fadvise',
        timeoutS: envInt('GEN_TIMEOUT', 1800, 7200),
      }),
    );
    out.cold = f;
    row('cold consume-1k', `${f.records} x 1 KiB over ${f.partitions} partitions, ${f.warmMBps.length} rounds`);
    row('  warm', `${fmt(f.warmMedianMBps)} MB/s median (${f.warmMBps.map((x) => fmt(x)).join(', ')})`);
    row(`  cold (${f.method})`, `${fmt(f.coldMedianMBps)} MB/s median (${f.coldMBps.map((x) => fmt(x)).join(', ')})`);
    row('  page cache resident warm / cold', `${fmt(f.residentWarm * 100, 0)} % / ${fmt(f.residentCold * 100, 0)} %`);
    row('  cold / warm', fmt(f.ratio, 2), '>= 0.7');
  }
  if (scenarios.has('groups')) {
    // OFFSETS_SEGMENT_BYTES: the broker's offsets.topic.segment.bytes (default: its own default), so that a run
    // of a few minutes rolls __consumer_offsets segments and the cleaner compacts them before the restart.
    const segmentBytes = env.OFFSETS_SEGMENT_BYTES ? envInt('OFFSETS_SEGMENT_BYTES', 0, 2 ** 31 - 1) : undefined;
    const sets: Record<string, number> = segmentBytes ? { 'offsets.topic.segment.bytes': segmentBytes } : {};
    const f = await withBroker('runnel-scale-', sets, (b) =>
      groupsScenario(b, {
        groups: envInt('GROUP_COUNT', 1000, 100_000),
        members: envInt('MEMBERS', 4, 100),
        windowSeconds: envInt('WINDOW_S', 30, 3600),
      }),
    );
    out.groups = f;
    row('groups', `${f.groups} x ${f.members / f.groups} members, joined in ${fmt(f.joinMs / 1000, 2)} s`);
    row(`  commits over ${fmt(f.windowS)} s`, `${f.commits} (${f.commitErrors} errors), ${fmt(f.commitsPerS, 0)}/s`);
    row('  broker CPU', `${fmt(f.brokerCpuPct)} % of one core, ${fmt(f.cpuMsPerCommit, 3)} ms a commit`);
    row(`  broker CPU at ${f.members} commits/s`, `${fmt(f.brokerCpuPctAtTarget)} % of one core`, '< 50 %');
    row(
      '  __consumer_offsets at restart',
      `${fmt(f.offsetsLogMiB, 2)} MiB in ${f.offsetsSegments} segments` +
        (segmentBytes ? ` (segment.bytes ${segmentBytes})` : ''),
    );
    row('  broker: offsets replay', `${fmt(f.offsetsReplayMs / 1000, 2)} s`);
    row('  broker CPU from spawn to offsets loaded', `${fmt(f.restartCpuMs / 1000, 2)} s`);
    row(
      '  restart -> offsets loaded',
      `${fmt(f.offsetsLoadMs / 1000, 2)} s (accepting after ${fmt(f.restartAcceptMs / 1000, 2)} s)`,
      '< 2 s',
    );
  }
  if (scenarios.has('idle-consumers')) out.idleConsumers = await idleConsumersScenario();
  if (scenarios.has('cleaner')) out.cleaner = await cleanerScenario();
  if (scenarios.has('retention')) out.retention = await retentionScenario();
  for (const r of latencyRows(out)) row(...r);
  const w = Math.max(...rows.map((r) => r[0].length));
  const v = Math.max(...rows.map((r) => r[1].length));
  for (const [name, value, target] of rows) {
    process.stdout.write(`${name.padEnd(w)}  ${value.padEnd(v)}  ${target ? `(target ${target})` : ''}\n`);
  }
  process.stdout.write(`scale-json ${JSON.stringify(out)}\n`);
  say(
    `load average after: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (a shared machine: figures are noisy)`,
  );
  clearTimeout(watchdog);
}

main().catch((err: Error) => {
  console.error(err.stack);
  process.exit(1);
});
