/**
 * TLS of SSL and SASL_SSL listeners: the server options of one listener (tls-material.ts reads the keystore and
 * truststore), client authentication and the principal, certificate reloads, and the client side options the
 * broker uses to reach another broker's TLS listener (replica fetcher, inter.broker.listener.name).
 *
 * - `ssl.client.auth`: required → a client without a certificate signed by the truststore fails the handshake;
 *   requested → asked for, an untrusted one is refused, none is fine; none → not asked. On SASL_SSL listeners
 *   only the listener's own `listener.name.<l>.ssl.client.auth` applies (else none), as Kafka does (KIP-684).
 * - The principal of a connection with a trusted client certificate is `User:` + its subject DN in RFC 2253 form
 *   (x500.ts) mapped by `ssl.principal.mapping.rules` (principal-mapping.ts); without one it is User:ANONYMOUS.
 *   A certificate no rule maps refuses the connection, as Kafka fails the authentication.
 * - Reload: the keystore and truststore files are polled (fs.watchFile, `ssl.file.watch.interval.ms`, not
 *   keeping the process alive); when their content changes and reads cleanly the server's context is replaced
 *   (new connections get it, open ones keep theirs); a bad new file keeps the old context with an error log.
 *   `close()` stops the polling.
 */
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { ConnectionOptions, Server, TLSSocket, TlsOptions } from 'node:tls';
import { isIP } from 'node:net';
import { ConfigError, type EffectiveConfig } from '../config-model.js';
import type { Logger } from '../logger.js';
import { PrincipalMapper } from './principal-mapping.js';
import { ANONYMOUS, type SecurityProtocol } from './session.js';
import { readTlsMaterial, type TlsMaterial } from './tls-material.js';
import { subjectRfc2253 } from './x500.js';

export type ClientAuth = 'none' | 'requested' | 'required';

/** Whether a listener of this protocol is served over TLS. */
export function usesTls(protocol: SecurityProtocol): boolean {
  return protocol === 'SSL' || protocol === 'SASL_SSL';
}

function clientAuth(config: EffectiveConfig, listener: string, protocol: SecurityProtocol): ClientAuth {
  if (protocol === 'SASL_SSL' && !config.sources.has(`listener.name.${listener.toLowerCase()}.ssl.client.auth`))
    return 'none';
  return config.listenerValue(listener, 'ssl.client.auth') as ClientAuth;
}

/** The result of authenticating a TLS peer: its principal, or why it is refused. */
export type TlsPeer = { principal: string } | { refused: string };

export class ListenerTls {
  readonly clientAuth: ClientAuth;
  private material: TlsMaterial;
  private readonly mapper: PrincipalMapper;
  private readonly watched = new Map<string, (cur: Stats, prev: Stats) => void>();
  private server: Server | undefined;

  /** Reads and checks everything now: ConfigError on a bad TLS config. */
  constructor(
    private readonly config: EffectiveConfig,
    readonly listener: string,
    protocol: SecurityProtocol,
    private readonly log: Logger,
  ) {
    this.clientAuth = clientAuth(config, listener, protocol);
    this.mapper = new PrincipalMapper(config.listenerValue(listener, 'ssl.principal.mapping.rules') as string);
    this.material = readTlsMaterial(config, listener, true);
  }

  /** Options of tls.createServer. */
  serverOptions(): TlsOptions {
    return {
      ...this.material.context,
      requestCert: this.clientAuth !== 'none',
      rejectUnauthorized: this.clientAuth === 'required',
    };
  }

  /** The principal of a socket whose handshake completed (see the header). */
  authenticate(socket: TLSSocket): TlsPeer {
    if (this.clientAuth === 'none') return { principal: ANONYMOUS };
    const cert = socket.getPeerCertificate();
    if (!cert?.raw) return { principal: ANONYMOUS };
    if (!socket.authorized) return { refused: `client certificate not trusted: ${String(socket.authorizationError)}` };
    let dn: string;
    try {
      dn = subjectRfc2253(cert.raw);
    } catch (err) {
      return { refused: `client certificate subject cannot be read: ${(err as Error).message}` };
    }
    const name = this.mapper.map(dn);
    if (name === null) return { refused: `no ssl.principal.mapping.rules rule applies to ${dn}` };
    return { principal: `User:${name}` };
  }

  /** Poll the keystore and truststore files and swap `server`'s context when they change (see the header). */
  watch(server: Server): void {
    this.server = server;
    const interval = this.config.int('ssl.file.watch.interval.ms');
    for (const file of new Set(this.material.files)) {
      const onChange = (cur: Stats, prev: Stats): void => {
        if (cur.mtimeMs !== prev.mtimeMs) this.reload(file);
      };
      this.watched.set(file, onChange);
      watchFile(file, { interval, persistent: false }, onChange);
    }
  }

  private reload(changed: string): void {
    let next: TlsMaterial;
    try {
      next = readTlsMaterial(this.config, this.listener, true);
    } catch (err) {
      this.log.error({ listener: this.listener, file: changed, err: (err as Error).message }, 'TLS reload failed');
      return;
    }
    const same = JSON.stringify(next.context) === JSON.stringify(this.material.context);
    if (same || !this.server) return;
    this.server.setSecureContext(next.context);
    this.material = next;
    this.log.info({ listener: this.listener, file: changed, serial: next.serial }, 'TLS certificates reloaded');
  }

  /** Stop polling the files. */
  close(): void {
    for (const [file, fn] of this.watched) unwatchFile(file, fn);
    this.watched.clear();
    this.server = undefined;
  }
}

/**
 * Options for connecting to the TLS listener `listener` of another broker at `host`: this broker's keystore
 * (its client certificate, for mTLS) and truststore for that listener; `ssl.endpoint.identification.algorithm`
 * `https` checks the certificate names `host`, empty skips that check (the chain is still verified).
 */
export function clientTlsOptions(config: EffectiveConfig, listener: string, host: string): ConnectionOptions {
  const m = readTlsMaterial(config, listener, false);
  const algorithm = String(config.listenerValue(listener, 'ssl.endpoint.identification.algorithm') ?? '');
  if (algorithm !== '' && algorithm.toLowerCase() !== 'https')
    throw new ConfigError(`ssl.endpoint.identification.algorithm: ${algorithm} is not https or empty`);
  return {
    ...m.context,
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ...(algorithm === '' ? { checkServerIdentity: () => undefined } : {}),
  };
}
