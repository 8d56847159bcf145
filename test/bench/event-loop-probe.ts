/**
 * Debug probe of the broker's event loop (a benchmark aid, not broker code): loaded into the broker process with
 * `BROKER_NODE_ARGS="--import <dist>/test/bench/event-loop-probe.js"` and ELD_FILE=<path>, it samples the
 * event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution) and appends one line a second to ELD_FILE:
 * `<epoch ms> <max ms> <p99 ms> <mean ms>` over that second. Without ELD_FILE it does nothing.
 * The scale-latency scenarios read the lines of each measured window (latency-tools.ts `eventLoopDelay`).
 */
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.ELD_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const ms = (ns: number): string => (ns / 1e6).toFixed(1);
  setInterval(() => {
    appendFileSync(file, `${Date.now()} ${ms(h.max)} ${ms(h.percentile(99))} ${ms(h.mean)}\n`);
    h.reset();
  }, 1000).unref();
}
