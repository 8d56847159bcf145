/**
 * Shared pieces of the `runnel` client commands: exit codes, error reporting, option parsers, the
 * client options every command builds from `--bootstrap` and `--command-config`, and plain-text tables.
 *
 * Exit codes: 0 success; 1 a Kafka or operation error (the broker refused, cannot connect, timeout);
 * 2 a usage error (unknown option, bad value, missing argument).
 */
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { InvalidArgumentError } from 'commander';
import type { SaslOptions } from '../sasl.js';
import { commandConfig } from './command-config.js';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** An error the user can fix by changing the command line (exit 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An operation that failed for a reason other than a broker error code (exit 1). */
export class OperationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperationError';
  }
}

export const DEFAULT_BOOTSTRAP = 'localhost:9092';

export interface CommonOptions {
  bootstrap: string;
  /** `--command-config`: a client properties file with security.protocol, sasl.*, ssl.* (command-config.ts). */
  commandConfig?: string;
}

export interface CliClientOptions {
  bootstrap: string[];
  clientId: string;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  tls?: TlsConnectionOptions;
  sasl?: SaslOptions;
}

export function clientOptions(opts: CommonOptions): CliClientOptions {
  return {
    bootstrap: parseBootstrap(opts.bootstrap),
    clientId: 'runnel-cli',
    connectTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    ...(opts.commandConfig ? commandConfig(opts.commandConfig) : {}),
  };
}

/** "host:port[,host:port...]" → list; a missing port means 9092. */
export function parseBootstrap(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const s = part.trim();
    if (s === '') continue;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(s);
    if (!m) throw new UsageError(`--bootstrap: expected host:port, got ${JSON.stringify(s)}`);
    const port = m[2] === undefined ? 9092 : Number(m[2]);
    if (port < 1 || port > 65535) throw new UsageError(`--bootstrap: port out of range in ${JSON.stringify(s)}`);
    out.push(`${m[1]}:${port}`);
  }
  if (out.length === 0) throw new UsageError('--bootstrap: expected host:port');
  return out;
}

// ---- commander option parsers (they throw InvalidArgumentError, which commander reports as a usage error)

export function parseIntOption(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    if (!/^-?\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`expected an integer, got ${JSON.stringify(value)}`);
    const n = Number(value);
    if (n < min || n > max)
      throw new InvalidArgumentError(
        `expected an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}, got ${value}`,
      );
    return n;
  };
}

/** Repeatable `name=value` option collected into an ordered list. */
export function collectKeyValue(value: string, previous: Array<[string, string]> | undefined): Array<[string, string]> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected name=value, got ${JSON.stringify(value)}`);
  return [...(previous ?? []), [value.slice(0, eq), value.slice(eq + 1)]];
}

/** Repeatable plain option collected into a list. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function choice<T extends string>(allowed: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(allowed as readonly string[]).includes(value))
      throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    return value as T;
  };
}

/**
 * A point in time: an ISO-8601 date/time ("2024-05-01", "2024-05-01T12:00:00Z") or milliseconds since
 * the epoch. A date/time without a zone is read as UTC.
 */
export function parseTimestamp(value: string): number {
  const s = value.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(s) || !s.includes('T') ? s : `${s}Z`;
  const ms = Date.parse(/^\d{4}-\d\d-\d\d$/.test(zoned) ? `${zoned}T00:00:00Z` : zoned);
  if (Number.isNaN(ms))
    throw new InvalidArgumentError(
      `expected an ISO-8601 date/time or epoch milliseconds, got ${JSON.stringify(value)}`,
    );
  return ms;
}

// ---- errors

interface KafkaLikeError {
  name?: string;
  message: string;
  code?: unknown;
  errno?: unknown;
}

/** One line describing `err` for stderr, and the exit code it maps to. */
export function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof UsageError || err instanceof InvalidArgumentError)
    return { message: err.message, exitCode: EXIT_USAGE };
  if (err instanceof OperationError) return { message: err.message, exitCode: EXIT_ERROR };
  const e = err as KafkaLikeError;
  if (e && typeof e === 'object' && typeof e.message === 'string') {
    const sysCode = typeof e.code === 'string' ? e.code : undefined;
    if (
      sysCode === 'ECONNREFUSED' ||
      sysCode === 'ENOTFOUND' ||
      sysCode === 'EHOSTUNREACH' ||
      sysCode === 'ETIMEDOUT'
    ) {
      return { message: `cannot connect to the broker: ${e.message}`, exitCode: EXIT_ERROR };
    }
    // KafkaError: a numeric Kafka error code and its name.
    if (typeof e.code === 'number' && e.name && e.name !== 'Error' && !e.message.includes(e.name)) {
      return { message: `${e.message} (${e.name})`, exitCode: EXIT_ERROR };
    }
    return { message: e.message, exitCode: EXIT_ERROR };
  }
  return { message: String(err), exitCode: EXIT_ERROR };
}

// ---- output

/** Left-aligned columns separated by two spaces; the header row first. */
export function table(headers: string[], rows: Array<Array<string | number | bigint | null | undefined>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return `${cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export function out(text: string): void {
  process.stdout.write(text);
}

export function err(text: string): void {
  process.stderr.write(text);
}

/** "1,234,567" */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}
