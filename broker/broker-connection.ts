/**
 * A broker-to-broker connection: this node's client connection (client/connection.ts) to another broker of the
 * cluster, found by its id in the metadata image, as Kafka's inter-broker NetworkClient. Used by the replica
 * fetchers (replica-transport.ts) and the transaction marker sender (txn/markers.ts).
 *
 * - The broker's address is its inter-broker listener (`inter.broker.listener.name`, see `interBrokerClient`;
 *   without one, its first listener) in the current metadata image, looked up at each connect; a broker that
 *   moved listeners (restarted elsewhere) is found on the next connect. An SSL inter-broker listener is reached
 *   over TLS with this broker's keystore (client certificate) and truststore for that listener. A SASL one
 *   (SASL_PLAINTEXT, SASL_SSL) authenticates right after ApiVersions as Kafka's brokers do: the mechanism is
 *   `sasl.mechanism.inter.broker.protocol` (default: the listener's first `sasl.enabled.mechanisms`), which
 *   must be enabled on that listener and be PLAIN or SCRAM-SHA-256/512; the user is the `username`/`password`
 *   of that listener's and mechanism's JAAS config (`listener.name.<l>.<mech>.sasl.jaas.config`, or
 *   `sasl.jaas.config`). Anything missing is a ConfigError when the config is read (broker start).
 * - Opened on first use; a failed request closes it and the next one reconnects (callers back off).
 * - `close()` closes it; later requests fail.
 */
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { Connection } from '../client/connection.js';
import type { SaslMechanismName, SaslOptions } from '../client/sasl.js';
import { StorageError } from '../protocol/errors.js';
import type { MetadataImage } from '../replication/metadata/image.js';
import { ConfigError, type EffectiveConfig } from './config-model.js';
import { listenerPlan } from './security/listeners.js';
import { parseJaasConfig } from './security/sasl/jaas.js';
import { enabledMechanisms } from './security/sasl/mechanisms.js';
import { clientTlsOptions, usesTls } from './security/tls.js';

/** How this broker reaches the others: the listener name and, for a TLS one, the TLS options per host. */
export interface InterBrokerClient {
  listener: string;
  tls?: (host: string) => TlsConnectionOptions;
  /** How this broker authenticates on a SASL inter-broker listener. */
  sasl?: SaslOptions;
}

const CLIENT_MECHANISMS: readonly string[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

/**
 * The inter-broker listener of this node's config (`inter.broker.listener.name`) and how to connect to it;
 * throws ConfigError when a SASL one lacks what this broker logs in with (see the header).
 */
export function interBrokerClient(config: EffectiveConfig): InterBrokerClient {
  const plan = listenerPlan(config);
  const spec = plan.listeners.find((l) => l.name === plan.interBrokerListener)!;
  const protocol = spec.securityProtocol;
  const sasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL' ? interBrokerSasl(config, spec.name) : null;
  return {
    listener: spec.name,
    ...(usesTls(protocol) ? { tls: (host: string) => clientTlsOptions(config, spec.name, host) } : {}),
    ...(sasl ? { sasl } : {}),
  };
}

/** The SASL mechanism and user this broker logs in with on the SASL inter-broker listener `listener`. */
function interBrokerSasl(config: EffectiveConfig, listener: string): SaslOptions {
  const enabled = enabledMechanisms(config, listener);
  const mechanism = (config.get('sasl.mechanism.inter.broker.protocol') as string | null) ?? enabled[0];
  if (mechanism === undefined || !enabled.includes(mechanism))
    throw new ConfigError(
      `sasl.mechanism.inter.broker.protocol ${mechanism ?? '(none)'} must be included in sasl.enabled.mechanisms ` +
        `of the inter-broker listener ${listener}`,
    );
  if (!CLIENT_MECHANISMS.includes(mechanism))
    throw new ConfigError(
      `sasl.mechanism.inter.broker.protocol ${mechanism}: brokers log in to each other with ` +
        `${CLIENT_MECHANISMS.join(', ')}`,
    );
  const what = `listener.name.${listener.toLowerCase()}.${mechanism.toLowerCase()}.sasl.jaas.config`;
  const jaas = config.listenerValue(listener, 'sasl.jaas.config', mechanism) as string | null;
  const options = jaas === null ? undefined : parseJaasConfig(jaas, what).options;
  const username = options?.get('username');
  const password = options?.get('password');
  if (username === undefined || password === undefined)
    throw new ConfigError(
      `${what} must give username= and password= (what this broker logs in with on the inter-broker listener)`,
    );
  return { mechanism: mechanism as SaslMechanismName, username, password };
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
        ...(via?.sasl ? { sasl: via.sasl } : {}),
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
