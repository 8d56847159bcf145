/**
 * Namespaced logging through pino, shared by every part of the broker. JSON lines on stdout by default;
 * `RUNNEL_LOG_LEVEL` (or the `log.level` config) sets the level. Never console.log in the broker.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

let root: Logger | undefined;

export function rootLogger(): Logger {
  if (!root) root = pino({ level: process.env.RUNNEL_LOG_LEVEL ?? 'info', base: { pid: process.pid } });
  return root;
}

/** Replace the root logger (embedding applications, tests that want silence). */
export function setRootLogger(l: Logger): void {
  root = l;
}

export function logger(ns: string, parent?: Logger): Logger {
  return (parent ?? rootLogger()).child({ ns });
}
