#!/usr/bin/env node
/**
 * The `runnel` command line. `runnel start` runs one node:
 *   runnel start [--port P] [--host H] [--data-dir D] [--node-id N] [--advertised-host H] [--advertised-port P]
 *                [--admin-port P] [--config FILE] [--set name=value ...]
 * Settings come from the config table (broker/config.ts): defaults < --config file < RUNNEL_* env < flags.
 * SIGTERM/SIGINT stop accepting, finish in-flight requests, flush and close files, and exit 0 (forced
 * after 5 s).
 * The client commands (topic, produce, consume, group, cluster) live in client/cli/ and are loaded only
 * for them; `start` loads none of them, and they load none of the broker. Exit codes: 0 success, 1 error,
 * 2 usage error.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { BrokerConfig } from './config.js';

function collectSet(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected name=value, got ${JSON.stringify(value)}`);
  return { ...previous, [value.slice(0, eq).trim()]: value.slice(eq + 1) };
}

function definedOnly(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined));
}

interface StartOptions {
  port?: string;
  host?: string;
  dataDir?: string;
  nodeId?: string;
  advertisedHost?: string;
  advertisedPort?: string;
  adminPort?: string;
  config?: string;
  set: Record<string, string>;
}

async function start(opts: StartOptions): Promise<void> {
  // Imported here so that the client commands (client/cli/) do not load the broker.
  const [{ Broker }, { BrokerConfig, ConfigError }, { configureLogging, logger }] = await Promise.all([
    import('./broker.js'),
    import('./config.js'),
    import('./logger.js'),
  ]);
  const log = logger('cli');
  let config: BrokerConfig;
  try {
    config = new BrokerConfig({
      file: opts.config,
      env: process.env,
      // Flags win over --set; a flag not given must not hide a --set of the same name.
      overrides: {
        ...opts.set,
        ...definedOnly({
          port: opts.port,
          host: opts.host,
          'data.dir': opts.dataDir,
          'node.id': opts.nodeId,
          'advertised.host': opts.advertisedHost,
          'advertised.port': opts.advertisedPort,
          'admin.port': opts.adminPort,
        }),
      },
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`runnel: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  configureLogging(config.str('log.level'), config.str('log.format'));
  const broker = new Broker(config);
  try {
    await broker.start();
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'failed to start');
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took longer than 5 s; exiting');
      process.exit(1);
    }, 5000);
    force.unref();
    broker.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err: err.message }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

const program = new Command();
program.name('runnel').description('Runnel: a Kafka-compatible log broker').showHelpAfterError().exitOverride();
program
  .command('start')
  .description('start a broker node')
  .option('-p, --port <port>', 'Kafka listener port (default 9092)')
  .option('--host <host>', 'address to bind (default 0.0.0.0)')
  .option('-d, --data-dir <dir>', 'data directory (default ./data)')
  .option('--node-id <id>', 'node id (default 1)')
  .option('--advertised-host <host>', 'host clients are told to connect to')
  .option('--advertised-port <port>', 'port clients are told to connect to')
  .option('--admin-port <port>', 'admin HTTP API port (default 9644; 0 picks a free one, -1 turns it off)')
  .option('-c, --config <file>', 'config file (.json, or name=value lines)')
  .option('-s, --set <name=value>', 'set any broker config (repeatable)', collectSet, {})
  .action((opts: StartOptions) => start(opts));

// The client commands (topic, produce, consume, group, cluster: client/cli/) are declared only when the
// first argument is not `start`, so starting a node loads none of them.
if (process.argv[2] !== 'start') {
  const { registerClientCommands } = await import('../client/cli/commands.js');
  registerClientCommands(program);
}

program.parseAsync(process.argv).catch((err: Error) => {
  // Usage errors exit 2 (commander has printed them); --help and --version exit 0.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  process.stderr.write(`runnel: ${err.message}\n`);
  process.exit(1);
});
