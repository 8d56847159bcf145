/**
 * Starts the admin HTTP API on host:port (port 0 picks a free one). Imported dynamically by Broker.start
 * after the Kafka listener accepts. Binding is cheap (node:http only): fastify, prom-client and the routes
 * (app.ts, metrics.ts) load on the first HTTP request only, so an idle or embedded broker never pays for them
 * (start-up budget) and traffic never triggers that load (a synchronous require that blocks the event loop
 * for hundreds of ms). The broker's request and flush observers feed a RequestStats (request-stats.ts) from
 * the start; the metrics read it once loaded.
 *
 * With `admin.ssl.enabled` the server is node:https with the server options of the `ADMIN` listener's TLS
 * (security/tls.ts: the `ssl.*` configs, `listener.name.admin.ssl.*` overrides, client authentication, and the
 * same polling reload of the keystore and truststore); the URL is then https://. A failed handshake is logged
 * (warn) and closed. `close()` stops the polling.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Broker } from '../broker.js';
import { tallyRequest } from './request-tally.js';
import { RequestStats } from './request-stats.js';
import { InternalError } from '../../protocol/errors.js';
import type { ListenerTls } from '../security/tls.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface AdminServer {
  url: string;
  /** Whether fastify and the metrics have been loaded (for tests and the start-up benchmark). */
  readonly loaded: boolean;
  /** Load fastify, the routes and the metrics now (the first request does it otherwise). */
  load(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the admin API; `tls` (the ADMIN listener's, built and checked by the caller) makes it https. */
export async function startAdminServer(
  broker: Broker,
  host: string,
  port: number,
  tls?: ListenerTls,
): Promise<AdminServer> {
  const log = broker.childLogger('admin');
  let handler: Handler | undefined;
  let loading: Promise<Handler> | undefined;
  let closeApp: (() => Promise<void>) | undefined;
  let closed = false;

  const stats = new RequestStats();
  const requestObserver = (e: Parameters<NonNullable<Broker['requestObserver']>>[0]): void => {
    try {
      stats.record(tallyRequest(broker, e));
    } catch {
      // metrics never break a request
    }
  };
  const flushObserver = (seconds: number): void => stats.observeFlush(seconds);
  broker.requestObserver = requestObserver;
  broker.flushObserver = flushObserver;

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (handler) return handler(req, res);
    load().then(
      (h) => h(req, res),
      (err: Error) => {
        res.statusCode = 500;
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(
          JSON.stringify({ error: { code: 'INTERNAL_ERROR', message: `admin API failed to load: ${err.message}` } }),
        );
      },
    );
  };
  let server: Server;
  if (tls) {
    const https = createHttpsServer(tls.serverOptions(), onRequest);
    https.on('tlsClientError', (err, socket) => {
      const client = `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`;
      log.warn({ listener: tls.listener, client, err: err.message }, 'admin TLS handshake failed');
      socket.destroy();
    });
    tls.watch(https);
    server = https;
  } else {
    server = createServer(onRequest);
  }

  function load(): Promise<Handler> {
    if (handler) return Promise.resolve(handler);
    loading ??= (async () => {
      const { buildAdminApp } = await import('./app.js');
      let captured: Handler | undefined;
      const app = buildAdminApp(broker, {
        stats,
        tls,
        serverFactory: (h) => {
          captured = h;
          return server;
        },
      });
      await app.ready();
      if (!captured) throw new InternalError('fastify did not hand over its request handler');
      if (closed) await app.close();
      else closeApp = () => app.close();
      handler = captured;
      return captured;
    })();
    return loading;
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    tls?.close();
    if (broker.requestObserver === requestObserver) broker.requestObserver = undefined;
    if (broker.flushObserver === flushObserver) broker.flushObserver = undefined;
    throw err;
  }
  server.on('error', (err) => log.error({ err: err.message }, 'admin listener error'));
  const addr = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `${tls ? 'https' : 'http'}://${shown}:${addr.port}`;
  log.info({ url, host, port: addr.port }, `admin API at ${url}`);
  return {
    url,
    get loaded() {
      return handler !== undefined;
    },
    load: () => load().then(() => undefined),
    async close() {
      closed = true;
      tls?.close();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 2000);
      force.unref();
      if (loading) await loading.catch(() => {});
      if (closeApp) await closeApp();
      if (broker.requestObserver === requestObserver) broker.requestObserver = undefined;
      if (broker.flushObserver === flushObserver) broker.flushObserver = undefined;
      await stopped;
      clearTimeout(force);
    },
  };
}
