/**
 * Where the log cleaner's heavy work (cleaner-task.ts: offset map, batch rewrite with CRCs, writing `.cleaned`
 * segments) runs. Kafka runs its cleaner on threads of its own; so does Runnel when the log's files are the OS's:
 * - `WorkerRunner`: one worker thread (cleaner-worker.ts, started on first use, kept while the cleaner lives,
 *   unref'd while idle) runs the tasks with its own NodeFileSystem (read-only descriptors for the sources; the
 *   `.cleaned` files it writes, fsyncs and closes itself). The broker's event loop only posts a job and receives
 *   small results. Stopping sets a flag shared with the worker (a SharedArrayBuffer), which the task polls per
 *   batch, so a running task ends at its next batch even though the worker never yields; the thread is terminated
 *   once no call is outstanding. The worker's throttle (log.cleaner.io.max.bytes.per.second) is its own.
 * - `InlineRunner`: the same task on the calling event loop with the log's own FileSystem (a MemoryFileSystem in
 *   tests: fault injection and power loss see every write), paced by the cleaner's TimeSlicer and IoThrottler.
 * Errors thrown in the worker come back as the same classes where it matters (CleanerAbortedError,
 * CorruptRecordError) and as StorageError otherwise. A worker that dies fails its outstanding calls; the next
 * task starts a new one. One that dies before answering anything (it could not load) fails them with
 * WorkerUnavailableError, upon which the LogCleaner runs its cleans inline from then on.
 */

import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FileSystem } from './fs.js';
import type { Clock } from './clock.js';
import type { IoThrottler, TimeSlicer } from './cleaner-pacing.js';
import { CleanTask, CleanerAbortedError } from './cleaner-task.js';
import type { CleanJob, RewriteResult } from './cleaner-task.js';
import { CorruptRecordError, StorageError } from '../protocol/errors.js';

/** One clean's task, wherever it runs (calls are sequential; see cleaner-task.ts). */
export interface TaskHandle {
  buildMap(): Promise<number | undefined>;
  rewrite(first: number, count: number, markersRemovable: boolean): Promise<RewriteResult>;
  /** The clean is over: free the task (its offset map). */
  close(): Promise<void>;
}

export interface CleanerRunner {
  start(job: CleanJob, fs: FileSystem): Promise<TaskHandle>;
  /** Running tasks end at their next batch (CleanerAbortedError); resources are released. */
  stop(): void;
}

/** Messages to the worker. */
export type WorkerRequest =
  | { id: number; op: 'start'; task: number; job: CleanJob }
  | { id: number; op: 'map'; task: number }
  | { id: number; op: 'rewrite'; task: number; first: number; count: number; markersRemovable: boolean }
  | { id: number; op: 'close'; task: number };

/** Replies from the worker. */
export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; code?: string; message: string } };

/** Data the worker starts with. */
export interface WorkerInit {
  stopFlag: SharedArrayBuffer;
  ioMaxBytesPerSecond: number;
  /** IoThrottler's check interval (ms). */
  ioCheckIntervalMs: number;
}

/** The worker thread could not start (its script missing or failing to load): the cleaner runs inline instead. */
export class WorkerUnavailableError extends StorageError {}

/** The error a worker reported, as a main-thread error of the matching class. */
export function errorFromWorker(e: { name: string; code?: string; message: string }): Error {
  if (e.name === 'CleanerAbortedError') return new CleanerAbortedError();
  if (e.code === 'ERR_CORRUPT_RECORD') return new CorruptRecordError(e.message);
  return new StorageError(`log cleaner worker: ${e.message}`);
}

export class InlineRunner implements CleanerRunner {
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly slicer: TimeSlicer,
    private readonly throttler: IoThrottler,
  ) {}

  async start(job: CleanJob, fs: FileSystem): Promise<TaskHandle> {
    const task = new CleanTask(job, {
      fs,
      clock: this.clock,
      pause: () => this.slicer.pause(),
      throttle: (n) => this.throttler.maybeThrottle(n),
      stopped: () => this.stopped,
    });
    return {
      buildMap: () => task.buildMap(),
      rewrite: (first, count, removable) => task.rewrite(first, count, removable),
      close: async () => undefined,
    };
  }

  stop(): void {
    this.stopped = true;
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

type Op = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class WorkerRunner implements CleanerRunner {
  private worker: Worker | undefined;
  private readonly stopFlag = new SharedArrayBuffer(4);
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextTask = 1;
  private stopped = false;
  /** The current worker has answered (it loaded). */
  private answered = false;

  constructor(
    private readonly opts: {
      ioMaxBytesPerSecond: number;
      ioCheckIntervalMs: number;
      logger?: Logger;
      /** The worker's script (default: cleaner-worker.js next to this module). */
      script?: URL;
    },
  ) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const { ioMaxBytesPerSecond, ioCheckIntervalMs } = this.opts;
    const init: WorkerInit = { stopFlag: this.stopFlag, ioMaxBytesPerSecond, ioCheckIntervalMs };
    // '../storage/' resolves from dist/storage/ and from the bundle's dist/bundle/ alike.
    const script = this.opts.script ?? new URL('../storage/cleaner-worker.js', import.meta.url);
    let w: Worker;
    try {
      w = new Worker(script, { workerData: init, execArgv: [] });
    } catch (err) {
      throw new WorkerUnavailableError(String(err));
    }
    w.on('message', (m: WorkerReply) => this.settle(m));
    w.on('error', (err) => this.fail(w, err));
    w.on('exit', (code) => this.fail(w, new StorageError(`log cleaner worker exited (${code})`)));
    w.unref();
    this.worker = w;
    this.answered = false;
    return w;
  }

  private settle(m: WorkerReply): void {
    this.answered = true;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.idle();
    if (m.ok) p.resolve(m.value);
    else p.reject(errorFromWorker(m.error));
  }

  /** The worker died: its outstanding calls fail; the next call starts a new one. */
  private fail(w: Worker, err: Error): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    if (!this.stopped) this.opts.logger?.warn({ err }, 'log cleaner worker failed');
    const all = [...this.pending.values()];
    this.pending.clear();
    const error = (): Error => {
      if (this.stopped) return new CleanerAbortedError();
      return this.answered ? new StorageError(err.message) : new WorkerUnavailableError(err.message);
    };
    for (const p of all) p.reject(error());
  }

  private idle(): void {
    if (this.stopped) {
      void this.worker?.terminate();
      this.worker = undefined;
    } else this.worker?.unref();
  }

  private call<T>(op: Op): Promise<T> {
    if (this.stopped) return Promise.reject(new CleanerAbortedError());
    let w: Worker;
    try {
      w = this.ensureWorker();
    } catch (err) {
      return Promise.reject(err);
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.ref();
      w.postMessage({ ...op, id });
    });
  }

  async start(job: CleanJob): Promise<TaskHandle> {
    const task = this.nextTask++;
    await this.call<void>({ op: 'start', task, job });
    return {
      buildMap: () => this.call<number | undefined>({ op: 'map', task }),
      rewrite: (first, count, markersRemovable) =>
        this.call<RewriteResult>({ op: 'rewrite', task, first, count, markersRemovable }),
      close: () => this.call<void>({ op: 'close', task }).catch(() => undefined),
    };
  }

  stop(): void {
    if (this.stopped) return;
    const flag = new Int32Array(this.stopFlag);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0); // wakes a throttle sleep
    this.stopped = true;
    if (this.pending.size === 0) this.idle();
  }
}
