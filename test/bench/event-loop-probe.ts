/**
 * Debug probe of the broker's event loop (a benchmark aid, not broker code): loaded into the broker process with
 * `BROKER_NODE_ARGS="--import <dist>/test/bench/event-loop-probe.js"` and ELD_FILE=<path>, it samples the
 * event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution) and appends one line a second to ELD_FILE:
 * `<epoch ms> <max ms> <p99 ms> <mean ms> <cpu ms> <run-queue wait ms>` over that second. The last two are the
 * main thread's, from /proc/self/task/<pid>/schedstat (Linux; `NA` elsewhere): a delay with little CPU and a long
 * run-queue wait is the machine's other processes holding the cores, one with the CPU is the broker's own work
 * (session 11: the admin app's load at the 10,000th request was the latter, the other spikes the former).
 * The scale-latency scenarios read the lines of each measured window (latency-tools.ts `eventLoopDelay`).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.ELD_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const ms = (ns: number): string => (ns / 1e6).toFixed(1);
  /** [cpu ns, run-queue wait ns] of the main thread so far, or undefined where schedstat is missing. */
  const sched = (): [number, number] | undefined => {
    try {
      const [cpu, wait] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
      return Number.isFinite(cpu) && Number.isFinite(wait) ? [cpu!, wait!] : undefined;
    } catch {
      return undefined;
    }
  };
  let last = sched();
  setInterval(() => {
    const now = sched();
    const s = now && last ? `${ms(now[0] - last[0])} ${ms(now[1] - last[1])}` : 'NA NA';
    last = now;
    appendFileSync(file, `${Date.now()} ${ms(h.max)} ${ms(h.percentile(99))} ${ms(h.mean)} ${s}\n`);
    h.reset();
  }, 1000).unref();
}
