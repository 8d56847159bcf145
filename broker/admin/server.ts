/**
 * Starts the admin HTTP API on host:port (port 0 picks a free one). Imported dynamically by Broker.start
 * so fastify and prom-client are loaded only when the admin server runs.
 */
import type { AddressInfo } from 'node:net';
import type { Broker } from '../broker.js';
import { logger } from '../logger.js';
import { buildAdminApp } from './app.js';

export async function startAdminServer(broker: Broker, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const app = buildAdminApp(broker);
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close().catch(() => {});
    throw err;
  }
  const addr = app.server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${addr.port}`;
  logger('admin').info({ url, host, port: addr.port }, `admin API at ${url}`);
  return { url, close: () => app.close() };
}
