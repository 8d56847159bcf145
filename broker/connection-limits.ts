/**
 * Connection limits checked when a listener accepts a socket, with Kafka's configs:
 * - `max.connections`: connections open at once on this node over all listeners, and per listener as
 *   `listener.name.<l>.max.connections`. As in Kafka, the inter-broker listener is exempt from the node-wide
 *   limit (not from its own); Kafka would then close the least recently used connection of another listener,
 *   Runnel does not.
 * - `max.connections.per.ip` and `max.connections.per.ip.overrides` (`<ip or host>:<count>,...`; host names
 *   resolved once, when the limits are built): connections from one address over all listeners.
 * Kafka stops accepting while the node-wide or listener limit is reached; Node cannot pause accepting on a
 * listening socket, so a connection over any limit is accepted and closed at once (the client sees the
 * connection closed and retries, as after Kafka's per-IP refusal).
 *
 * Refusals and accept errors (EMFILE/ENFILE when the process is out of descriptors: the listener keeps
 * listening) are logged at most once per `LOG_INTERVAL_MS` per kind, with how many were not logged since.
 *
 * Invariants: every admitted socket is counted once and uncounted once by the release function `admit` returns
 * (idempotent); the counts never go negative; a refused socket is never counted.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from './logger.js';
import { ConfigError } from './config-model.js';

export const LOG_INTERVAL_MS = 10_000;
const INT_MAX = 2_147_483_647;

/** Logs a kind of event at most once per interval, counting the ones it leaves out. */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  warn(kind: string, fields: Record<string, unknown>, msg: string): void {
    const t = this.now();
    const prev = this.last.get(kind);
    if (prev && t - prev.at < this.intervalMs) {
      prev.suppressed++;
      return;
    }
    const suppressed = prev?.suppressed ?? 0;
    this.last.set(kind, { at: t, suppressed: 0 });
    this.log.warn(suppressed > 0 ? { ...fields, suppressedSinceLastLog: suppressed } : fields, msg);
  }
}

/** `max.connections.per.ip.overrides` parsed: host or IP → count (host names not resolved yet). */
export function parseIpOverrides(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of text.split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    const colon = entry.lastIndexOf(':');
    const host = entry
      .slice(0, colon)
      .trim()
      .replace(/^\[(.*)\]$/, '$1');
    const count = Number(entry.slice(colon + 1).trim());
    if (colon <= 0 || host === '' || !Number.isInteger(count) || count < 0 || count > INT_MAX)
      throw new ConfigError(`max.connections.per.ip.overrides: '${entry}' is not <host or ip>:<count>`);
    out.set(host, count);
  }
  return out;
}

/** Kafka compares addresses, not their spelling: IPv4-mapped IPv6 addresses count as their IPv4 address. */
function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

export interface ConnectionLimitsOptions {
  /** `max.connections` of a listener (the `listener.name.<l>.` override or the node-wide value). */
  listenerMax: (listener: string) => number;
  /** Node-wide `max.connections`. */
  maxConnections: number;
  maxPerIp: number;
  /** Per-IP overrides, IP addresses as keys (see `ConnectionLimits.resolve`). */
  overrides?: ReadonlyMap<string, number>;
  /** The listener exempt from the node-wide limit. */
  interBrokerListener?: string;
  log: Logger;
}

export class ConnectionLimits {
  private total = 0;
  private readonly perListener = new Map<string, number>();
  private readonly perIp = new Map<string, number>();
  private readonly logs: RateLimitedLog;

  constructor(private readonly o: ConnectionLimitsOptions) {
    this.logs = new RateLimitedLog(o.log);
  }

  /** Overrides with host names resolved to every address they have (a name that does not resolve is logged). */
  static async resolve(overrides: ReadonlyMap<string, number>, log: Logger): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const [host, count] of overrides) {
      if (isIP(host)) {
        out.set(normalizeIp(host), count);
        continue;
      }
      try {
        for (const a of await lookup(host, { all: true })) out.set(normalizeIp(a.address), count);
      } catch (err) {
        log.warn({ host, err: (err as Error).message }, 'max.connections.per.ip.overrides: cannot resolve host');
      }
    }
    return out;
  }

  get connections(): number {
    return this.total;
  }

  /** Count a socket accepted on `listener` from `remote`: its release function, or undefined if refused (logged). */
  admit(listener: string, remote: string | undefined): (() => void) | undefined {
    const ip = normalizeIp(remote ?? 'unknown');
    const ipMax = this.o.overrides?.get(ip) ?? this.o.maxPerIp;
    const fromIp = this.perIp.get(ip) ?? 0;
    if (fromIp >= ipMax) {
      this.logs.warn(
        'per-ip',
        { listener, ip, max: ipMax },
        `refused a connection from ${ip}: it already has the maximum of ${ipMax} connections`,
      );
      return undefined;
    }
    const onListener = this.perListener.get(listener) ?? 0;
    const listenerMax = this.o.listenerMax(listener);
    if (onListener >= listenerMax) {
      this.logs.warn(
        `listener:${listener}`,
        { listener, ip, max: listenerMax },
        `refused a connection on listener ${listener}: max.connections (${listenerMax}) reached`,
      );
      return undefined;
    }
    if (listener !== this.o.interBrokerListener && this.total >= this.o.maxConnections) {
      this.logs.warn(
        'broker',
        { listener, ip, max: this.o.maxConnections },
        `refused a connection: this node's max.connections (${this.o.maxConnections}) reached`,
      );
      return undefined;
    }
    this.total++;
    this.perListener.set(listener, onListener + 1);
    this.perIp.set(ip, fromIp + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      this.decrement(this.perListener, listener);
      this.decrement(this.perIp, ip);
    };
  }

  /** An error of a listening socket: out of descriptors in accept (the listener keeps listening) or other. */
  acceptError(listener: string, err: NodeJS.ErrnoException): void {
    const kind = err.code === 'EMFILE' || err.code === 'ENFILE' ? 'out of file descriptors' : 'error';
    this.logs.warn(
      `accept:${listener}:${err.code ?? ''}`,
      { listener, code: err.code, connections: this.total },
      `listener ${listener}: ${kind} accepting a connection (${err.message}); still listening`,
    );
  }

  private decrement(m: Map<string, number>, key: string): void {
    const n = (m.get(key) ?? 0) - 1;
    if (n <= 0) m.delete(key);
    else m.set(key, n);
  }
}
