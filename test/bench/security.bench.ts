/**
 * `npm run bench:security`: the cost of security on the produce path (issue #14; a benchmark, not a test).
 * Two modes, chosen by MODE:
 *   loadgen  (the default when $BIN/loadgen is built or ../shared/perf is there to build it) the issue's
 *            workloads with ../shared/perf's librdkafka generator against `runnel start` child processes:
 *            produce-1k PLAINTEXT vs SSL, produce-100 without authorizer vs 10,000 ACLs (security-loadgen.ts)
 *   kafkajs  kafkajs and an in-process broker, for a machine without librdkafka (security-kafkajs.ts)
 * Each prints a table and one `security-json {...}` line on stdout. A watchdog (BENCH_DEADLINE_S, 1800 s)
 * ends the run; brokers started as child processes are killed when this process exits.
 */
import { builtLoadgen, perfDir } from './security-procs.js';

const deadline = Math.min(Math.max(Number(process.env.BENCH_DEADLINE_S ?? 1800) || 1800, 1), 7200);
const watchdog = setTimeout(() => {
  process.stderr.write('security bench: deadline passed\n');
  process.exit(2);
}, deadline * 1000);
watchdog.unref();

async function main(): Promise<void> {
  const mode = process.env.MODE ?? (builtLoadgen() || perfDir() ? 'loadgen' : 'kafkajs');
  if (mode === 'loadgen') return (await import('./security-loadgen.js')).runLoadgen();
  if (mode === 'kafkajs') return (await import('./security-kafkajs.js')).runKafkajs();
  throw new Error(`MODE must be loadgen or kafkajs, not ${mode}`);
}

main().then(
  () => clearTimeout(watchdog),
  (err: Error) => {
    process.stderr.write(`security bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
