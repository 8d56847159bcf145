/**
 * Namespaced logging through pino, shared by every part of the broker and by the admin API (fastify gets
 * a child of the broker's root logger as its loggerInstance). JSON lines, or human-readable ones
 * (pino-pretty, loaded only then) on a terminal; `log.format` (auto | json | pretty, env
 * RUNNEL_LOG_FORMAT) overrides the terminal check.
 * - Embedded (startBroker() in someone's process) the process-wide root is quiet: warn and above
 *   (RUNNEL_LOG_LEVEL overrides), on stderr, so the host's stdout stays its own. startBroker's `logLevel`
 *   and `logger` options give one broker its own level or the application's pino logger (Broker's logRoot).
 * - `runnel start` calls configureLogging(): `log.level` (default info) on stdout, as a server logs.
 * Never console.log in the broker.
 */
import { createRequire } from 'node:module';
import { pino, type Logger, type DestinationStream } from 'pino';
import { BadArgumentError } from '../protocol/errors.js';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/**
 * The format for a `log.format` setting: json and pretty are taken as they are; auto (or unset) means pretty on a
 * terminal.
 */
export function chooseLogFormat(setting: string | null | undefined, isTTY: boolean | undefined): LogFormat {
  if (setting === 'json' || setting === 'pretty') return setting;
  return isTTY === true ? 'pretty' : 'json';
}

export interface LogDestinationOptions {
  format: LogFormat;
  /** File descriptor or stream to write to; default 1 (stdout). */
  destination?: number | NodeJS.WritableStream;
  /** Colours in pretty output; default: whether the destination (fd 1 or 2) is a terminal. */
  colorize?: boolean;
}

/** A pino destination writing `format` (pino-pretty is required only for 'pretty'). */
export function logDestination(opts: LogDestinationOptions): DestinationStream {
  const dest = opts.destination ?? 1;
  if (opts.format === 'pretty') {
    const require = createRequire(import.meta.url);
    const pretty = require('pino-pretty') as (o: Record<string, unknown>) => DestinationStream;
    return pretty({
      colorize: opts.colorize ?? isTerminal(dest),
      destination: dest,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      messageKey: 'msg',
    });
  }
  return typeof dest === 'number' ? pino.destination({ dest, sync: true }) : (dest as unknown as DestinationStream);
}

function isTerminal(dest: number | NodeJS.WritableStream): boolean {
  if (dest === 1) return process.stdout.isTTY === true;
  if (dest === 2) return process.stderr.isTTY === true;
  return false;
}

/** The levels `log.level` and startBroker's logLevel take. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The process-wide root's level before configureLogging(): RUNNEL_LOG_LEVEL, else warn. */
export const EMBEDDED_LOG_LEVEL = 'warn';

let root: Logger | undefined;
/** Whether `root` is the one rootLogger() made (setRootLogger replaces it with the caller's). */
let ownRoot = false;
let format: LogFormat | undefined;
let fd: 1 | 2 = 2;
let current: DestinationStream | undefined;
/** The root logger writes through this, so a later format or destination change reaches loggers made before it. */
const sink: DestinationStream = { write: (s: string) => current!.write(s) };

export function rootLogger(): Logger {
  if (!root) {
    fd = 2;
    format = chooseLogFormat(process.env.RUNNEL_LOG_FORMAT, process.stderr.isTTY);
    current = logDestination({ format, destination: fd });
    root = pino({ level: process.env.RUNNEL_LOG_LEVEL ?? EMBEDDED_LOG_LEVEL, base: { pid: process.pid } }, sink);
    ownRoot = true;
  }
  return root;
}

/**
 * Apply the `log.level` and `log.format` configs and log to stdout (`runnel start` does, once its config
 * is read). Loggers made before take the level too (pino children follow their parent's level).
 */
export function configureLogging(
  level: string,
  formatSetting: string | null | undefined,
  isTTY = process.stdout.isTTY,
): void {
  const r = rootLogger();
  r.level = level;
  const f = chooseLogFormat(formatSetting, isTTY);
  if (ownRoot && (f !== format || fd !== 1)) {
    format = f;
    fd = 1;
    current = logDestination({ format: f, destination: 1 });
  }
}

/** Replace the process-wide root logger (embedding applications, tests that want silence). */
export function setRootLogger(l: Logger): void {
  root = l;
  ownRoot = false;
}

/**
 * The root for one embedded broker (startBroker's `logger` and `logLevel`): the application's logger, or
 * the process-wide root, with `level` when given (its own level: a later change of the parent's does not
 * reach it); undefined (the process-wide root, whatever it is when used) when neither is given. Throws on
 * a level pino does not know.
 */
export function brokerLogRoot(base: Logger | undefined, level: string | undefined): Logger | undefined {
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level))
    throw new BadArgumentError(`logLevel must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(level)}`);
  if (level === undefined) return base;
  return (base ?? rootLogger()).child({}, { level });
}

export function logger(ns: string, parent?: Logger): Logger {
  return (parent ?? rootLogger()).child({ ns });
}
