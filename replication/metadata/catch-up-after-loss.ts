/**
 * Catching up with etcd after the session lost its lease (EtcdMetadataStore.catchUpIfStale).
 *
 * A node whose process was stopped (SIGSTOP, a long GC or VM pause) past broker.session.timeout.ms lost its
 * lease; meanwhile the controller moved its leaderships. Resumed, the node handles the requests queued in its
 * sockets before its etcd watch delivered those moves: its image still names it leader, and a Metadata answer
 * from it sends clients back to it (librdkafka 2.0's producer even stays stuck on such a partition, issue #13).
 * So the first requests after a loss wait for one catch-up: every key under the cluster prefix applied as etcd
 * has it now (its newest mod revision delivered by the watch; a delete after the last put is not waited for).
 *
 * Invariants: at most one attempt per lost lease, shared by every caller; an attempt settles (never rejects)
 * once caught up, failed, or after CATCH_UP_AFTER_LOSS_MS; after it settles, callers do not wait again until the
 * next loss (etcd unreachable: the node serves on with what it knows, as through an etcd outage). A deadline the
 * session's timer has not applied yet counts as a loss (`EtcdSession.expireIfDue`).
 */
import { SystemClock, type Clock, type TimerHandle } from '../../storage/clock.js';
import type { EtcdLog } from '../etcd/connection.js';
import { lastModRevision } from '../etcd/kv.js';
import type { EtcdSession } from '../etcd/session.js';

/** How long one catch-up after a lost lease may take before the node serves on with what it knows. */
export const CATCH_UP_AFTER_LOSS_MS = 2000;

export class CatchUpAfterLoss {
  /** The session's loss count the image has caught up after (or given up on). */
  private caughtUpLosses: number;
  private running: Promise<void> | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly session: EtcdSession,
    /** Resolves once the feed delivered `revision` to the subscribers. */
    private readonly delivery: (revision: number) => Promise<void>,
    clock?: Clock,
    private readonly log?: EtcdLog,
  ) {
    this.caughtUpLosses = session.losses;
    this.clock = clock ?? new SystemClock();
  }

  /** Undefined while no loss is pending; else the (shared) attempt to catch up after the latest loss. */
  catchUpIfStale(): Promise<void> | undefined {
    this.session.expireIfDue();
    const losses = this.session.losses;
    if (losses === this.caughtUpLosses) return undefined;
    if (this.running) return this.running;
    let timer: TimerHandle | undefined;
    const conn = this.session.conn;
    const p = Promise.race([
      lastModRevision(conn, conn.prefix).then((revision) => this.delivery(revision)),
      new Promise<void>((_, reject) => {
        timer = this.clock.setTimeout(
          () => reject(new Error(`not within ${CATCH_UP_AFTER_LOSS_MS} ms`)),
          CATCH_UP_AFTER_LOSS_MS,
        );
      }),
    ])
      .catch((err: Error) => this.log?.warn({ err: err.message }, 'metadata not caught up after the lost lease'))
      .finally(() => {
        this.clock.clearTimeout(timer);
        this.caughtUpLosses = Math.max(this.caughtUpLosses, losses);
        this.running = undefined;
      });
    this.running = p;
    return p;
  }
}
