/**
 * Test certificates, generated at test time with Debian's `openssl` into a fresh temporary directory (nothing
 * secret is committed): a CA, a broker certificate for 127.0.0.1 and localhost (SAN IP and DNS) signed by it,
 * a client certificate `CN=client1,OU=eng,O=Acme` signed by it, and a second, untrusted CA with a client
 * certificate of its own. EC P-256 keys (fast to make); every file is PEM. `brokerCert()` issues another broker
 * certificate (another serial) for reload tests. Every openssl run is bounded in time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  /** Private key, PEM (unencrypted). */
  key: string;
  /** Certificate, PEM. */
  cert: string;
  /** Key then certificate in one PEM file (a PEM keystore). */
  keystore: string;
}

export interface TestCerts {
  dir: string;
  /** The trusted CA's certificate (PEM): the truststore of both sides. */
  ca: string;
  broker: CertFiles;
  /** CN=client1,OU=eng,O=Acme, signed by the trusted CA. */
  client: CertFiles;
  /** The untrusted CA's certificate. */
  otherCa: string;
  /** CN=intruder, signed by the untrusted CA. */
  intruder: CertFiles;
  /** Issue a new broker certificate (serial `serial`) from the trusted CA into files named `<name>.*`. */
  brokerCert(name: string, serial: number): CertFiles;
  /** The key of `files` encrypted with `password` (AES-256, PKCS#8 PEM), in a new file. */
  encryptedKey(files: CertFiles, password: string): string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

function newKey(dir: string, name: string): string {
  const path = join(dir, `${name}.key`);
  openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
  return path;
}

function selfSignedCa(dir: string, name: string, subject: string): { cert: string; key: string } {
  const key = newKey(dir, name);
  const cert = join(dir, `${name}.pem`);
  openssl(dir, ['req', '-x509', '-new', '-key', key, '-out', cert, '-days', '2', '-subj', subject, '-sha256']);
  return { cert, key };
}

function issue(
  dir: string,
  ca: { cert: string; key: string },
  name: string,
  subject: string,
  serial: number,
  ext: string,
): CertFiles {
  const key = newKey(dir, name);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, `${ext}\n`);
  openssl(dir, ['req', '-new', '-key', key, '-out', csr, '-subj', subject]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-set_serial',
    String(serial),
    '-days',
    '2',
    '-sha256',
    '-extfile',
    extFile,
    '-out',
    cert,
  ]);
  const keystore = join(dir, `${name}.keystore.pem`);
  writeFileSync(keystore, readFileSync(key, 'utf8') + readFileSync(cert, 'utf8'));
  return { key, cert, keystore };
}

const SERVER_EXT = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth';
const CLIENT_EXT = 'extendedKeyUsage=clientAuth';

/** Make the certificates (a few openssl runs, well under a second each). */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-certs-'));
  const ca = selfSignedCa(dir, 'ca', '/CN=Runnel Test CA');
  const other = selfSignedCa(dir, 'other-ca', '/CN=Untrusted CA');
  const brokerCert = (name: string, serial: number): CertFiles =>
    issue(dir, ca, name, '/CN=localhost', serial, SERVER_EXT);
  return {
    dir,
    ca: ca.cert,
    broker: brokerCert('broker', 1001),
    client: issue(dir, ca, 'client1', '/O=Acme/OU=eng/CN=client1', 2001, CLIENT_EXT),
    otherCa: other.cert,
    intruder: issue(dir, other, 'intruder', '/CN=intruder', 3001, CLIENT_EXT),
    brokerCert,
    encryptedKey(files, password) {
      const out = `${files.key}.enc`;
      openssl(dir, [
        'pkcs8',
        '-topk8',
        '-in',
        files.key,
        '-out',
        out,
        '-v2',
        'aes-256-cbc',
        '-passout',
        `pass:${password}`,
      ]);
      return out;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
