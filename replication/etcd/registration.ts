/**
 * A broker's registration: `<prefix>brokers/<nodeId>` -> JSON (listeners, rack), bound to the session's lease,
 * so it disappears when the broker's lease does (Kafka's ephemeral /brokers/ids/<id> znode, or a KRaft
 * broker registration that lapses without heartbeats).
 *
 * Creating it is a txn "create only if absent": a second broker with the same node id is refused with
 * CoordinationError ERR_DUPLICATE_BROKER_REGISTRATION (Kafka's DUPLICATE_BROKER_REGISTRATION). The key's
 * create revision is the broker epoch (like the czxid of Kafka's znode): a new one at every registration.
 * When the session loses its lease the registration is gone (`registered` false, onChange runs at once: stop
 * leading); when the session has a new lease it registers again, and onChange runs with the new epoch (or with
 * the error, if another broker took the node id meanwhile).
 */
import { CoordinationError } from '../../protocol/errors.js';
import type { EtcdConnection } from './connection.js';
import { createIfAbsent, txn } from './kv.js';
import type { EtcdSession } from './session.js';

export interface BrokerListener {
  name: string;
  host: string;
  port: number;
  securityProtocol: string;
}

export interface BrokerInfo {
  nodeId: number;
  listeners: BrokerListener[];
  rack: string | null;
  /** Set while the broker stops (controlled shutdown): the controller moves its leaderships away. */
  inControlledShutdown?: boolean;
}

export interface RegistrationState {
  registered: boolean;
  /** Broker epoch: the registration key's create revision (when registered). */
  epoch?: number;
  /** Why re-registration failed, if it did. */
  error?: CoordinationError;
}

export function brokerKey(conn: EtcdConnection, nodeId: number): string {
  return conn.key('brokers', nodeId);
}

export class BrokerRegistration {
  private st: RegistrationState = { registered: false };
  private readonly listeners = new Set<(s: RegistrationState) => void>();
  private readonly offs: (() => void)[] = [];
  private closed = false;
  readonly key: string;

  private constructor(
    private readonly session: EtcdSession,
    private current: BrokerInfo,
  ) {
    this.key = brokerKey(session.conn, current.nodeId);
  }

  /** What is registered (and registered again after a new lease). */
  get info(): BrokerInfo {
    return this.current;
  }

  /** Registers `info` under the session's live lease; throws ERR_DUPLICATE_BROKER_REGISTRATION if taken. */
  static async register(session: EtcdSession, info: BrokerInfo): Promise<BrokerRegistration> {
    if (!Number.isInteger(info.nodeId) || info.nodeId < 0)
      throw new CoordinationError('ERR_BAD_ARGUMENT', `node id must be an integer >= 0, got ${info.nodeId}`);
    const r = new BrokerRegistration(session, info);
    const lease = session.leaseId;
    if (!lease) throw new CoordinationError('ERR_LEASE_LOST', 'the etcd session has no live lease');
    r.st = { registered: true, epoch: await r.create(lease) };
    r.offs.push(
      session.onLost((err) => r.set({ registered: false, error: err })),
      session.onEstablished((id) => void r.reregister(id)),
    );
    return r;
  }

  get state(): RegistrationState {
    return this.st;
  }

  get registered(): boolean {
    return this.st.registered;
  }

  /** Runs `fn` on every change of state. Returns an unsubscribe. */
  onChange(fn: (s: RegistrationState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Replaces the listeners, rack and controlled-shutdown mark in place (same key, lease and broker epoch: no
   * broker loss is seen) and keeps them for later re-registrations. Returns the revision of the write; throws
   * ERR_LEASE_LOST when the key is not this session's (lost lease: the next registration carries the new info).
   */
  async update(info: Pick<BrokerInfo, 'listeners' | 'rack' | 'inControlledShutdown'>): Promise<number> {
    this.current = { nodeId: this.current.nodeId, listeners: info.listeners, rack: info.rack };
    if (info.inControlledShutdown) this.current.inControlledShutdown = true;
    const lease = this.session.leaseId;
    if (!lease || !this.st.registered)
      throw new CoordinationError('ERR_LEASE_LOST', 'not registered under a live lease');
    const r = await txn(this.session.conn, {
      compare: [{ key: this.key, lease }],
      success: [{ put: this.key, value: JSON.stringify(this.current), lease }],
    });
    if (!r.succeeded) throw new CoordinationError('ERR_LEASE_LOST', `${this.key} is not held under lease ${lease}`);
    return r.revision;
  }

  /** Stops following the session (the key itself goes with the session's lease). */
  close(): void {
    this.closed = true;
    for (const off of this.offs) off();
    this.listeners.clear();
  }

  private set(s: RegistrationState): void {
    if (this.closed) return;
    this.st = s;
    for (const fn of [...this.listeners]) fn(s);
  }

  private async create(lease: string): Promise<number> {
    const conn = this.session.conn;
    const r = await createIfAbsent(conn, this.key, JSON.stringify(this.current), lease);
    if (r.ok) return r.revision;
    const holder = r.current?.value.toString() ?? '';
    const id = this.current.nodeId;
    throw new CoordinationError(
      'ERR_DUPLICATE_BROKER_REGISTRATION',
      `node id ${id} is already registered in etcd (${this.key} = ${holder}, lease ${r.current?.lease})`,
      101 /* DUPLICATE_BROKER_REGISTRATION */,
    );
  }

  private async reregister(lease: string): Promise<void> {
    for (let attempt = 0; !this.closed && this.session.leaseId === lease; attempt++) {
      try {
        this.set({ registered: true, epoch: await this.create(lease) });
        return;
      } catch (err) {
        const e = err as CoordinationError;
        if (e.code === 'ERR_DUPLICATE_BROKER_REGISTRATION' || attempt >= 20) {
          this.set({ registered: false, error: e });
          return;
        }
        await this.session.sleep();
      }
    }
  }
}
