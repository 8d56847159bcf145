/**
 * Kafka's sasl.jaas.config syntax (broker/security/sasl/jaas.ts) and the start-up validation of SASL listeners
 * (broker/security/sasl/mechanisms.ts): quoting, escapes, comments, errors that never show a password.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jaasUsers, parseJaasConfig } from '../../../../broker/security/sasl/jaas.js';
import { validateSaslListener } from '../../../../broker/security/sasl/mechanisms.js';
import { parseUsersFile } from '../../../../broker/security/sasl/plain.js';
import { BrokerConfig, ConfigError } from '../../../../broker/config.js';

test('parseJaasConfig: module, flag, quoted and bare values, escapes, comments', () => {
  const e = parseJaasConfig(`org.apache.kafka.common.security.plain.PlainLoginModule required
    /* the broker itself */ username="admin" password="a\\"b;c"
    user_admin="a\\"b;c" // comment
    user_bob=bob-pw;`);
  assert.equal(e.loginModule, 'org.apache.kafka.common.security.plain.PlainLoginModule');
  assert.equal(e.flag, 'required');
  assert.equal(e.options.get('password'), 'a"b;c');
  assert.deepEqual(
    [...jaasUsers(e)],
    [
      ['admin', 'a"b;c'],
      ['bob', 'bob-pw'],
    ],
  );
});

test('parseJaasConfig: malformed entries are ConfigErrors that do not echo values', () => {
  for (const bad of [
    '',
    'Module',
    'Module maybe user_a="secret-1";',
    'Module required user_a="secret-1"',
    'Module required user_a="secret-1;',
    'Module required user_a;',
    'Module required user_a="secret-1" user_a="secret-1";',
    'Module required user_a="secret-1"; Other required;',
  ]) {
    assert.throws(
      () => parseJaasConfig(bad),
      (err: Error) => err instanceof ConfigError && !err.message.includes('secret-1'),
      bad,
    );
  }
});

test('plain users file: name=password lines, comments; a bad line names its number', () => {
  assert.deepEqual(
    [...parseUsersFile('# users\nalice = a=b\n\nbob=pw\n', 'f')],
    [
      ['alice', 'a=b'],
      ['bob', 'pw'],
    ],
  );
  assert.throws(() => parseUsersFile('alice\n', 'f'), /f: line 1/);
});

test('validateSaslListener: unknown mechanisms, PLAIN without users and bad JAAS refuse start-up', () => {
  const v = (overrides: Record<string, string>) => () =>
    validateSaslListener(new BrokerConfig({ overrides }), 'SASL_PLAINTEXT');
  assert.doesNotThrow(v({}), 'default: the SCRAM mechanisms');
  assert.throws(v({ 'sasl.enabled.mechanisms': 'GSSAPI' }), /GSSAPI is not supported/);
  assert.throws(v({ 'sasl.enabled.mechanisms': 'PLAIN' }), /PLAIN is enabled but has no users/);
  assert.doesNotThrow(v({ 'sasl.enabled.mechanisms': 'PLAIN', 'plain.users.file': '/nonexistent' }));
  assert.throws(
    v({ 'sasl.enabled.mechanisms': 'PLAIN', 'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'Module' }),
    ConfigError,
  );
  assert.throws(v({ 'listener.name.sasl_plaintext.sasl.enabled.mechanisms': 'PLAIN' }), /no users/);
});
