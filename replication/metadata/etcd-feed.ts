/**
 * The read side of the etcd metadata store (etcd-store.ts): the image of the cluster prefix and the deltas that
 * follow it.
 *
 * - open: creates `cluster-id` if absent, reads the whole prefix into an image (offset 0), then watches the
 *   prefix from one past the read revision.
 * - Each etcd revision (one transaction) becomes one delta; deltas are applied and delivered to subscribers
 *   strictly one after another (the next waits until the listeners settled), so every node sees the same
 *   changes in the same (revision) order, none twice. A revision that changes nothing the image shows
 *   publishes nothing.
 * - A watch whose start revision etcd compacted is replaced by a re-read of the prefix, published as one
 *   delta of the differences, and a new watch from there.
 * - `delivery(revision)`: resolves once that revision has been delivered (rejects with the first subscriber
 *   failure of that very revision, or REQUEST_TIMED_OUT after `writeTimeoutMs`).
 */
import { CoordinationError, StorageError } from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { SystemClock, type Clock, type TimerHandle } from '../../storage/clock.js';
import { noLog, type EtcdLog } from '../etcd/connection.js';
import { createIfAbsent, rangePrefix, type KeyValue, type RangeResult } from '../etcd/kv.js';
import type { EtcdSession } from '../etcd/session.js';
import { watch, type EtcdWatch, type WatchEvent } from '../etcd/watch.js';
import { CLUSTER_ID_KEY, EtcdKeys, buildImage, nothingTouched } from './etcd-image.js';
import { MetadataImage, NO_LEADER, newTopicId } from './image.js';
import { ImagePublisher } from './publisher.js';
import type { MetadataListener } from './store.js';

export interface FeedOptions {
  session: EtcdSession;
  /** How long `delivery` waits. Default 30000 ms. */
  writeTimeoutMs?: number;
  clock?: Clock;
  log?: EtcdLog;
}

interface Pending {
  revision: number;
  events?: WatchEvent[];
  resync?: RangeResult;
}

interface Waiter {
  revision: number;
  resolve(): void;
  reject(err: unknown): void;
  timer: TimerHandle;
}

export class EtcdMetadataFeed {
  private readonly published: ImagePublisher;
  readonly keys: EtcdKeys;
  private readonly pending: Pending[] = [];
  private draining = false;
  private delivered: number;
  private waiters: Waiter[] = [];
  /** Checked after every applied revision (`until`). */
  private conditions: Array<() => void> = [];
  private stream: EtcdWatch | undefined;
  private closed = false;
  private readonly session: EtcdSession;
  private readonly clock: Clock;
  private readonly log: EtcdLog;

  private constructor(
    private readonly o: FeedOptions,
    keys: EtcdKeys,
    image: MetadataImage,
    revision: number,
  ) {
    this.session = o.session;
    this.clock = o.clock ?? new SystemClock();
    this.log = o.log ?? noLog;
    this.keys = keys;
    this.published = new ImagePublisher(image);
    this.delivered = revision;
  }

  static async open(o: FeedOptions): Promise<EtcdMetadataFeed> {
    const conn = o.session.conn;
    await createIfAbsent(conn, conn.key(CLUSTER_ID_KEY), newTopicId());
    const read = await rangePrefix(conn, conn.prefix);
    const keys = new EtcdKeys(conn.prefix);
    const touched = nothingTouched();
    for (const kv of read.kvs) keys.apply(kv, false, touched);
    const clusterId = keys.clusterId();
    if (!clusterId) throw new CoordinationError('ERR_ETCD_UNAVAILABLE', `no ${CLUSTER_ID_KEY} under ${conn.prefix}`);
    const empty = new MetadataImage({ clusterId, controllerId: NO_LEADER, offset: -1 });
    const built = buildImage(empty, keys, touched).image;
    const image = built === empty ? empty.next({}) : built;
    const feed = new EtcdMetadataFeed(o, keys, image, read.revision);
    feed.follow(read.revision + 1);
    return feed;
  }

  get image(): MetadataImage {
    return this.published.image;
  }

  subscribe(listener: MetadataListener): () => void {
    return this.published.subscribe(listener);
  }

