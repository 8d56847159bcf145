/**
 * A watch on one key or a key prefix from a given revision, that survives disconnects without losing or
 * repeating an event.
 *
 * It keeps `nextRevision`: one past the modRevision of the last event it delivered (progress notifications
 * are not trusted to move it: some etcd versions sent them ahead of pending events). When the stream
 * fails (etcd restarted, unreachable) it opens a new one after `retryMs` (on the injected clock) starting at
 * nextRevision, and drops any event below it. Events arrive in batches of whole revisions (one etcd response:
 * a multi-key txn is never split), in revision order.
 * A start revision etcd has compacted away cannot be resumed: the watch stops and reports a CoordinationError
 * ERR_WATCH_COMPACTED; the caller re-reads (rangePrefix) and watches again from there.
 */
import type { IWatchRequest, IWatchResponse } from 'etcd3';
import { CoordinationError } from '../../protocol/errors.js';
import { SystemClock, type Clock, type TimerHandle } from '../../storage/clock.js';
import { coordinationError, type EtcdConnection } from './connection.js';
import { prefixEnd, toKeyValue, type KeyValue } from './kv.js';

export interface WatchEvent {
  type: 'put' | 'delete';
  /** For a delete: the key and the deletion's modRevision, with an empty value. */
  kv: KeyValue;
  /** The key before the event, when etcd still had it. */
  prevKv?: KeyValue;
}

export interface WatchOptions {
  key: string;
  /** Watch every key starting with `key`. */
  prefix?: boolean;
  /** First revision to deliver (a range read's revision + 1). */
  fromRevision: number;
  onEvents(events: WatchEvent[]): void;
  /** The watch stopped for good (compacted start revision, cancelled by etcd). */
  onError?(err: CoordinationError): void;
  /** The stream is (re)established or lost. */
  onConnected?(connected: boolean): void;
  clock?: Clock;
  /** Delay before reopening a failed stream. Default 250 ms. */
  retryMs?: number;
}

interface Stream {
  write(req: IWatchRequest): void;
  on(ev: 'data', fn: (res: IWatchResponse) => void): Stream;
  on(ev: 'error', fn: (err: Error) => void): Stream;
  on(ev: 'end', fn: () => void): Stream;
  cancel(): void;
}

export class EtcdWatch {
  private next: number;
  private stream: Stream | undefined;
  private timer: TimerHandle | undefined;
  private closed = false;
  private readonly clock: Clock;
  private readonly retryMs: number;

  constructor(
    private readonly conn: EtcdConnection,
    private readonly opts: WatchOptions,
  ) {
    this.next = opts.fromRevision;
    this.clock = opts.clock ?? new SystemClock();
    this.retryMs = opts.retryMs ?? 250;
    void this.open();
  }

  /** The revision the watch resumes from: every event below it has been delivered. */
  get nextRevision(): number {
    return this.next;
  }

  get connected(): boolean {
    return this.stream !== undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.drop();
  }

  private drop(): void {
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      try {
        s.cancel();
      } catch {
        // already gone
      }
    }
  }

  private async open(): Promise<void> {
    if (this.closed) return;
    let s: Stream;
    try {
      s = (await this.conn.client.watchClient.watch()) as unknown as Stream;
    } catch {
      this.retry();
      return;
    }
    if (this.closed) {
      s.cancel();
      return;
    }
    let live = true;
    const fail = (): void => {
      if (!live) return;
      live = false;
      if (this.stream === s) {
        this.stream = undefined;
        this.opts.onConnected?.(false);
      }
      try {
        s.cancel();
      } catch {
        // already gone
      }
      this.retry();
    };
    s.on('data', (res) => {
      if (live) this.onResponse(s, res, fail);
    });
    s.on('error', fail);
    s.on('end', fail);
    const key = Buffer.from(this.opts.key);
    s.write({
      create_request: {
        key,
        range_end: this.opts.prefix ? prefixEnd(this.opts.key) : undefined,
        start_revision: this.next,
        prev_kv: true,
      },
    });
  }

  private retry(): void {
    if (this.closed) return;
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => void this.open(), this.retryMs);
  }

  private onResponse(s: Stream, res: IWatchResponse, fail: () => void): void {
    if (this.closed) return;
    if (res.canceled) {
      const compacted = Number(res.compact_revision ?? 0);
      if (compacted > 0) {
        this.close();
        this.opts.onError?.(
          new CoordinationError(
            'ERR_WATCH_COMPACTED',
            `watch ${this.opts.key} from revision ${this.next}: etcd compacted up to ${compacted}`,
          ),
        );
        return;
      }
      if (res.created) {
        // Refused at creation for another reason (bad request): retrying would loop on the same answer.
        this.close();
        this.opts.onError?.(coordinationError(new Error(res.cancel_reason || 'watch refused'), 'watch'));
        return;
      }
      fail();
      return;
    }
    if (res.created) {
      this.stream = s;
      this.opts.onConnected?.(true);
    }
    const events: WatchEvent[] = [];
    for (const ev of res.events ?? []) {
      const kv = toKeyValue(ev.kv);
      if (kv.modRevision < this.next) continue; // delivered before a reconnect
      events.push({
        type: String(ev.type).toLowerCase() === 'delete' ? 'delete' : 'put',
        kv,
        prevKv: ev.prev_kv ? toKeyValue(ev.prev_kv) : undefined,
      });
    }
    if (events.length) {
      this.next = events[events.length - 1].kv.modRevision + 1;
      this.opts.onEvents(events);
    }
  }
}

/** Starts a watch (see EtcdWatch). */
export function watch(conn: EtcdConnection, opts: WatchOptions): EtcdWatch {
  return new EtcdWatch(conn, opts);
}
