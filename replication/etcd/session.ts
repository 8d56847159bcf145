/**
 * A broker's session with etcd: one lease (TTL `broker.session.timeout.ms`, Kafka's default 9000 ms) kept
 * alive over a keep-alive stream, and a fresh lease whenever it is lost.
 *
 * Timing is ours, on the injected clock, and errs towards fencing early: the lease is taken to expire TTL
 * after the *sending* of the last keep-alive etcd answered (etcd's own expiry can only be later). When that
 * deadline passes without a newer answer (etcd paused, down, unreachable), or etcd answers that the lease is
 * gone (revoked, expired), the session is lost: `onLost` listeners run at once (a broker stops leading
 * there), then the session retries every `retryMs`: it revokes the old lease (so keys bound to it, the old
 * registration and any controller key, are gone before anything is re-created) and grants a new one, and
 * `onEstablished` listeners run with it. `expireIfDue` applies a deadline already passed whose timer has not
 * run yet (a process resumed after a stop handles its queued I/O before its timers); `losses` counts losses. A
 * keep-alive stream that merely breaks is reopened; that alone loses
 * nothing while answers come back within the TTL (an etcd restart shorter than the TTL goes unnoticed).
 */
import { CoordinationError } from '../../protocol/errors.js';
import { SystemClock, type Clock, type TimerHandle } from '../../storage/clock.js';
import { coordinationError, noLog, type EtcdConnection, type EtcdLog } from './connection.js';

export interface SessionOptions {
  /** Lease TTL, rounded up to whole seconds (etcd's unit). Default 9000. */
  ttlMs?: number;
  /** Delay between attempts to re-create a lost lease or reopen a keep-alive stream. Default 250 ms. */
  retryMs?: number;
  clock?: Clock;
  log?: EtcdLog;
}

export type SessionState = 'starting' | 'alive' | 'lost' | 'closed';

interface KeepAliveStream {
  write(req: { ID: string }): void;
  on(ev: 'data', fn: (res: { ID: string; TTL: string }) => void): KeepAliveStream;
  on(ev: 'error' | 'end', fn: (err?: Error) => void): KeepAliveStream;
  cancel(): void;
}

type Listener<T> = (arg: T) => void;

export class EtcdSession {
  private st: SessionState = 'starting';
  private lease: string | undefined;
  /** The last lease lost and not yet revoked. */
  private stale: string | undefined;
  private generation = 0;
  private lossCount = 0;
  private deadline = 0;
  private expiryTimer: TimerHandle | undefined;
  private tickTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private stream: KeepAliveStream | undefined;
  private sent: number[] = [];
  private readonly established = new Set<Listener<string>>();
  private readonly lost = new Set<Listener<CoordinationError>>();
  private readonly ttlS: number;
  private readonly retryMs: number;
  private readonly clock: Clock;
  private readonly log: EtcdLog;

  constructor(
    readonly conn: EtcdConnection,
    opts: SessionOptions = {},
  ) {
    this.ttlS = Math.max(1, Math.ceil((opts.ttlMs ?? 9000) / 1000));
    this.retryMs = opts.retryMs ?? 250;
    this.clock = opts.clock ?? new SystemClock();
    this.log = opts.log ?? noLog;
  }

  get state(): SessionState {
    return this.st;
  }

  /** The live lease's id (decimal string), undefined while lost. */
  get leaseId(): string | undefined {
    return this.st === 'alive' ? this.lease : undefined;
  }

  /** How many leases this session has been granted. */
  get leaseGeneration(): number {
    return this.generation;
  }

  /** How many times the lease was lost. */
  get losses(): number {
    return this.lossCount;
  }

  /**
   * Loses the lease now if its deadline passed and the expiry timer has not run yet (as after a SIGSTOP:
   * the process handles the I/O queued meanwhile before its timers). True when the session is not alive.
   */
  expireIfDue(): boolean {
    if (this.st === 'alive' && this.clock.now() >= this.deadline)
      this.fail(new CoordinationError('ERR_LEASE_LOST', `no keep-alive answered within the ${this.ttlS} s TTL`));
    return this.st !== 'alive';
  }

  get ttlMs(): number {
    return this.ttlS * 1000;
  }

  /** Grants the first lease; rejects if etcd cannot grant it (the session then keeps trying). */
  async start(): Promise<string> {
    if (this.st !== 'starting') throw new CoordinationError('ERR_ILLEGAL_STATE', `session is ${this.st}`);
    try {
      return await this.grant();
    } catch (err) {
      this.scheduleRecovery();
      throw err;
    }
  }

  /** Runs `fn` with each new lease (after the first grant and after every recovery). Returns an unsubscribe. */
  onEstablished(fn: Listener<string>): () => void {
    this.established.add(fn);
    return () => this.established.delete(fn);
  }

  /** Runs `fn` when the lease is lost. Returns an unsubscribe. */
  onLost(fn: Listener<CoordinationError>): () => void {
    this.lost.add(fn);
    return () => this.lost.delete(fn);
  }

