/**
 * The TLS key material and settings of one listener, read from Kafka's ssl.* configs (broker/config/tls.ts,
 * each with its `listener.name.<l>.` override): the keystore (a PEM file with the private key and the
 * certificate chain, or inline PEM), the truststore (CA certificates, PEM), enabled protocols and cipher suites.
 * `readTlsMaterial` validates everything a TLS context needs, so a bad config is a ConfigError at start (and a
 * bad reloaded file an error the caller logs, keeping the old context):
 * - JKS / PKCS12 store types are refused (Runnel reads PEM only);
 * - a missing or unreadable file, a PEM without exactly one private key, without a certificate, a wrong or
 *   missing key password, a key that does not belong to the first (leaf) certificate.
 * Kafka's IANA cipher-suite names are translated to OpenSSL's (TLS 1.3 names are the same in both).
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions, type SecureVersion } from 'node:tls';
import { ConfigError, type EffectiveConfig } from '../config-model.js';

export interface TlsMaterial {
  /** What tls.createSecureContext / server.setSecureContext take. */
  readonly context: SecureContextOptions;
  /** Files whose content this was read from (watched for reloads). */
  readonly files: readonly string[];
  /** The leaf certificate's serial (hex), for logs; null without a keystore. */
  readonly serial: string | null;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

function pemBlocks(text: string): Array<{ label: string; pem: string }> {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1], pem: `${m[0]}\n` }));
}

function readPem(listener: string, config: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`listener ${listener}: ${config} ${path} cannot be read: ${(err as Error).message}`);
  }
}

function storeType(config: EffectiveConfig, listener: string, name: string): void {
  const type = String(config.listenerValue(listener, name)).toUpperCase();
  if (type !== 'PEM')
    throw new ConfigError(
      `listener ${listener}: ${name} ${type} is not supported; Runnel reads PEM stores only ` +
        '(convert with `openssl pkcs12 -in store.p12 -nodes` or keytool -importkeystore to PKCS12 first)',
    );
}

/** Kafka's IANA suite names → OpenSSL's; other names (OpenSSL's, TLS 1.3's) unchanged. */
export function opensslCipherName(name: string): string {
  const m = /^TLS_(.+)_WITH_(.+)$/.exec(name);
  if (!m) return name;
  const kx = m[1] === 'RSA' ? '' : `${m[1].replace(/_/g, '-')}-`;
  const c = m[2]
    .replace(/^AES_(\d+)_GCM_(SHA\d+)$/, 'AES$1-GCM-$2')
    .replace(/^AES_(\d+)_CBC_(SHA\d*)$/, 'AES$1-$2')
    .replace(/^CHACHA20_POLY1305_SHA256$/, 'CHACHA20-POLY1305');
  return `${kx}${c}`;
}

interface Keystore {
  key: string;
  cert: string;
  passphrase?: string;
  serial: string;
}

