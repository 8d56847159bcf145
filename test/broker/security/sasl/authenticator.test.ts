/**
 * The SASL state machine of a connection (broker/security/sasl/authenticator.ts) over the raw protocol: what
 * is admitted before authentication, handshake v0 (raw tokens) and v1, failures (wrong password, unknown user,
 * unknown mechanism, truncated / oversized / garbage SCRAM messages) answered and followed by a closed
 * connection, a bounded fuzz loop of random SASL frames, and the broker serving good clients afterwards.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { RunningBroker } from '../../../../broker/index.js';
import { ErrorCode } from '../../../../protocol/generated/error-codes.js';
import { encodeSaslHandshakeRequest } from '../../../../protocol/generated/sasl-handshake-request.js';
import { decodeSaslHandshakeResponse } from '../../../../protocol/generated/sasl-handshake-response.js';
import { encodeSaslAuthenticateRequest } from '../../../../protocol/generated/sasl-authenticate-request.js';
import {
  decodeSaslAuthenticateResponse,
  type SaslAuthenticateResponse,
} from '../../../../protocol/generated/sasl-authenticate-response.js';
import { encodeMetadataRequest, defaultMetadataRequest } from '../../../../protocol/generated/metadata-request.js';
import { decodeMetadataResponse } from '../../../../protocol/generated/metadata-response.js';
import { encodeApiVersionsRequest } from '../../../../protocol/generated/api-versions-request.js';
import { decodeApiVersionsResponse } from '../../../../protocol/generated/api-versions-response.js';
import { defaultProduceRequest, encodeProduceRequest } from '../../../../protocol/generated/produce-request.js';
import type { RawClient } from '../../../helpers/raw-client.js';
import { rawAuthenticate, saslBroker, saslRaw } from '../../../helpers/sasl.js';

let b: RunningBroker;
before(async () => {
  b = await saslBroker();
});
after(async () => {
  await b.stop();
});

const handshake = (c: RawClient, mechanism: string, v = 1) =>
  c.request(17, v, (w) => encodeSaslHandshakeRequest(w, v, { mechanism }), decodeSaslHandshakeResponse);
const saslAuth = (c: RawClient, token: Buffer | string, v = 1): Promise<SaslAuthenticateResponse> =>
  c.request(
    36,
    v,
    (w) => encodeSaslAuthenticateRequest(w, v, { authBytes: Buffer.from(token) }),
    decodeSaslAuthenticateResponse,
  );
const metadata = (c: RawClient) =>
  c.request(
    3,
    9,
    (w) => encodeMetadataRequest(w, 9, { ...defaultMetadataRequest(), topics: [] }),
    decodeMetadataResponse,
  );
const rawFrame = (payload: Buffer): Buffer => {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
};

/** A good client can still authenticate and be served. */
async function brokerStillServes(): Promise<void> {
  const c = await saslRaw(b);
  try {
    await rawAuthenticate(c, { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin-secret' });
    assert.equal((await metadata(c)).brokers.length, 1);
  } finally {
    c.close();
  }
}

test('before authentication: ApiVersions is answered, Metadata closes the connection', async () => {
  const c = await saslRaw(b);
  const v = await c.request(
    18,
    3,
    (w) => encodeApiVersionsRequest(w, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' }),
    decodeApiVersionsResponse,
  );
  assert.equal(v.errorCode, 0);
  const keys = v.apiKeys.map((k) => k.apiKey);
  assert.ok(keys.includes(17) && keys.includes(36), 'SASL APIs advertised');
  c.send(3, 9, (w) => encodeMetadataRequest(w, 9, { ...defaultMetadataRequest(), topics: [] }));
  assert.equal(await c.receive(), null, 'closed without an answer');
  await brokerStillServes();
});

test('a Produce, a SaslAuthenticate, or raw SASL bytes before the handshake close the connection', async () => {
  const produce = await saslRaw(b);
  produce.send(0, 9, (w) => encodeProduceRequest(w, 9, { ...defaultProduceRequest(), acks: 1, timeoutMs: 1000 }));
  assert.equal(await produce.receive(), null);
  const auth = await saslRaw(b);
  auth.send(36, 1, (w) => encodeSaslAuthenticateRequest(w, 1, { authBytes: Buffer.from('\0alice\0alice-secret') }));
  assert.equal(await auth.receive(), null);
  const raw = await saslRaw(b);
  raw.writeRaw(rawFrame(Buffer.from('\0alice\0alice-secret')));
  assert.equal(await raw.receive(), null);
  await brokerStillServes();
});

test('PLAIN with handshake v1: authenticates, then requests are served', async () => {
  const c = await saslRaw(b);
  const hs = await handshake(c, 'PLAIN');
  assert.equal(hs.errorCode, 0);
  assert.deepEqual(hs.mechanisms, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
  const r = await saslAuth(c, '\0alice\0alice-secret', 2);
  assert.equal(r.errorCode, 0);
  assert.equal(r.sessionLifetimeMs, 0n, 'no connections.max.reauth.ms: unlimited');
  assert.equal((await metadata(c)).brokers.length, 1);
  // A second SaslAuthenticate without a handshake is not allowed once authenticated.
  c.send(36, 1, (w) => encodeSaslAuthenticateRequest(w, 1, { authBytes: Buffer.from('\0alice\0alice-secret') }));
  assert.equal(await c.receive(), null);
});

test('handshake v0: raw SASL tokens (PLAIN and SCRAM), an empty token answers PLAIN', async () => {
  const c = await saslRaw(b);
  assert.equal((await handshake(c, 'PLAIN', 0)).errorCode, 0);
  c.writeRaw(rawFrame(Buffer.from('\0bob\0bob-pw')));
  assert.equal((await c.receive())?.length, 0, 'an empty raw token');
  assert.equal((await metadata(c)).brokers.length, 1);
  c.close();

  const s = await saslRaw(b);
  assert.equal((await handshake(s, 'SCRAM-SHA-512', 0)).errorCode, 0);
  const { ScramClient } = await import('../../../../client/sasl.js');
  const scram = new ScramClient({ mechanism: 'SCRAM-SHA-512', username: 'admin', password: 'admin-secret' });
  s.writeRaw(rawFrame(scram.first()));
  const serverFirst = await s.receive();
  assert.ok(serverFirst);
  s.writeRaw(rawFrame(scram.next(serverFirst)!));
  const serverFinal = await s.receive();
  assert.ok(serverFinal);
  assert.equal(scram.next(serverFinal), null, 'server signature verified');
  assert.equal((await metadata(s)).brokers.length, 1);
  s.close();

  const bad = await saslRaw(b);
  assert.equal((await handshake(bad, 'PLAIN', 0)).errorCode, 0);
  bad.writeRaw(rawFrame(Buffer.from('\0bob\0wrong')));
  assert.equal(await bad.receive(), null, 'a failed raw exchange closes without an answer');
});

test('unknown mechanism: UNSUPPORTED_SASL_MECHANISM with the enabled list, then closed', async () => {
  const c = await saslRaw(b);
  const hs = await handshake(c, 'GSSAPI');
  assert.equal(hs.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
  assert.deepEqual(hs.mechanisms, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
  assert.ok(await c.waitClosed());
});

test('wrong password and unknown user fail alike, then the connection closes', async () => {
  const messages: string[] = [];
  for (const [mechanism, username, password] of [
    ['PLAIN', 'alice', 'wrong'],
    ['PLAIN', 'mallory', 'alice-secret'],
  ] as const) {
    const c = await saslRaw(b);
    await handshake(c, mechanism);
    const r = await saslAuth(c, `\0${username}\0${password}`);
    assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    messages.push(r.errorMessage ?? '');
    assert.ok(await c.waitClosed());
  }
  assert.equal(messages[0], 'Authentication failed: Invalid username or password');
  assert.equal(messages[1], messages[0], 'no user probing');
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    const errors: string[] = [];
    for (const [username, password] of [
      ['admin', 'wrong'],
      ['mallory', 'whatever'],
    ]) {
      const c = await saslRaw(b);
      await assert.rejects(rawAuthenticate(c, { mechanism, username, password }), (e: Error) => {
        errors.push(e.message);
        return /SASL_AUTHENTICATION_FAILED/.test(e.message);
      });
      assert.ok(await c.waitClosed());
    }
    assert.match(errors[0], /invalid credentials with SASL mechanism SCRAM/);
    assert.equal(errors[1], errors[0], 'an unknown user fails at the proof, like a wrong password');
  }
  await brokerStillServes();
});

test('unknown SCRAM user: the server-first message looks real and is stable', async () => {
  const firsts: string[] = [];
  for (let i = 0; i < 2; i++) {
    const c = await saslRaw(b);
    await handshake(c, 'SCRAM-SHA-256');
    const r = await saslAuth(c, 'n,,n=mallory,r=abcdef');
    assert.equal(r.errorCode, 0);
    const text = r.authBytes.toString();
    assert.match(text, /^r=abcdef[^,]+,s=[A-Za-z0-9+/=]+,i=4096$/);
    firsts.push(text.replace(/^r=[^,]+,/, ''));
    c.close();
  }
  assert.equal(firsts[0], firsts[1], 'same salt for the same unknown user');
});

test('truncated, garbage and oversized SCRAM messages: SASL_AUTHENTICATION_FAILED and closed', async () => {
  const bad: Array<[string, Buffer[]]> = [
    ['truncated client-first', [Buffer.from('n,,n=adm')]],
    ['channel binding requested', [Buffer.from('p=tls-unique,,n=admin,r=abc')]],
    ['tokenauth extension', [Buffer.from('n,,n=admin,r=abc,tokenauth=true')]],
    ['not UTF-8', [Buffer.from([0x6e, 0x2c, 0x2c, 0xff, 0xfe])]],
    ['oversized client-first', [Buffer.from(`n,,n=admin,r=${'x'.repeat(5000)}`)]],
    ['empty', [Buffer.alloc(0)]],
    ['truncated client-final', [Buffer.from('n,,n=admin,r=abc'), Buffer.from('c=biws,r=abc')]],
    ['garbage client-final', [Buffer.from('n,,n=admin,r=abc'), randomBytes(64)]],
  ];
  for (const [what, tokens] of bad) {
    const c = await saslRaw(b);
    await handshake(c, 'SCRAM-SHA-256');
    let last: SaslAuthenticateResponse | undefined;
    for (const t of tokens) last = await saslAuth(c, t);
    assert.equal(last?.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED, what);
    assert.match(last?.errorMessage ?? '', /^Authentication failed/, what);
    assert.ok(await c.waitClosed(), `${what}: closed`);
  }
  // A frame above sasl.server.max.receive.size is not even read as a request.
  const big = await saslRaw(b);
  await handshake(big, 'SCRAM-SHA-256');
  big.send(36, 1, (w) => encodeSaslAuthenticateRequest(w, 1, { authBytes: Buffer.alloc(600_000, 0x61) }));
  assert.equal(await big.receive(), null);
  await brokerStillServes();
});

test('fuzz: random SASL frames never authenticate nor hurt the broker (bounded: 2000 frames / 10 s)', async () => {
  const deadline = Date.now() + 10_000;
  let frames = 0;
  let successes = 0;
  const worker = async (): Promise<void> => {
    while (frames < 2000 && Date.now() < deadline) {
      const c = await saslRaw(b);
      try {
        const kind = frames % 3;
        frames++;
        if (kind === 0) {
          // Random bytes before any handshake (one may happen to parse as ApiVersions, which is harmless).
          c.writeRaw(rawFrame(randomBytes(1 + (frames % 200))));
        } else {
          const mechanism = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'][frames % 3];
          const v0 = kind === 1;
          await handshake(c, mechanism, v0 ? 0 : 1);
          for (let i = 0; i < 3 && !c.closed; i++, frames++) {
            const token = randomBytes(frames % 97);
            if (v0) {
              c.writeRaw(rawFrame(token));
              if ((await c.receive(5000)) === null) break;
            } else {
              const r = await saslAuth(c, token).catch(() => null);
              if (r === null || r.errorCode !== 0) break;
            }
          }
        }
        // Whatever happened, the connection is not authenticated: Metadata is never answered.
        if (!c.closed && (await metadata(c).catch(() => null)) !== null) successes++;
      } finally {
        c.close();
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  assert.ok(frames > 50, `only ${frames} frames`);
  assert.equal(successes, 0, 'no random token authenticates');
  await brokerStillServes();
});
