/**
 * Certificate reload without restart (broker/security/tls.ts) and Runnel's own TLS client (client/connection.ts
 * `tls`): an SSL listener with `ssl.client.auth=requested` whose keystore file is polled every 100 ms.
 * Replacing the keystore with a certificate of another serial: new connections see it, a connection opened
 * before keeps working; a broken keystore file keeps the current certificate and logs an error. In requested
 * mode a client without a certificate is User:ANONYMOUS, with a trusted one its DN, an untrusted one is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { pino } from 'pino';
import { startBroker, type RunningBroker } from '../../../broker/index.js';
import { Connection } from '../../../client/connection.js';
import { makeTestCerts, type TestCerts } from '../../helpers/certs.js';

let certs: TestCerts;
let b: RunningBroker;
let live: string;
let logs = '';

before(async () => {
  certs = makeTestCerts();
  live = join(certs.dir, 'live.keystore.pem');
  copyFileSync(certs.broker.keystore, live);
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => (logs += c.toString()));
  b = await startBroker({
    storage: 'memory',
    logger: pino({ level: 'info' }, stream),
    logLevel: 'debug',
    config: {
      listeners: 'SSL://127.0.0.1:0',
      'listener.security.protocol.map': 'SSL:SSL',
      'ssl.keystore.location': live,
      'ssl.truststore.location': certs.ca,
      'ssl.client.auth': 'requested',
      'ssl.file.watch.interval.ms': 100,
    },
  });
});
after(async () => {
  await b?.stop();
  certs?.remove();
});

const serialOf = (certPath: string): string => new X509Certificate(readFileSync(certPath)).serialNumber;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The serial of the certificate a new TLS connection to the broker is shown. */
function peerSerial(): Promise<string> {
  return new Promise((res, rej) => {
    const s = tlsConnect({ host: '127.0.0.1', port: b.port, ca: readFileSync(certs.ca) }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.destroy();
      res(serial);
    });
    s.once('error', rej);
  });
}

function open(tls: ConnectionOptions): Promise<Connection> {
  return Connection.open({
    host: '127.0.0.1',
    port: b.port,
    clientId: 'tls-reload',
    connectTimeoutMs: 10_000,
    requestTimeoutMs: 10_000,
    tls,
  });
}

/** Waits (bounded: 100 tries, 20 s) until `check` holds. */
async function eventually(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await sleep(200);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** An ApiVersions round trip on `c` (proves the connection still serves requests). */
async function ping(c: Connection): Promise<void> {
  const versions = await c.send(
    18,
    0,
    () => {},
    (r) => r.buf.readInt16BE(r.pos),
  );
  assert.equal(versions, 0, 'ApiVersions error code');
}

test('the Runnel client connects over TLS; requested client auth: none → ANONYMOUS, trusted → DN', async () => {
  const anon = await open({ ca: readFileSync(certs.ca) });
  const mtls = await open({
    ca: readFileSync(certs.ca),
    cert: readFileSync(certs.client.cert),
    key: readFileSync(certs.client.key),
  });
  try {
    assert.ok(anon.apiVersions.size > 0 && mtls.apiVersions.size > 0, 'ApiVersions negotiated over TLS');
    const principals = b.broker
      .connectionSessions()
      .map((s) => s.principal)
      .sort();
    assert.deepEqual(principals, ['User:ANONYMOUS', 'User:CN=client1,OU=eng,O=Acme']);
    const lines = logs.split('\n').filter((l) => l.includes('TLS client authenticated'));
    const logged = lines.map((l) => (JSON.parse(l) as { principal: string }).principal);
    assert.ok(logged.includes('User:CN=client1,OU=eng,O=Acme'), logged.join());
  } finally {
    anon.close();
    mtls.close();
  }
  await assert.rejects(
    open({
      ca: readFileSync(certs.ca),
      cert: readFileSync(certs.intruder.cert),
      key: readFileSync(certs.intruder.key),
    }),
  );
  await eventually('the refusal log line', () => /TLS client refused|TLS handshake failed/.test(logs));
});

test('a replaced keystore is used by new connections; open ones keep working; a bad file is ignored', async () => {
  assert.equal(await peerSerial(), serialOf(certs.broker.cert));
  const before = await open({ ca: readFileSync(certs.ca) });
  try {
    const next = certs.brokerCert('broker2', 1002);
    writeFileSync(live, readFileSync(next.keystore));
    await eventually('the new certificate', async () => (await peerSerial()) === serialOf(next.cert));
    assert.notEqual(serialOf(next.cert), serialOf(certs.broker.cert));
    await ping(before);
    assert.match(logs, /TLS certificates reloaded/);

    writeFileSync(live, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
    await eventually('the reload error', () => /TLS reload failed/.test(logs));
    assert.equal(await peerSerial(), serialOf(next.cert), 'still the last good certificate');
    const after = await open({ ca: readFileSync(certs.ca) });
    await ping(after);
    after.close();
    await ping(before);
  } finally {
    before.close();
  }
});
