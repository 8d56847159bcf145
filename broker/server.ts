/**
 * The Kafka listener: a net.Server whose connections are `Connection`s. Stopping closes the listener,
 * lets every connection finish the request it is handling, then closes them.
 */
import { createServer, type Server, type AddressInfo, type Socket } from 'node:net';
import { Connection, type ConnectionOptions } from './connection.js';
import type { Logger } from './logger.js';

/** Admission of accepted sockets and accept errors (connection-limits.ts); a refused socket is destroyed. */
export interface ConnectionGate {
  admit(socket: Socket): (() => void) | undefined;
  acceptError(err: NodeJS.ErrnoException): void;
}

export class KafkaServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();

  constructor(
    private readonly opts: Omit<ConnectionOptions, 'onClose'>,
    private readonly log: Logger,
    gate?: ConnectionGate,
  ) {
    this.server = createServer({ noDelay: true }, (socket) => {
      const release = gate ? gate.admit(socket) : () => undefined;
      if (!release) return void socket.destroy();
      const onClose = (x: Connection): void => {
        this.connections.delete(x);
        release();
      };
      this.connections.add(new Connection(socket, { ...this.opts, onClose }));
    });
    this.server.on('error', (err: NodeJS.ErrnoException) =>
      gate && err.syscall === 'accept' ? gate.acceptError(err) : this.log.error({ err: err.message }, 'listener error'),
    );
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host, port, backlog: 1024 }, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const c of this.connections) void c.drain().then(() => c.end());
    });
  }
}
