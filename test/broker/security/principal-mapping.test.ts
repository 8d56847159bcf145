/**
 * Kafka's ssl.principal.mapping.rules (broker/security/principal-mapping.ts) and the RFC 2253 subject DN it maps
 * (broker/security/x500.ts, checked against certificates openssl makes): DEFAULT, RULE with groups, L/U,
 * first applying rule wins, no rule → null, escaped slashes, commas inside patterns, invalid rule text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { ConfigError } from '../../../broker/config.js';
import { PrincipalMapper, parsePrincipalRules } from '../../../broker/security/principal-mapping.js';
import { subjectRfc2253 } from '../../../broker/security/x500.js';
import { makeTestCerts } from '../../helpers/certs.js';

const DN = 'CN=kafka-client,OU=ServiceUsers,O=Acme,L=Berlin,ST=BE,C=DE';

test('DEFAULT keeps the DN as is', () => {
  assert.equal(new PrincipalMapper('DEFAULT').map(DN), DN);
});

test('RULE: whole-DN match, $n groups, L and U, first applying rule wins', () => {
  const m = new PrincipalMapper(
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/, RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=.*$/$1@$3/L, DEFAULT',
  );
  assert.equal(m.map(DN), 'kafka-client');
  assert.equal(m.map('CN=Alice,OU=Eng,O=Acme,L=Paris'), 'alice@acme');
  assert.equal(m.map('CN=x'), 'CN=x', 'falls through to DEFAULT');
  assert.equal(new PrincipalMapper('RULE:^CN=([^,]*).*$/$1/U').map(DN), 'KAFKA-CLIENT');
  assert.equal(new PrincipalMapper('RULE:^O=(.*)$/$1/').map(DN), null, 'partial match does not apply');
});

test('escaped slashes and backslashes; replacement escapes', () => {
  const m = new PrincipalMapper('RULE:^CN=([^,]*)\\/x,.*$/a\\/$1\\$/');
  assert.equal(m.map('CN=bob/x,O=y'), 'a/bob$');
});

test('no rule applies → null (the connection is refused)', () => {
  assert.equal(new PrincipalMapper('RULE:^CN=admin$/admin/').map(DN), null);
});

test('invalid rule text is a ConfigError', () => {
  for (const bad of ['', 'RULE:abc', 'RULE:a/b', 'NOPE', 'DEFAULT RULE:a/b/', 'RULE:(/x/']) {
    assert.throws(() => parsePrincipalRules(bad), ConfigError, bad);
  }
  assert.equal(parsePrincipalRules(' DEFAULT , RULE:a/b/L ').length, 2);
});

test('subject DN in RFC 2253 form, as Java prints it, from certificates openssl makes', () => {
  const certs = makeTestCerts();
  try {
    const dnOf = (path: string): string => subjectRfc2253(new X509Certificate(readFileSync(path)).raw);
    assert.equal(dnOf(certs.client.cert), 'CN=client1,OU=eng,O=Acme');
    assert.equal(dnOf(certs.broker.cert), 'CN=localhost');
    // Special characters, a multi-valued RDN (its attributes in DER order, as Java keeps them), an emailAddress
    // (no RFC 2253 keyword: OID=#hex), DC.
    const key = certs.client.key;
    const out = join(certs.dir, 'odd.crt');
    const subject = '/DC=example/C=DE/O=A\\, B+OU=x/CN=a=b;c <d>/emailAddress=me@x.io';
    execFileSync('openssl', ['req', '-x509', '-new', '-key', key, '-out', out, '-days', '1', '-subj', subject], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 20_000,
    });
    const email = Buffer.from('me@x.io').toString('hex');
    assert.equal(dnOf(out), `1.2.840.113549.1.9.1=#1607${email},CN=a\\=b\\;c \\<d\\>,OU=x+O=A\\, B,C=DE,DC=example`);
  } finally {
    certs.remove();
  }
});
