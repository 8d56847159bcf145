/**
 * client/cli/oauthbearer-login.ts and the OAUTHBEARER exchange of client/sasl.ts: Kafka's client properties
 * turned into bearer tokens (unsecured JWTs from the JAAS options; the client credentials grant against a token
 * endpoint served here on 127.0.0.1; a token file), the usage errors, and RFC 7628's client messages.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseProperties, securityFromProperties } from '../../../client/cli/command-config.js';
import { jaasOptions, oauthBearerFromProperties } from '../../../client/cli/oauthbearer-login.js';
import { saslClient } from '../../../client/sasl.js';

const MODULE = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required';
const claimsOf = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

let server: Server;
let url: string;
const seen: Array<{ auth?: string; body: string }> = [];
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'runnel-oauth-login-'));
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ auth: req.headers.authorization, body });
      const ok = req.headers.authorization === `Basic ${Buffer.from('app%201:s%3Acret').toString('base64')}`;
      if (!ok) res.writeHead(401).end('{"error":"invalid_client"}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"a.b.c","expires_in":60}');
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
});
after(async () => {
  await new Promise((res) => server.close(res));
  rmSync(dir, { recursive: true, force: true });
});

test('JAAS options: quoted and bare values, escapes', () => {
  const o = jaasOptions(`${MODULE} clientId="a b" scope=kafka secret="x\\"y";`);
  assert.deepEqual(
    [...o],
    [
      ['clientId', 'a b'],
      ['scope', 'kafka'],
      ['secret', 'x"y'],
    ],
  );
});

test('unsecured login: an alg none JWT of the JAAS claims, with iat and exp', async () => {
  const props = parseProperties(
    'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=OAUTHBEARER\nsasl.jaas.config=' +
      `${MODULE} unsecuredLoginStringClaim_sub="alice" unsecuredLoginNumberClaim_n="7" ` +
      'unsecuredLoginListClaim_scope=",a,b" unsecuredLoginLifetimeSeconds="60";',
  );
  const { sasl } = securityFromProperties(props);
  assert.equal(sasl?.mechanism, 'OAUTHBEARER');
  const token = sasl.mechanism === 'OAUTHBEARER' ? await sasl.token() : '';
  const [header, , signature] = token.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')), { alg: 'none' });
  assert.equal(signature, '');
  const c = claimsOf(token);
  assert.equal(c.sub, 'alice');
  assert.equal(c.n, 7);
  assert.deepEqual(c.scope, ['a', 'b']);
  assert.equal((c.exp as number) - (c.iat as number), 60);
  const noSub = parseProperties(`sasl.jaas.config=${MODULE} unsecuredLoginStringClaim_name="alice";`);
  assert.throws(() => oauthBearerFromProperties(noSub), /unsecuredLoginStringClaim_sub/);
});

test('token endpoint: the client credentials grant with URL-encoded Basic credentials and the scope', async () => {
  const props = new Map([
    ['sasl.oauthbearer.token.endpoint.url', url],
    ['sasl.jaas.config', `${MODULE} clientId="app 1" clientSecret="s:cret" scope="kafka read";`],
  ]);
  assert.equal(await oauthBearerFromProperties(props).token(), 'a.b.c');
  const last = seen.at(-1)!;
  assert.deepEqual(Object.fromEntries(new URLSearchParams(last.body)), {
    grant_type: 'client_credentials',
    scope: 'kafka read',
  });
  const wrong = new Map(props).set('sasl.jaas.config', `${MODULE} clientId="app 1" clientSecret="nope";`);
  await assert.rejects(oauthBearerFromProperties(wrong).token(), /answered 401/);
  assert.throws(
    () => oauthBearerFromProperties(new Map([['sasl.oauthbearer.token.endpoint.url', url]])),
    /clientId and clientSecret/,
  );
  assert.throws(
    () => oauthBearerFromProperties(new Map([['sasl.oauthbearer.token.endpoint.url', 'ftp://x/token']])),
    /not http\(s\) or file/,
  );
});

test('token endpoint as a file URL: the token is read from the file at each login', async () => {
  const file = join(dir, 'token');
  writeFileSync(file, 'x.y.z\n');
  const o = oauthBearerFromProperties(new Map([['sasl.oauthbearer.token.endpoint.url', pathToFileURL(file).href]]));
  assert.equal(await o.token(), 'x.y.z');
  writeFileSync(file, 'x.y.w');
  assert.equal(await o.token(), 'x.y.w');
});

test('OAUTHBEARER exchange: RFC 7628 first message; a challenge is answered once with \\x01, then fails', () => {
  const ex = saslClient({ mechanism: 'OAUTHBEARER', token: async () => 't' }, 'h.p.s');
  assert.equal(ex.first().toString(), 'n,,\x01auth=Bearer h.p.s\x01\x01');
  assert.equal(ex.next(Buffer.alloc(0)), null);
  const bad = saslClient({ mechanism: 'OAUTHBEARER', token: async () => 't' }, 'h.p.s');
  bad.first();
  assert.equal(bad.next(Buffer.from('{"status":"invalid_token"}'))?.toString(), '\x01');
  assert.throws(() => bad.next(Buffer.from('{"status":"invalid_token"}')), /invalid_token/);
});
