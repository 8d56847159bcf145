/**
 * The Kafka listeners of one node, from Kafka's configs (broker/config/listeners.ts): `listeners`
 * (`NAME://host:port,...`), `advertised.listeners`, `listener.security.protocol.map`,
 * `inter.broker.listener.name`; without `listeners`, `host`/`port` and `advertised.host`/`advertised.port`
 * describe one PLAINTEXT listener (the shorthand `runnel start --port` uses).
 *
 * Rules (Kafka's, from its listener validation): listener names are unique, case-insensitive, and each must
 * have a security protocol in the map; bound ports are unique (0 picks a free one); an advertised listener
 * must name a listener and may not advertise a wildcard address (a wildcard bind host is advertised as
 * `localhost`); the inter-broker listener must be one of the listeners. A violation is a ConfigError at start.
 */
import { ConfigError, type EffectiveConfig } from '../config-model.js';
import { SECURITY_PROTOCOLS, type SecurityProtocol } from './session.js';

export interface ListenerSpec {
  /** Upper-case listener name. */
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
  /** Bind address ('' from `NAME://:port` binds every interface, as 0.0.0.0). */
  readonly host: string;
  readonly port: number;
  /** What clients are told (port null: the bound port). */
  readonly advertisedHost: string;
  readonly advertisedPort: number | null;
}

export interface ListenerPlan {
  readonly listeners: readonly ListenerSpec[];
  /** Name of the listener brokers use among themselves. */
  readonly interBrokerListener: string;
}

const WILDCARDS = new Set(['', '0.0.0.0', '::', '[::]']);

interface Endpoint {
  name: string;
  host: string;
  port: number;
}

/** `NAME://host:port,...` (IPv6 hosts in brackets) → endpoints; ConfigError on bad syntax or duplicate names. */
export function parseEndpoints(configName: string, text: string): Endpoint[] {
  const out: Endpoint[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const m = /^([A-Za-z0-9_.-]+):\/\/(\[[^\]]*\]|[^:/]*):(\d+)$/.exec(item);
    if (!m) throw new ConfigError(`${configName}: ${JSON.stringify(item)} is not of the form NAME://host:port`);
    const port = Number(m[3]);
    if (port > 65535) throw new ConfigError(`${configName}: port ${port} of ${m[1]} is out of range`);
    const name = m[1].toUpperCase();
    if (out.some((e) => e.name === name)) throw new ConfigError(`${configName}: listener ${name} is listed twice`);
    out.push({ name, host: m[2].replace(/^\[(.*)\]$/, '$1'), port });
  }
  return out;
}

/** `NAME:PROTOCOL,...` → map by upper-case name. */
export function parseProtocolMap(text: string): Map<string, SecurityProtocol> {
  const map = new Map<string, SecurityProtocol>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const [name, protocol, extra] = item.split(':').map((s) => s.trim());
    const p = protocol?.toUpperCase() as SecurityProtocol;
    if (!name || extra !== undefined || !SECURITY_PROTOCOLS.includes(p))
      throw new ConfigError(`listener.security.protocol.map: ${JSON.stringify(item)} is not NAME:PROTOCOL`);
    map.set(name.toUpperCase(), p);
  }
  return map;
}

/** The listeners this node serves, validated (see the header). */
export function listenerPlan(config: EffectiveConfig): ListenerPlan {
  const listenersText = config.get('listeners') as string | null;
  if (listenersText === null || listenersText.trim() === '') {
    const host = config.get('host') as string;
    const spec: ListenerSpec = {
      name: 'PLAINTEXT',
      securityProtocol: 'PLAINTEXT',
      host,
      port: config.get('port') as number,
      advertisedHost: (config.get('advertised.host') as string | null) ?? (WILDCARDS.has(host) ? 'localhost' : host),
      advertisedPort: config.get('advertised.port') as number | null,
    };
    return { listeners: [spec], interBrokerListener: interBroker(config, [spec]) };
  }
  const protocols = parseProtocolMap(config.get('listener.security.protocol.map') as string);
  const bound = parseEndpoints('listeners', listenersText);
  if (bound.length === 0) throw new ConfigError('listeners: no listener given');
  const ports = new Set<number>();
  for (const e of bound) {
    if (!protocols.has(e.name))
      throw new ConfigError(`listeners: no security protocol for listener ${e.name} in listener.security.protocol.map`);
    if (e.port !== 0 && ports.has(e.port)) throw new ConfigError(`listeners: port ${e.port} is used twice`);
    ports.add(e.port);
  }
  const advertisedText = config.get('advertised.listeners') as string | null;
  const advertised = advertisedText ? parseEndpoints('advertised.listeners', advertisedText) : [];
  for (const a of advertised) {
    if (!bound.some((e) => e.name === a.name))
      throw new ConfigError(`advertised.listeners: ${a.name} is not one of the listeners`);
    if (WILDCARDS.has(a.host) && a.host !== '')
      throw new ConfigError(`advertised.listeners: ${a.name} advertises the wildcard address ${a.host}`);
  }
  const specs = bound.map((e): ListenerSpec => {
    const a = advertised.find((x) => x.name === e.name);
    return {
      name: e.name,
      securityProtocol: protocols.get(e.name)!,
      host: e.host === '' ? '0.0.0.0' : e.host,
      port: e.port,
      advertisedHost: a && a.host !== '' ? a.host : WILDCARDS.has(e.host) ? 'localhost' : e.host,
      advertisedPort: a && a.port !== 0 ? a.port : null,
    };
  });
  return { listeners: specs, interBrokerListener: interBroker(config, specs) };
}

function interBroker(config: EffectiveConfig, specs: readonly ListenerSpec[]): string {
  const named = config.get('inter.broker.listener.name') as string | null;
  if (named === null) return (specs.find((s) => s.name === 'PLAINTEXT') ?? specs[0]).name;
  const name = named.toUpperCase();
  if (!specs.some((s) => s.name === name))
    throw new ConfigError(`inter.broker.listener.name: ${named} is not one of the listeners`);
  return name;
}