  private get current(): MetadataImage {
    return this.published.image;
  }

  private follow(fromRevision: number): void {
    this.stream = watch(this.session.conn, {
      key: this.session.conn.prefix,
      prefix: true,
      fromRevision,
      clock: this.clock,
      onEvents: (events) => {
        let group: WatchEvent[] = [];
        for (const ev of events) {
          if (group.length && group[0].kv.modRevision !== ev.kv.modRevision) {
            this.pending.push({ revision: group[0].kv.modRevision, events: group });
            group = [];
          }
          group.push(ev);
        }
        if (group.length) this.pending.push({ revision: group[0].kv.modRevision, events: group });
        void this.drain();
      },
      onError: (err) => {
        this.log.warn({ err: err.message }, 'metadata watch stopped; re-reading the prefix');
        void this.resync();
      },
    });
  }

  private async resync(): Promise<void> {
    while (!this.closed) {
      try {
        const read = await rangePrefix(this.session.conn, this.session.conn.prefix);
        if (this.closed) return;
        this.pending.push({ revision: read.revision, resync: read });
        this.follow(read.revision + 1);
        void this.drain();
        return;
      } catch {
        await new Promise<void>((r) => this.clock.setTimeout(r, 250));
      }
    }
  }

  /** Applies and delivers pending revisions one at a time. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let item = this.pending.shift(); item; item = this.pending.shift()) {
        if (item.revision <= this.delivered) continue;
        const touched = nothingTouched();
        if (item.resync) {
          this.keys.touchAll(touched);
          this.keys.kvs.clear();
          for (const kv of item.resync.kvs) this.keys.apply(kv, false, touched);
        } else {
          for (const ev of item.events ?? []) this.keys.apply(ev.kv, ev.type === 'delete', touched);
        }
        const { image, changes } = buildImage(this.current, this.keys, touched);
        const failure = changes.length ? await this.published.publish(image, changes) : undefined;
        this.delivered = item.revision;
        this.settle(item.revision, failure);
        for (const check of [...this.conditions]) check();
      }
    } finally {
      this.draining = false;
    }
  }

  private settle(revision: number, failure: unknown): void {
    const done = this.waiters.filter((w) => w.revision <= revision);
    if (!done.length) return;
    this.waiters = this.waiters.filter((w) => w.revision > revision);
    for (const w of done) {
      this.clock.clearTimeout(w.timer);
      if (failure !== undefined && w.revision === revision) w.reject(failure);
      else w.resolve();
    }
  }

  /** Resolves once `revision` has been delivered to the subscribers (rejects with a subscriber's failure). */
  delivery(revision: number): Promise<void> {
    if (revision <= this.delivered) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        revision,
        resolve,
        reject,
        timer: this.clock.setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(
            new StorageError(
              `metadata change at etcd revision ${revision} not seen back within ${this.o.writeTimeoutMs ?? 30000} ms`,
              ErrorCode.REQUEST_TIMED_OUT,
            ),
          );
        }, this.o.writeTimeoutMs ?? 30000),
      };
      this.waiters.push(w);
    });
  }

  /**
   * Resolves once `cond()` holds for the image (checked now and after every applied revision); rejects with
   * REQUEST_TIMED_OUT after `writeTimeoutMs` (e.g. a key another node deleted: no revision to wait for is known).
   */
  until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.conditions = this.conditions.filter((c) => c !== check);
        this.clock.clearTimeout(timer);
      };
      const check = (): void => {
        if (!cond()) return;
        done();
        resolve();
      };
      const timer = this.clock.setTimeout(() => {
        done();
        reject(new StorageError('metadata change not seen within the write timeout', ErrorCode.REQUEST_TIMED_OUT));
      }, this.o.writeTimeoutMs ?? 30000);
      this.conditions.push(check);
    });
  }

  /** Waits until the key as etcd now has it (after a lost compare) is in the image. */
  catchUp(kv: KeyValue | undefined): Promise<void> {
    return kv ? this.delivery(kv.modRevision) : Promise.resolve();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream?.close();
    for (const w of this.waiters) {
      this.clock.clearTimeout(w.timer);
      w.reject(new StorageError('metadata store is closed'));
    }
    this.waiters = [];
  }
}
