/**
 * Client options and the connection pool. One pipelined connection per broker address and purpose:
 * 'default' for metadata, produce and admin calls, 'fetch' for long-polling fetches and 'coordinator' for
 * group calls (as Kafka's consumer keeps a separate coordinator connection, so a fetch waiting on the broker
 * never delays a heartbeat). Concurrent callers share one connection attempt; a closed connection is
 * replaced on the next call.
 */
import type { Logger } from 'pino';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { SaslOptions } from './sasl.js';
import { Connection } from './connection.js';
import { KafkaError } from './errors.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';

export interface ClientOptions {
  /** "host:port", "host1:port1,host2:port2" or a list of them. */
  bootstrap: string | string[];
  clientId?: string;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  logger?: Logger;
  /** Connect over TLS (SSL listeners): `ca`, `cert` and `key` for mTLS, `servername`, ... as node:tls takes them. */
  tls?: TlsConnectionOptions;
  /** Authenticate every connection with SASL (SASL_PLAINTEXT / SASL_SSL listeners; client/sasl.ts). */
  sasl?: SaslOptions;
}

export interface ResolvedOptions {
  bootstrap: Array<{ host: string; port: number }>;
  clientId: string;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  logger?: Logger;
  tls?: TlsConnectionOptions;
  sasl?: SaslOptions;
}

export type Purpose = 'default' | 'fetch' | 'coordinator';

export function parseAddress(s: string): { host: string; port: number } {
  const t = s.trim();
  const m = /^\[(.+)\]:(\d+)$/.exec(t) ?? /^([^:]+):(\d+)$/.exec(t);
  if (m) return { host: m[1], port: Number(m[2]) };
  if (/^[^:]+$/.test(t) && t) return { host: t, port: 9092 };
  throw new KafkaError(ErrorCode.INVALID_REQUEST, `bad bootstrap address "${s}" (expected host:port)`);
}

export function resolveOptions(o: ClientOptions): ResolvedOptions {
  const list = (Array.isArray(o.bootstrap) ? o.bootstrap : [o.bootstrap])
    .flatMap((s) => s.split(','))
    .filter((s) => s.trim());
  if (list.length === 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'no bootstrap servers given');
  return {
    bootstrap: list.map(parseAddress),
    clientId: o.clientId ?? 'runnel-client',
    requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    logger: o.logger,
    ...(o.tls ? { tls: o.tls } : {}),
    ...(o.sasl ? { sasl: o.sasl } : {}),
  };
}

export class ConnectionPool {
  private readonly conns = new Map<string, Connection>();
  private readonly opening = new Map<string, Promise<Connection>>();
  private closed = false;

  constructor(readonly opts: ResolvedOptions) {}

  async get(host: string, port: number, purpose: Purpose = 'default'): Promise<Connection> {
    if (this.closed) throw new KafkaError(ErrorCode.NETWORK_EXCEPTION, 'client is closed');
    const key = `${purpose}|${host}:${port}`;
    const c = this.conns.get(key);
    if (c && !c.closed) return c;
    const pending = this.opening.get(key);
    if (pending) return pending;
    const p = Connection.open({
      host,
      port,
      clientId: this.opts.clientId,
      connectTimeoutMs: this.opts.connectTimeoutMs,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      logger: this.opts.logger,
      ...(this.opts.tls ? { tls: this.opts.tls } : {}),
      ...(this.opts.sasl ? { sasl: this.opts.sasl } : {}),
    }).then(
      (conn) => {
        this.opening.delete(key);
        if (this.closed) {
          conn.close();
          throw new KafkaError(ErrorCode.NETWORK_EXCEPTION, 'client is closed');
        }
        this.conns.set(key, conn);
        return conn;
      },
      (e) => {
        this.opening.delete(key);
        throw e;
      },
    );
    this.opening.set(key, p);
    return p;
  }

  /** A connection to any bootstrap server, trying them in order. */
  async bootstrap(purpose: Purpose = 'default'): Promise<Connection> {
    let last: unknown;
    for (const a of this.opts.bootstrap) {
      try {
        return await this.get(a.host, a.port, purpose);
      } catch (e) {
        last = e;
      }
    }
    throw last;
  }

  /** Any open connection, else a bootstrap one. */
  async any(): Promise<Connection> {
    for (const [k, c] of this.conns) if (k.startsWith('default|') && !c.closed) return c;
    return this.bootstrap();
  }

  close(): void {
    this.closed = true;
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }
}
