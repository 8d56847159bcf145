/**
 * The log cleaner's worker thread (started by cleaner-runner.ts WorkerRunner): runs CleanTasks (cleaner-task.ts)
 * for the broker's main thread, which posts `WorkerRequest`s and gets one `WorkerReply` per request.
 * It has its own NodeFileSystem (no descriptor cache: a task holds one source descriptor and its output's at a
 * time), SystemClock and IoThrottler (log.cleaner.io.max.bytes.per.second); it never yields for pacing (it has
 * its own event loop and core) and reads the stop flag the main thread shares (`WorkerInit.stopFlag`) per batch.
 * A throttle sleep is an Atomics.wait on that flag, so stopping wakes it (a stop never waits out a long sleep).
 * Tasks are kept by id from 'start' to 'close'; several may be open at once (cleans of different logs).
 * On Linux the thread lowers its own scheduling priority (nice `CLEANER_NICE`, this thread only: setpriority on
 * its thread id), so on a busy machine the broker's event loop gets the CPU first; the cleaner still gets its
 * share (nice 10 weighs about a tenth of nice 0). Best effort: where that fails it runs at normal priority.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { NodeFileSystem } from './fs.js';
import { SystemClock, type Clock, type TimerHandle } from './clock.js';
import { IoThrottler } from './cleaner-pacing.js';
import { CleanTask, type TaskEnv } from './cleaner-task.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './cleaner-runner.js';
import { StorageError } from '../protocol/errors.js';

/** Nice value of the cleaner thread (background work, as a batch job). */
const CLEANER_NICE = 10;

function lowerThreadPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop()); // `<pid>/task/<tid>`
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) setPriority(tid, CLEANER_NICE);
  } catch {
    // not Linux, or not allowed: normal priority
  }
}

lowerThreadPriority();
const init = workerData as WorkerInit;
const stopFlag = new Int32Array(init.stopFlag);
const clock = new SystemClock();
/** The throttle's clock: its sleeps block this thread (only cleaning runs here) and end at once on stop. */
const throttleClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    Atomics.wait(stopFlag, 0, 0, Math.max(0, ms));
    fn();
    return 0 as unknown as TimerHandle;
  },
  clearTimeout: () => undefined,
};
const throttler = new IoThrottler(throttleClock, init.ioMaxBytesPerSecond, init.ioCheckIntervalMs);
const env: TaskEnv = {
  fs: new NodeFileSystem(),
  clock,
  pause: () => undefined,
  throttle: (n) => throttler.maybeThrottle(n),
  stopped: () => Atomics.load(stopFlag, 0) !== 0,
};
const tasks = new Map<number, CleanTask>();

function taskOf(id: number): CleanTask {
  const t = tasks.get(id);
  if (!t) throw new StorageError(`no clean task ${id}`);
  return t;
}

async function handle(m: WorkerRequest): Promise<unknown> {
  switch (m.op) {
    case 'start':
      tasks.set(m.task, new CleanTask(m.job, env));
      return undefined;
    case 'map':
      return taskOf(m.task).buildMap();
    case 'rewrite':
      return taskOf(m.task).rewrite(m.first, m.count, m.markersRemovable);
    case 'close':
      tasks.delete(m.task);
      return undefined;
  }
}

parentPort?.on('message', (m: WorkerRequest) => {
  handle(m).then(
    (value) => parentPort?.postMessage({ id: m.id, ok: true, value } satisfies WorkerReply),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      const code = (e as { code?: unknown }).code;
      const error = { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) };
      parentPort?.postMessage({ id: m.id, ok: false, error } satisfies WorkerReply);
    },
  );
});
