/**
 * Namespaced logging through pino, shared by every part of the broker and by the admin API (fastify gets
 * a child of the root logger as its loggerInstance). JSON lines on stdout by default; human-readable
 * (pino-pretty, loaded only then) when stdout is a terminal. `log.format` (auto | json | pretty, env
 * RUNNEL_LOG_FORMAT) overrides the terminal check; `log.level` (env RUNNEL_LOG_LEVEL) sets the level.
 * Never console.log in the broker.
 */
import { createRequire } from 'node:module';
import { pino, type Logger, type DestinationStream } from 'pino';

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
  /** Colours in pretty output; default: whether the destination is a terminal. */
  colorize?: boolean;
}

/** A pino destination writing `format` (pino-pretty is required only for 'pretty'). */
export function logDestination(opts: LogDestinationOptions): DestinationStream {
  const dest = opts.destination ?? 1;
  if (opts.format === 'pretty') {
    const require = createRequire(import.meta.url);
    const pretty = require('pino-pretty') as (o: Record<string, unknown>) => DestinationStream;
    return pretty({
      colorize: opts.colorize ?? (dest === 1 ? process.stdout.isTTY === true : false),
      destination: dest,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      messageKey: 'msg',
    });
  }
  return typeof dest === 'number' ? pino.destination({ dest, sync: true }) : (dest as unknown as DestinationStream);
}

let root: Logger | undefined;
let format: LogFormat | undefined;
let current: DestinationStream | undefined;
/** The root logger writes through this, so a later format change reaches loggers made before it. */
const sink: DestinationStream = { write: (s: string) => current!.write(s) };

export function rootLogger(): Logger {
  if (!root) {
    format = chooseLogFormat(process.env.RUNNEL_LOG_FORMAT, process.stdout.isTTY);
    current = logDestination({ format });
    root = pino({ level: process.env.RUNNEL_LOG_LEVEL ?? 'info', base: { pid: process.pid } }, sink);
  }
  return root;
}

/** Apply the `log.level` and `log.format` configs (the CLI does, once its config is read). */
export function configureLogging(
  level: string,
  formatSetting: string | null | undefined,
  isTTY = process.stdout.isTTY,
): void {
  const r = rootLogger();
  r.level = level;
  const f = chooseLogFormat(formatSetting, isTTY);
  if (r === root && current && f !== format) {
    format = f;
    current = logDestination({ format: f });
  }
}

/** Replace the root logger (embedding applications, tests that want silence). */
export function setRootLogger(l: Logger): void {
  root = l;
}

export function logger(ns: string, parent?: Logger): Logger {
  return (parent ?? rootLogger()).child({ ns });
}
