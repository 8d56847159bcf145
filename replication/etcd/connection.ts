/**
 * The connection to etcd (v3 API over gRPC, through the `etcd3` package) and the key prefix of one cluster.
 *
 * `etcd3` is loaded only here, with a require made at connect time: a node without `etcd.endpoints` never
 * calls connectEtcd and so never loads the client (nor gRPC). The bundle forbids import() (see
 * broker/bundle.ts), hence createRequire. Only type imports of `etcd3` appear anywhere else.
 *
 * The client's own fault handling (a circuit breaker per host, three retries) is replaced by policies that do
 * nothing: the session, watch and election loops here own retries and timing, through an injected Clock.
 * Every unary call carries a deadline (`callTimeoutMs`), so a paused etcd fails a call instead of hanging it;
 * streams (watch, lease keep-alive) have none and are watched by their owners.
 */
import { createRequire } from 'node:module';
import type { Etcd3, IOptions } from 'etcd3';
import { BadArgumentError, CoordinationError } from '../../protocol/errors.js';

export interface EtcdConnectOptions {
  /** `host:port` or `http://host:port` of etcd members. */
  endpoints: string[];
  /** `cluster.name`: every key lives under `/runnel/<cluster>/`. Default `runnel`. */
  cluster?: string;
  /** Deadline of each unary call. Default 3000 ms. */
  callTimeoutMs?: number;
}

/** Minimal logger shape (pino's Logger fits); the etcd layer imports nothing from broker/. */
export interface EtcdLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export const noLog: EtcdLog = { warn: () => {}, info: () => {} };

const CLUSTER_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** The key prefix of a cluster: `/runnel/<cluster>/`. */
export function clusterPrefix(cluster: string): string {
  if (!CLUSTER_NAME.test(cluster))
    throw new BadArgumentError(
      `cluster.name must be 1-128 characters of [A-Za-z0-9._-], got ${JSON.stringify(cluster)}`,
    );
  return `/runnel/${cluster}/`;
}

export class EtcdConnection {
  readonly client: Etcd3;
  /** `/runnel/<cluster>/`, ending with a slash. */
  readonly prefix: string;
  private closed = false;

  constructor(client: Etcd3, prefix: string) {
    this.client = client;
    this.prefix = prefix;
  }

  /** A key under the cluster prefix: key('brokers', 1) is `/runnel/<cluster>/brokers/1`. */
  key(...parts: (string | number)[]): string {
    return this.prefix + parts.join('/');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }
}

type Etcd3Module = typeof import('etcd3');
type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;
let etcd3: Etcd3Module | undefined;

function loadEtcd3(): Etcd3Module {
  etcd3 ??= createRequire(import.meta.url)('etcd3') as Etcd3Module;
  return etcd3;
}

/** Opens a client (lazily connecting: no call is made here). */
export function connectEtcd(opts: EtcdConnectOptions): EtcdConnection {
  if (opts.endpoints.length === 0) throw new BadArgumentError('etcd.endpoints is empty');
  const prefix = clusterPrefix(opts.cluster ?? 'runnel');
  const callTimeoutMs = opts.callTimeoutMs ?? 3000;
  const mod = loadEtcd3();
  // cockatiel comes with etcd3 (its fault-handling library): resolved from etcd3's own file.
  const { noop } = createRequire(createRequire(import.meta.url).resolve('etcd3'))('cockatiel') as { noop: Policy };
  const options: IOptions = {
    hosts: opts.endpoints,
    dialTimeout: callTimeoutMs,
    faultHandling: { host: () => noop, global: noop },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
  };
  return new EtcdConnection(new mod.Etcd3(options), prefix);
}

/** Recognises etcd3's error classes without importing them (the module may not be loaded). */
export function etcdErrorName(err: unknown): string {
  return err instanceof Error ? err.constructor.name : typeof err;
}

/** Wraps a failed etcd call as a CoordinationError (kept as is if it already is one). */
export function coordinationError(err: unknown, what: string): CoordinationError {
  if (err instanceof CoordinationError) return err;
  const msg = err instanceof Error ? `${etcdErrorName(err)}: ${err.message}` : String(err);
  const e = new CoordinationError('ERR_ETCD_UNAVAILABLE', `${what}: ${msg}`);
  (e as { cause?: unknown }).cause = err;
  return e;
}