function keystore(config: EffectiveConfig, listener: string, files: string[]): Keystore | null {
  const location = config.listenerValue(listener, 'ssl.keystore.location') as string | null;
  const chain = config.listenerValue(listener, 'ssl.keystore.certificate.chain') as string | null;
  const inlineKey = config.listenerValue(listener, 'ssl.keystore.key') as string | null;
  if (location === null && chain === null && inlineKey === null) return null;
  storeType(config, listener, 'ssl.keystore.type');
  let text: string;
  if (location !== null) {
    files.push(location);
    text = readPem(listener, 'ssl.keystore.location', location);
  } else {
    if (chain === null || inlineKey === null)
      throw new ConfigError(`listener ${listener}: ssl.keystore.certificate.chain and ssl.keystore.key go together`);
    text = `${inlineKey}\n${chain}`;
  }
  const where = location ?? 'ssl.keystore.key/ssl.keystore.certificate.chain';
  const blocks = pemBlocks(text);
  const keys = blocks.filter((b) => b.label.endsWith('PRIVATE KEY'));
  const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
  if (keys.length !== 1)
    throw new ConfigError(`listener ${listener}: ${where} must hold exactly one private key (has ${keys.length})`);
  if (certs.length === 0) throw new ConfigError(`listener ${listener}: ${where} holds no certificate`);
  const password = config.listenerValue(listener, 'ssl.key.password') as string | null;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: keys[0].pem, format: 'pem', ...(password !== null ? { passphrase: password } : {}) });
  } catch (err) {
    const why = keys[0].label.startsWith('ENCRYPTED') ? ' (wrong or missing ssl.key.password?)' : '';
    throw new ConfigError(`listener ${listener}: the private key in ${where} cannot be read${why}: ${msg(err)}`);
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certs[0].pem);
  } catch (err) {
    throw new ConfigError(`listener ${listener}: the certificate in ${where} cannot be read: ${msg(err)}`);
  }
  if (!leaf.checkPrivateKey(key))
    throw new ConfigError(`listener ${listener}: the private key in ${where} does not match its first certificate`);
  return {
    key: keys[0].pem,
    cert: certs.map((c) => c.pem).join(''),
    ...(password !== null ? { passphrase: password } : {}),
    serial: leaf.serialNumber,
  };
}

function truststore(config: EffectiveConfig, listener: string, files: string[]): string[] | null {
  const location = config.listenerValue(listener, 'ssl.truststore.location') as string | null;
  const inline = config.listenerValue(listener, 'ssl.truststore.certificates') as string | null;
  if (location === null && inline === null) return null;
  storeType(config, listener, 'ssl.truststore.type');
  if (location !== null) files.push(location);
  const text = location !== null ? readPem(listener, 'ssl.truststore.location', location) : inline!;
  const where = location ?? 'ssl.truststore.certificates';
  const certs = pemBlocks(text).filter((b) => b.label === 'CERTIFICATE');
  if (certs.length === 0) throw new ConfigError(`listener ${listener}: ${where} holds no certificate`);
  for (const c of certs) {
    try {
      new X509Certificate(c.pem);
    } catch (err) {
      throw new ConfigError(`listener ${listener}: a certificate in ${where} cannot be read: ${msg(err)}`);
    }
  }
  return certs.map((c) => c.pem);
}

function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The TLS material of `listener` (see the header). `needKeystore`: a server side needs a certificate; a client
 * side may go without (no client certificate).
 */
export function readTlsMaterial(config: EffectiveConfig, listener: string, needKeystore: boolean): TlsMaterial {
  const files: string[] = [];
  const ks = keystore(config, listener, files);
  if (!ks && needKeystore)
    throw new ConfigError(
      `listener ${listener}: TLS needs ssl.keystore.location (or ssl.keystore.certificate.chain and ssl.keystore.key)`,
    );
  const ca = truststore(config, listener, files);
  const protocols = config.listenerValue(listener, 'ssl.enabled.protocols') as string[];
  const enabled = VERSIONS.filter((v) => protocols.includes(v));
  if (enabled.length === 0) throw new ConfigError(`listener ${listener}: ssl.enabled.protocols enables no protocol`);
  const suites = config.listenerValue(listener, 'ssl.cipher.suites') as string[] | null;
  const context: SecureContextOptions = {
    ...(ks
      ? { key: ks.key, cert: ks.cert, ...(ks.passphrase !== undefined ? { passphrase: ks.passphrase } : {}) }
      : {}),
    ...(ca ? { ca } : {}),
    minVersion: enabled[0],
    maxVersion: enabled[enabled.length - 1],
    ...(suites && suites.length > 0 ? { ciphers: suites.map(opensslCipherName).join(':') } : {}),
  };
  try {
    createSecureContext(context);
  } catch (err) {
    throw new ConfigError(`listener ${listener}: TLS settings refused: ${msg(err)}`);
  }
  return { context, files, serial: ks?.serial ?? null };
}
