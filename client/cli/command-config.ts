/**
 * `--command-config <file>`: the client properties file Kafka's tools take (kafka-acls.sh, kafka-configs.sh ...),
 * so the `runnel` client commands reach a secured listener with the same file:
 *
 *   security.protocol=SASL_SSL                  # PLAINTEXT (default), SSL, SASL_PLAINTEXT, SASL_SSL
 *   sasl.mechanism=SCRAM-SHA-512                # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER
 *   sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s";
 *   ssl.truststore.location=ca.pem              # PEM (ssl.truststore.type=PEM); librdkafka's ssl.ca.location too
 *   ssl.keystore.location=client.pem            # PEM key + certificate, for mTLS; or ssl.certificate.location
 *                                               # and ssl.key.location (librdkafka's names); ssl.key.password
 *   ssl.endpoint.identification.algorithm=      # empty: do not check the broker's host name
 *
 * librdkafka's `sasl.username` / `sasl.password` are accepted in place of the JAAS config. OAUTHBEARER logs in as
 * Kafka's Java client does (./oauthbearer-login.ts: an unsecured token from the JAAS options, or a token from
 * `sasl.oauthbearer.token.endpoint.url`). Unknown properties are ignored (clients' files carry many); a value the
 * command cannot use is a usage error.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { SaslMechanismName, SaslOptions } from '../sasl.js';
import { UsageError } from './common.js';
import { oauthBearerFromProperties } from './oauthbearer-login.js';

const PROTOCOLS = new Set(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']);
const MECHANISMS = new Set<string>(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']);

/** Java-style properties: `key=value` or `key: value` lines, `#`/`!` comments, `\` line continuations. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.replace(/\\\r?\n\s*/g, '').split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

/** `username="..."` and `password="..."` of a JAAS config line (quotes optional, `\"` escapes). */
function jaasCredential(jaas: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${key}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s;]+))`).exec(jaas);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`--command-config: cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/** The TLS and SASL options of a properties file (none for PLAINTEXT). */
export function securityFromProperties(props: ReadonlyMap<string, string>): {
  tls?: TlsConnectionOptions;
  sasl?: SaslOptions;
} {
  const protocol = (props.get('security.protocol') ?? 'PLAINTEXT').toUpperCase();
  if (!PROTOCOLS.has(protocol)) throw new UsageError(`--command-config: unknown security.protocol ${protocol}`);
  const out: { tls?: TlsConnectionOptions; sasl?: SaslOptions } = {};
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const tls: TlsConnectionOptions = {};
    const ca = props.get('ssl.truststore.location') ?? props.get('ssl.ca.location');
    if (ca) tls.ca = readPem(ca, 'truststore');
    const keystore = props.get('ssl.keystore.location');
    const cert = props.get('ssl.certificate.location') ?? keystore;
    const key = props.get('ssl.key.location') ?? keystore;
    if (cert) tls.cert = readPem(cert, 'certificate');
    if (key) tls.key = readPem(key, 'private key');
    const passphrase = props.get('ssl.key.password');
    if (passphrase) tls.passphrase = passphrase;
    if (props.get('ssl.endpoint.identification.algorithm') === '') tls.checkServerIdentity = () => undefined;
    out.tls = tls;
  }
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    const mechanism = (props.get('sasl.mechanism') ?? 'PLAIN').toUpperCase();
    if (!MECHANISMS.has(mechanism))
      throw new UsageError(`--command-config: sasl.mechanism ${mechanism} is not supported by the CLI`);
    if (mechanism === 'OAUTHBEARER') {
      out.sasl = oauthBearerFromProperties(props);
      return out;
    }
    const jaas = props.get('sasl.jaas.config') ?? '';
    const username = props.get('sasl.username') ?? jaasCredential(jaas, 'username');
    const password = props.get('sasl.password') ?? jaasCredential(jaas, 'password');
    if (username === undefined || password === undefined)
      throw new UsageError('--command-config: SASL needs username and password (sasl.jaas.config or sasl.username)');
    out.sasl = { mechanism: mechanism as SaslMechanismName, username, password };
  }
  return out;
}

/** Read and apply a `--command-config` file. */
export function commandConfig(file: string): { tls?: TlsConnectionOptions; sasl?: SaslOptions } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--command-config: cannot read ${file}: ${(err as Error).message}`);
  }
  return securityFromProperties(parseProperties(text));
}
