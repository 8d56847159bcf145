/**
 * `runnel dev --nodes N [--port BASE] [--data-dir D] [--set name=value ...]`: a replicated cluster in the
 * foreground for development (broker/dev-cluster.ts): etcd and N nodes as child processes on 127.0.0.1. Prints
 * the bootstrap servers and each node's id, address and pid, then runs until SIGINT/SIGTERM, when it stops the
 * nodes (gracefully) and etcd and exits 0. Without --data-dir the data lives in a temporary directory removed
 * on exit; with it, etcd/ and node-<id>/ inside are kept and reused by the next `runnel dev --data-dir D`.
 */
import { out } from './common.js';

export interface DevOptions {
  nodes: number;
  port?: number;
  dataDir?: string;
  set?: Array<[string, string]>;
  sessionTimeoutMs?: number;
  logLevel?: string;
  verbose?: boolean;
}

export async function dev(opts: DevOptions): Promise<number> {
  const { startCluster } = await import('../../broker/dev-cluster.js');
  process.stderr.write(`runnel dev: starting etcd and ${opts.nodes} node${opts.nodes === 1 ? '' : 's'}...\n`);
  // Signals that arrive while starting stop the cluster as soon as it is up.
  let stop: () => void = () => undefined;
  let signalled: string | undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const onSignal = (signal: string): void => {
    signalled ??= signal;
    stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const cluster = await startCluster({
    nodes: opts.nodes,
    basePort: opts.port,
    dataDir: opts.dataDir,
    sets: Object.fromEntries(opts.set ?? []),
    sessionTimeoutMs: opts.sessionTimeoutMs,
    logLevel: opts.logLevel as never,
    printOutput: opts.verbose ?? false,
    detached: true,
  });
  let text = `bootstrap servers: ${cluster.bootstrapServers}\n`;
  text += `etcd: ${cluster.etcd.endpoints} (pid ${cluster.etcd.pid})\n`;
  for (const n of cluster.nodes) text += `node ${n.nodeId}: ${n.address} (pid ${n.pid})\n`;
  text += `data: ${cluster.dataDir}${opts.dataDir === undefined ? ' (removed on exit)' : ''}\n`;
  out(text);
  if (!signalled) process.stderr.write('runnel dev: running; Ctrl-C stops the cluster\n');
  await stopped;
  process.stderr.write(`runnel dev: ${signalled}, stopping\n`);
  await cluster.close();
  process.stderr.write('runnel dev: stopped\n');
  return 0;
}