  /** Resolves with the lease id once the session is alive (at once if it is); rejects after `timeoutMs`. */
  waitAlive(timeoutMs = 30_000): Promise<string> {
    if (this.st === 'alive') return Promise.resolve(this.lease!);
    if (this.st === 'closed') return Promise.reject(new CoordinationError('ERR_CLOSED', 'session closed'));
    return new Promise((res, rej) => {
      const t = this.clock.setTimeout(() => {
        off();
        rej(new CoordinationError('ERR_LEASE_LOST', `no etcd lease within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onEstablished((id) => {
        off();
        this.clock.clearTimeout(t);
        res(id);
      });
    });
  }

  /** Stops keeping the lease alive; revokes it (deleting the keys bound to it) unless `revoke` is false. */
  async close(opts: { revoke?: boolean } = {}): Promise<void> {
    if (this.st === 'closed') return;
    const lease = this.lease;
    this.st = 'closed';
    this.stopTimers();
    this.dropStream();
    this.established.clear();
    this.lost.clear();
    if (lease && opts.revoke !== false) {
      try {
        await this.conn.client.leaseClient.leaseRevoke({ ID: lease });
      } catch (err) {
        this.log.warn({ err, lease }, 'could not revoke the etcd lease; it expires after its TTL');
      }
    }
  }

  /** Waits `ms` on the session's clock (for retry loops built on the session). */
  sleep(ms: number = this.retryMs): Promise<void> {
    return new Promise((r) => this.clock.setTimeout(r, ms));
  }

  /** Test hook and admin action: revoke the current lease in etcd (the session then sees it lost). */
  async revokeLease(): Promise<void> {
    if (this.lease) await this.conn.client.leaseClient.leaseRevoke({ ID: this.lease });
  }

  private async grant(): Promise<string> {
    if (this.stale) {
      try {
        await this.conn.client.leaseClient.leaseRevoke({ ID: this.stale });
      } catch (err) {
        if (!/lease not found|LeaseInvalid/i.test(`${(err as Error).constructor?.name} ${(err as Error).message}`))
          throw coordinationError(err, 'revoke of the lost lease');
      }
      this.stale = undefined;
    }
    const sentAt = this.clock.now();
    let res: { ID: string; TTL: string; error?: string };
    try {
      res = await this.conn.client.leaseClient.leaseGrant({ TTL: this.ttlS });
    } catch (err) {
      throw coordinationError(err, 'lease grant');
    }
    if (this.st === 'closed') {
      void this.conn.client.leaseClient.leaseRevoke({ ID: res.ID }).catch(() => {});
      throw new CoordinationError('ERR_CLOSED', 'session closed');
    }
    this.lease = res.ID;
    this.generation++;
    this.st = 'alive';
    this.extend(sentAt, Number(res.TTL));
    this.tick();
    this.log.info({ lease: res.ID, ttlS: Number(res.TTL) }, 'etcd lease granted');
    for (const fn of [...this.established]) fn(res.ID);
    return res.ID;
  }

  private extend(sentAt: number, ttlS: number): void {
    const d = sentAt + ttlS * 1000;
    if (d <= this.deadline) return;
    this.deadline = d;
    this.clock.clearTimeout(this.expiryTimer);
    this.expiryTimer = this.clock.setTimeout(() => {
      this.fail(new CoordinationError('ERR_LEASE_LOST', `no keep-alive answered within the ${this.ttlS} s TTL`));
    }, d - this.clock.now());
  }

  /** Sends a keep-alive every TTL/3, opening the stream first if needed. */
  private tick(): void {
    if (this.st !== 'alive') return;
    this.tickTimer = this.clock.setTimeout(() => this.tick(), (this.ttlS * 1000) / 3);
    if (this.stream) {
      this.sent.push(this.clock.now());
      try {
        this.stream.write({ ID: this.lease! });
      } catch {
        this.dropStream();
      }
      return;
    }
    void this.openStream();
  }

  private async openStream(): Promise<void> {
    const lease = this.lease;
    let s: KeepAliveStream;
    try {
      s = (await this.conn.client.leaseClient.leaseKeepAlive()) as unknown as KeepAliveStream;
    } catch {
      return; // the next tick tries again; the expiry timer decides when this is a loss
    }
    if (this.st !== 'alive' || this.lease !== lease || this.stream) {
      s.cancel();
      return;
    }
    this.stream = s;
    this.sent = [];
    const gone = (): void => {
      if (this.stream === s) this.dropStream();
    };
    s.on('data', (res) => {
      if (this.stream !== s) return;
      const sentAt = this.sent.shift() ?? this.clock.now();
      if (res.TTL === '0' || Number(res.TTL) <= 0) {
        this.fail(new CoordinationError('ERR_LEASE_LOST', `etcd lease ${lease} was revoked or has expired`));
        return;
      }
      this.extend(sentAt, Number(res.TTL));
    });
    s.on('error', gone);
    s.on('end', gone);
    this.sent.push(this.clock.now());
    s.write({ ID: lease! });
  }

  private dropStream(): void {
    const s = this.stream;
    this.stream = undefined;
    this.sent = [];
    if (s) {
      try {
        s.cancel();
      } catch {
        // already gone
      }
    }
  }

  private stopTimers(): void {
    this.clock.clearTimeout(this.expiryTimer);
    this.clock.clearTimeout(this.tickTimer);
    this.clock.clearTimeout(this.retryTimer);
  }

  private fail(err: CoordinationError): void {
    if (this.st !== 'alive') return;
    this.st = 'lost';
    this.lossCount++;
    this.stale = this.lease;
    this.lease = undefined;
    this.deadline = 0;
    this.stopTimers();
    this.dropStream();
    this.log.warn({ err: err.message, lease: this.stale }, 'etcd lease lost');
    for (const fn of [...this.lost]) fn(err);
    this.scheduleRecovery();
  }

  private scheduleRecovery(): void {
    if (this.st === 'closed') return;
    this.st = this.st === 'alive' ? 'alive' : 'lost';
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.clock.setTimeout(() => {
      if (this.st !== 'lost') return;
      this.grant().catch((err) => {
        this.log.warn({ err: (err as Error).message }, 'etcd lease not re-created yet');
        this.scheduleRecovery();
      });
    }, this.retryMs);
  }
}
