/**
 * A broker-to-broker connection: this node's client connection (client/connection.ts) to another broker of the
 * cluster, found by its id in the metadata image, as Kafka's inter-broker NetworkClient. Used by the replica
 * fetchers (replica-transport.ts) and the transaction marker sender (txn/markers.ts).
 *
 * - The broker's address is its first listener in the current metadata image, looked up at each connect; a
 *   broker that moved listeners (restarted elsewhere) is found on the next connect.
 * - Opened on first use; a failed request closes it and the next one reconnects (callers back off).
 * - `close()` closes it; later requests fail.
 */
import { Connection } from '../client/connection.js';
import { StorageError } from '../protocol/errors.js';
import type { MetadataImage } from '../replication/metadata/image.js';

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
      const ep = this.o.image().endpoint(this.o.brokerId);
      if (!ep) return Promise.reject(new StorageError(`broker ${this.o.brokerId} has no listener in the metadata`));
      const p = Connection.open({
        host: ep.host,
        port: ep.port,
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
