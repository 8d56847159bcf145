/**
 * The Kafka listener: a net.Server (PLAINTEXT, SASL_PLAINTEXT) or a tls.Server (SSL, SASL_SSL; `tls` given)
 * whose connections are `Connection`s. Over TLS a connection starts once its handshake completed, with the
 * principal `tls.authenticate` derives from the client certificate; a failed handshake (plaintext bytes, an
 * untrusted or missing required client certificate, no common protocol) or a refused peer closes the socket with
 * one warning and never affects the listener. A connection's socket reads into its request frames
 * (request-frames.ts): a plaintext one with `onread`, a TLS one (decrypted records) with the same user buffer.
 * Stopping closes the listener (and stops certificate polling), lets
 * every connection finish the request it is handling, then closes them.
 */
import { createServer, type Server, type AddressInfo, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Connection, type ConnectionOptions } from './connection.js';
import type { Logger } from './logger.js';
import type { ListenerTls } from './security/tls.js';
import { sessionFactory } from './security/session.js';
import { RequestFrameReader, tlsUserBuffer, withUserBuffer } from './request-frames.js';

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
    private readonly tls?: ListenerTls,
    private readonly gate?: ConnectionGate,
  ) {
    if (tls) {
      const server = createTlsServer(tls.serverOptions(), (socket) => this.secureConnection(socket, tls));
      server.on('tlsClientError', (err, socket) => {
        const client = `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`;
        this.log.warn({ listener: tls.listener, client, err: err.message }, 'TLS handshake failed');
        socket.destroy();
      });
      tls.watch(server);
      this.server = server;
    } else {
      // Paused until the socket is re-created with `onread` (request-frames.ts withUserBuffer).
      this.server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) =>
        this.accept(socket, opts.newSession, true),
      );
    }
    this.server.on('error', (err: NodeJS.ErrnoException) =>
      gate && err.syscall === 'accept' ? gate.acceptError(err) : this.log.error({ err: err.message }, 'listener error'),
    );
  }

  private accept(socket: Socket, newSession: ConnectionOptions['newSession'], plaintext = false): void {
    const release = this.gate ? this.gate.admit(socket) : () => undefined;
    if (!release) return void socket.destroy();
    const onClose = (x: Connection): void => {
      this.connections.delete(x);
      release();
    };
    const frames = new RequestFrameReader(this.opts.maxRequestBytes);
    const direct = plaintext ? withUserBuffer(socket, frames) : tlsUserBuffer(socket as TLSSocket, frames);
    const options = { ...this.opts, newSession, onClose };
    this.connections.add(direct ? new Connection(direct, options, frames) : new Connection(socket, options));
  }

  private secureConnection(socket: TLSSocket, tls: ListenerTls): void {
    const peer = tls.authenticate(socket);
    const client = `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`;
    if ('refused' in peer) {
      this.log.warn({ listener: tls.listener, client, why: peer.refused }, 'TLS client refused');
      socket.destroy();
      return;
    }
    this.log.debug({ listener: tls.listener, client, principal: peer.principal }, 'TLS client authenticated');
    const base = this.opts.newSession ?? sessionFactory(tls.listener, 'SSL');
    this.accept(socket, () => {
      const s = base();
      s.principal = peer.principal;
      return s;
    });
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

  /** The sessions of the open connections (diagnostics and tests). */
  sessions(): Array<Connection['session']> {
    return [...this.connections].map((c) => c.session);
  }

  async stop(): Promise<void> {
    this.tls?.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const c of this.connections) void c.drain().then(() => c.end());
    });
  }
}
