/**
 * `runnel start`: runs one node.
 *   runnel start [--port P] [--host H] [--data-dir D] [--node-id N] [--advertised-host H] [--advertised-port P]
 *                [--admin-port P] [--config FILE] [--set name=value ...]
 *                [--add-scram 'SCRAM-SHA-256=[name=alice,password=alice-secret]' ...]
 * Settings come from the config table (broker/config.ts): defaults < --config file < RUNNEL_* env < flags
 * (and --set); a flag that is not given does not hide a --set of the same name.
 * SIGTERM/SIGINT stop accepting, finish in-flight requests, flush and close files, and exit 0 (forced
 * after 5 s plus 10 ms per open partition log, plus, in a cluster, the controlled shutdown's budget: its
 * retries x backoff). Exit codes: 0
 * stopped cleanly, 1 failed to start or to stop, 2 usage or config error.
 *
 * Its own entry point (dist/bundle/start.cjs, see broker/bin.cts) with node:util's parseArgs rather than
 * commander, so that starting a node loads nothing but the broker (start-up budget, issue 5).
 */
import { parseArgs } from 'node:util';
import { Broker } from './broker.js';
import { BrokerConfig, ConfigError } from './config.js';
import { configureLogging, logger } from './logger.js';
import { parseAddScram, type ScramUserSpec } from './security/sasl/add-scram.js';

/** The flags of `runnel start`: option name → config name, short flag, value name, help. */
const FLAGS = [
  { name: 'port', config: 'port', short: 'p', value: 'port', help: 'Kafka listener port (default 9092)' },
  { name: 'host', config: 'host', value: 'host', help: 'address to bind (default 0.0.0.0)' },
  { name: 'data-dir', config: 'data.dir', short: 'd', value: 'dir', help: 'data directory (default ./data)' },
  { name: 'node-id', config: 'node.id', value: 'id', help: 'node id (default 1)' },
  { name: 'advertised-host', config: 'advertised.host', value: 'host', help: 'host clients are told to connect to' },
  { name: 'advertised-port', config: 'advertised.port', value: 'port', help: 'port clients are told to connect to' },
  {
    name: 'admin-port',
    config: 'admin.port',
    value: 'port',
    help: 'admin HTTP API port (default 9644; 0 picks a free one, -1 turns it off)',
  },
  { name: 'config', short: 'c', value: 'file', help: 'config file (.json, or name=value lines)' },
  { name: 'set', short: 's', value: 'name=value', help: 'set any broker config (repeatable)' },
  {
    name: 'add-scram',
    value: 'MECH=[name=N,password=P]',
    help:
      "create a SCRAM user unless it has a credential for MECH (repeatable; Kafka's kafka-storage syntax, " +
      'also iterations=, salt=, saltedpassword=)',
  },
] as const;

/** What the forced-exit limit of a shutdown grows by per open partition log (see the header). */
const SHUTDOWN_MS_PER_PARTITION = 10;

/** Flags that may be given more than once. */
const MULTIPLE = new Set(['set', 'add-scram']);

export function startHelp(): string {
  const rows = FLAGS.map((f) => [`${'short' in f ? `-${f.short}, ` : '    '}--${f.name} <${f.value}>`, f.help]);
  rows.push(['-h, --help', 'display help for command']);
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  const options = rows.map(([l, h]) => `  ${l.padEnd(width)}${h}`).join('\n');
  return `Usage: runnel start [options]\n\nstart a broker node\n\nOptions:\n${options}\n`;
}

export class UsageError extends Error {}

export interface StartArgs {
  help: boolean;
  configFile: string | undefined;
  /** Config overrides from --set and the flags (flags win). */
  overrides: Record<string, string>;
  /** --add-scram values, parsed (broker/security/sasl/add-scram.ts). */
  addScram: ScramUserSpec[];
}

/** Parses `runnel start`'s arguments (those after `start`). Throws UsageError. */
export function parseStartArgs(args: string[]): StartArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const f of FLAGS)
    options[f.name] = {
      type: 'string',
      ...('short' in f ? { short: f.short } : {}),
      ...(MULTIPLE.has(f.name) ? { multiple: true } : {}),
    };
  // parseArgs takes a value that starts with '-' only as --name=value; a negative number after a flag
  // (`--admin-port -1`) is that flag's value, as it was with commander.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const flag = a.startsWith('--')
      ? FLAGS.find((f) => `--${f.name}` === a)
      : FLAGS.find((f) => 'short' in f && `-${f.short}` === a);
    if (flag && i + 1 < args.length && /^-\d/.test(args[i + 1])) joined.push(`--${flag.name}=${args[++i]}`);
    else joined.push(a);
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: joined, options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const overrides: Record<string, string> = {};
  for (const s of (values.set as string[] | undefined) ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0)
      throw new UsageError(
        `option '-s, --set <name=value>' argument ${JSON.stringify(s)} is invalid: expected name=value`,
      );
    overrides[s.slice(0, eq).trim()] = s.slice(eq + 1);
  }
  for (const f of FLAGS) {
    const v = values[f.name];
    if ('config' in f && typeof v === 'string') overrides[f.config] = v;
  }
  let addScram: ScramUserSpec[];
  try {
    addScram = ((values['add-scram'] as string[] | undefined) ?? []).map(parseAddScram);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return { help: values.help === true, configFile: values.config as string | undefined, overrides, addScram };
}

/** Runs `runnel start` with the arguments after `start`; resolves once the node is listening. */
export async function runStart(args: string[]): Promise<void> {
  let parsed: StartArgs;
  try {
    parsed = parseStartArgs(args);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n\n${startHelp()}`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(startHelp());
    return;
  }
  const log = logger('cli');
  let config: BrokerConfig;
  try {
    config = new BrokerConfig({ file: parsed.configFile, env: process.env, overrides: parsed.overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`runnel: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  configureLogging(config.str('log.level'), config.str('log.format'));
  const broker = new Broker(config, { addScram: parsed.addScram });
  // The signal handlers are in place before the broker starts: a SIGTERM that arrives while it starts (its
  // listener may already accept and log "listening on") stops it once started, never kills it half-way.
  let starting: Promise<unknown> | undefined;
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const controlled =
      config.etcdEndpoints.length > 0 && config.bool('controlled.shutdown.enable')
        ? config.int('controlled.shutdown.max.retries') * config.int('controlled.shutdown.retry.backoff.ms')
        : 0;
    // The limit scales with the partitions: closing flushes every log, snapshots its producers and only
    // then writes the recovery-point checkpoint that makes the next start a clean one.
    let logs = 0;
    try {
      logs = broker.logs.logCount;
    } catch {
      // not started yet: no logs to close
    }
    const limitMs = 5000 + controlled + SHUTDOWN_MS_PER_PARTITION * logs;
    const force = setTimeout(() => {
      log.error(`shutdown took longer than ${limitMs} ms; exiting`);
      process.exit(1);
    }, limitMs);
    force.unref();
    (starting ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => broker.stop())
      .then(
        () => process.exit(0),
        (err: Error) => {
          log.error({ err: err.message }, 'error during shutdown');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    starting = broker.start();
    await starting;
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'failed to start');
    process.exit(1);
  }
}

/** The bundle's entry: `runnel start ...` (argv[2] is 'start'). */
export function main(argv: string[] = process.argv): void {
  runStart(argv.slice(3)).catch((err: Error) => {
    process.stderr.write(`runnel: ${err.message}\n`);
    process.exit(1);
  });
}
