/**
 * Leader election on one key under the cluster prefix (the controller: `<prefix>controller`), bound to the
 * session's lease, the way Kafka's ZooKeeper-era controller used an ephemeral /controller znode.
 *
 * - campaign: a txn "create the key with my lease if it does not exist"; if another holds it, watch the key
 *   until it is deleted (its holder's lease revoked or expired, or it resigned) and try again. Resolves with
 *   a Leadership whose epoch is the key's create revision: strictly greater for every new leader, so it is
 *   the controller epoch.
 * - Leadership.guard(): a compare to put in every txn the leader writes (`createRevision == epoch`): once
 *   the key is gone or someone else's, the write fails instead of overwriting a newer leader's state.
 * - Leadership is lost when the session loses its lease, or the key is deleted or replaced; onLost runs once.
 * - resign: deletes the key if it is still this leadership's.
 * - observe: the current leader and every change.
 */
import { CoordinationError } from '../../protocol/errors.js';
import type { EtcdConnection } from './connection.js';
import { get, rangePrefix, txn, type Compare, type KeyValue } from './kv.js';
import type { EtcdSession } from './session.js';
import { watch, type EtcdWatch } from './watch.js';

export interface LeaderInfo {
  nodeId: number;
  /** The key's create revision. */
  epoch: number;
  lease: string;
}

function parseLeader(kv: KeyValue): LeaderInfo {
  let nodeId = -1;
  try {
    const v = JSON.parse(kv.value.toString()) as { nodeId?: unknown };
    if (typeof v.nodeId === 'number') nodeId = v.nodeId;
  } catch {
    // not ours: reported with node id -1
  }
  return { nodeId, epoch: kv.createRevision, lease: kv.lease };
}

export class Leadership {
  private lostErr: CoordinationError | undefined;
  private readonly listeners = new Set<(err: CoordinationError) => void>();
  private readonly offSession: () => void;
  private readonly keyWatch: EtcdWatch;

  constructor(
    private readonly session: EtcdSession,
    readonly key: string,
    readonly nodeId: number,
    readonly epoch: number,
    readonly lease: string,
  ) {
    this.offSession = session.onLost((err) => this.lose(err));
    this.keyWatch = watch(session.conn, {
      key,
      fromRevision: epoch + 1,
      onEvents: (events) => {
        for (const ev of events) {
          if (ev.type === 'delete' || ev.kv.createRevision !== epoch)
            this.lose(new CoordinationError('ERR_NOT_CONTROLLER', `${key} was deleted or replaced`, 41));
        }
      },
      onError: (err) => this.lose(err),
    });
    if (session.leaseId !== lease) this.lose(new CoordinationError('ERR_LEASE_LOST', 'lease lost while elected'));
  }

  get isLeader(): boolean {
    return this.lostErr === undefined;
  }

  /** Runs `fn` once when leadership is lost (at once if it already is). Returns an unsubscribe. */
  onLost(fn: (err: CoordinationError) => void): () => void {
    if (this.lostErr) {
      fn(this.lostErr);
      return () => {};
    }
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The compare that makes a txn succeed only while this leadership holds the key. */
  guard(): Compare {
    return { key: this.key, createRevision: this.epoch };
  }

  /** Gives leadership up: deletes the key if it is still ours. */
  async resign(): Promise<void> {
    this.lose(new CoordinationError('ERR_NOT_CONTROLLER', 'resigned', 41));
    await txn(this.session.conn, { compare: [this.guard()], success: [{ delete: this.key }] });
  }

  private lose(err: CoordinationError): void {
    if (this.lostErr) return;
    this.lostErr = err;
    this.offSession();
    this.keyWatch.close();
    for (const fn of [...this.listeners]) fn(err);
    this.listeners.clear();
  }
}

export class Election {
  readonly key: string;

  constructor(
    private readonly session: EtcdSession,
    readonly nodeId: number,
    name = 'controller',
  ) {
    this.key = session.conn.key(name);
  }

  /** Campaigns until elected (or `signal` aborts: rejects with ERR_CLOSED). */
  async campaign(signal?: AbortSignal): Promise<Leadership> {
    const conn = this.session.conn;
    const value = JSON.stringify({ nodeId: this.nodeId });
    for (;;) {
      if (signal?.aborted) throw new CoordinationError('ERR_CLOSED', 'campaign aborted');
      const lease = this.session.leaseId;
      if (!lease) {
        await this.session.sleep();
        continue;
      }
      let wait: number;
      try {
        const r = await txn(conn, {
          compare: [{ key: this.key, createRevision: 0 }],
          success: [{ put: this.key, value, lease }],
          failure: [{ get: this.key }],
        });
        if (r.succeeded) return new Leadership(this.session, this.key, this.nodeId, r.revision, lease);
        const cur = r.results[0][0];
        if (cur && cur.lease === lease)
          return new Leadership(this.session, this.key, this.nodeId, cur.createRevision, lease);
        wait = r.revision + 1;
      } catch (err) {
        if (!(err instanceof CoordinationError) || err.code !== 'ERR_ETCD_UNAVAILABLE') throw err;
        await this.session.sleep();
        continue;
      }
      await this.vacated(conn, wait, signal);
    }
  }

  /** The current leader, if any. */
  async leader(): Promise<LeaderInfo | undefined> {
    const kv = await get(this.session.conn, this.key);
    return kv ? parseLeader(kv) : undefined;
  }

  /** Calls `fn` with the current leader, then at every change. Returns a stop function. */
  async observe(fn: (leader: LeaderInfo | undefined) => void): Promise<() => void> {
    const r = await rangePrefix(this.session.conn, this.key);
    const kv = r.kvs.find((k) => k.key === this.key);
    fn(kv ? parseLeader(kv) : undefined);
    const w = watch(this.session.conn, {
      key: this.key,
      fromRevision: r.revision + 1,
      onEvents: (events) => {
        const last = events[events.length - 1];
        fn(last.type === 'put' ? parseLeader(last.kv) : undefined);
      },
    });
    return () => w.close();
  }

  /** Resolves when the key is deleted at or after `fromRevision`, the session's lease changes, or abort. */
  private vacated(conn: EtcdConnection, fromRevision: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        w.close();
        offLost();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const w = watch(conn, {
        key: this.key,
        fromRevision,
        onEvents: (events) => {
          if (events.some((e) => e.type === 'delete')) done();
        },
        onError: done,
      });
      const offLost = this.session.onLost(done);
      signal?.addEventListener('abort', done);
    });
  }
}
