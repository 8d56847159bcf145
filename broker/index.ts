/**
 * Runnel's public API: `startBroker()` runs a broker in-process (for tests in any Node test runner).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from './broker.js';
import { BrokerConfig } from './config.js';

export { Broker } from './broker.js';
export { BrokerConfig, CONFIG_DEFS } from './config.js';

export interface StartBrokerOptions {
  /** Kafka listener port; 0 (the default) picks a free one. */
  port?: number;
  host?: string;
  /** Data directory; default: a fresh temporary directory, removed by stop(). */
  dataDir?: string;
  /** Any broker config by name. */
  config?: Record<string, string | number | boolean>;
}

export interface RunningBroker {
  bootstrapServers: string;
  port: number;
  dataDir: string;
  broker: Broker;
  stop(): Promise<void>;
}

export async function startBroker(opts: StartBrokerOptions = {}): Promise<RunningBroker> {
  const tempDir = opts.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'runnel-')) : undefined;
  const dataDir = opts.dataDir ?? tempDir!;
  const config = new BrokerConfig({
    overrides: { ...opts.config, port: opts.port ?? 0, host: opts.host ?? '127.0.0.1', 'data.dir': dataDir },
  });
  const broker = new Broker(config);
  const info = await broker.start();
  return {
    bootstrapServers: `${info.advertisedHost}:${info.advertisedPort}`,
    port: info.port,
    dataDir,
    broker,
    async stop() {
      await broker.stop();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
  };
}
