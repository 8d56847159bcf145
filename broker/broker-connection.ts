/**
 * A broker-to-broker connection: this node's client connection (client/connection.ts) to another broker of the
 * cluster, found by its id in the metadata image, as Kafka's inter-broker NetworkClient. Used by the replica
 * fetchers (replica-transport.ts) and the transaction marker sender (txn/markers.ts).
 *
 * - The broker's address is its inter-broker listener (`inter.broker.listener.name`, see `interBrokerClient`;
 *   without one, its first listener) in the current metadata image, looked up at each connect; a broker that
 *   moved listeners (restarted elsewhere) is found on the next connect. An SSL inter-broker listener is reached
 *   over TLS with this broker's keystore (client certificate) and truststore for that listener.
 * - Opened on first use; a failed request closes it and the next one reconnects (callers back off).
 * - `close()` closes it; later requests fail.
 */
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { Connection } from '../client/connection.js';
import { StorageError } from '../protocol/errors.js';
import type { MetadataImage } from '../replication/metadata/image.js';
import type { EffectiveConfig } from './config-model.js';
import { listenerPlan } from './security/listeners.js';
import { clientTlsOptions, usesTls } from './security/tls.js';

/** How this broker reaches the others: the listener name and, for a TLS one, the TLS options per host. */
export interface InterBrokerClient {
  listener: string;
  tls?: (host: string) => TlsConnectionOptions;
}

/** The inter-broker listener of this node's config (`inter.broker.listener.name`) and how to connect to it. */
export function interBrokerClient(config: EffectiveConfig): InterBrokerClient {
  const plan = listenerPlan(config);
  const spec = plan.listeners.find((l) => l.name === plan.interBrokerListener)!;
  if (!usesTls(spec.securityProtocol)) return { listener: spec.name };
  return { listener: spec.name, tls: (host) => clientTlsOptions(config, spec.name, host) };
}

export interface BrokerConnectionOptions {
  /** The id of the broker connected to. */
  brokerId: number;
  /** The client id of every request (who is asking, for the other broker's logs). */
  clientId: string;
  /** The current metadata image (the broker's listener). */
  image: () => MetadataImage;
  /** Default timeout of one request. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Which listener of the other broker, and TLS (default: its first listener, plaintext). */
  via?: InterBrokerClient;
}

export class BrokerConnection {
  private conn: Promise<Connection> | undefined;
  private closed = false;

  constructor(private readonly o: BrokerConnectionOptions) {}

  get brokerId(): number {
    return this.o.brokerId;
  }

  private connection(): Promise<Connection> {
    if (this.closed) return Promise.reject(new StorageError(`connection to broker ${this.o.brokerId} closed`));
    if (!this.conn) {
      const via = this.o.via;
      const ep = this.o.image().endpoint(this.o.brokerId, via?.listener);
      if (!ep) {
        const which = via ? `listener ${via.listener}` : 'listener';
        return Promise.reject(new StorageError(`broker ${this.o.brokerId} has no ${which} in the metadata`));
      }
      let tls: TlsConnectionOptions | undefined;
      try {
        tls = via?.tls?.(ep.host);
      } catch (err) {
        return Promise.reject(err);
      }
      const p = Connection.open({
        host: ep.host,
        port: ep.port,
        ...(tls ? { tls } : {}),
        clientId: this.o.clientId,
        connectTimeoutMs: this.o.connectTimeoutMs ?? 5000,
        requestTimeoutMs: this.o.requestTimeoutMs ?? 30000,
      });
      this.conn = p;
      const forget = (): void => {
        if (this.conn === p) this.conn = undefined;
      };
      p.then((c) => {
        c.onClose(forget);
        // Closed while connecting: do not leave the socket open.
        if (this.closed) c.close();
      }, forget);
    }
    return this.conn;
  }

  /** Run `fn` on the connection (opening it if needed); a failure closes it so the next call reconnects. */
  async send<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
    const c = await this.connection();
    try {
      return await fn(c);
    } catch (err) {
      c.close();
      throw err;
    }
  }

  /** Closes the connection; later requests fail. */
  close(): void {
    this.closed = true;
    const p = this.conn;
    this.conn = undefined;
    p?.then(
      (c) => c.close(),
      () => undefined,
    );
  }
}
