/**
 * `sasl.jaas.config` parsing (broker/security/sasl/jaas-options.ts): Kafka's syntax — login module, control
 * flag, quoted and bare option values with escapes, exactly one module ending in ";" — and clear ConfigErrors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../../broker/config.js';
import { parseJaasConfig } from '../../../../broker/security/sasl/jaas.js';

test('login module, flag and options (quoted, bare, escaped)', () => {
  const e = parseJaasConfig(
    'org.apache.kafka.common.security.plain.PlainLoginModule Required\n  username="admin" ' +
      'password="a \\"quoted\\" p=w;d" user_alice=alice-secret unsecuredValidatorRequiredScope="read write";',
  );
  assert.equal(e.loginModule, 'org.apache.kafka.common.security.plain.PlainLoginModule');
  assert.equal(e.flag, 'required');
  assert.deepEqual(Object.fromEntries(e.options), {
    username: 'admin',
    password: 'a "quoted" p=w;d',
    user_alice: 'alice-secret',
    unsecuredValidatorRequiredScope: 'read write',
  });
  assert.equal(parseJaasConfig('M optional;').options.size, 0);
});

test('malformed values are ConfigErrors naming the problem', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /login module class/],
    ['M', /control flag/],
    ['M mandatory;', /control flag/],
    ['M required a="b"', /end with ";"/],
    ['M required a="b;', /unterminated/],
    ['M required a b;', /a=value/],
    ['M required a=;', /a=value/],
    ['M required; N required;', /exactly one login module/],
  ];
  for (const [text, why] of bad)
    assert.throws(
      () => parseJaasConfig(text),
      (e: Error) => e instanceof ConfigError && why.test(e.message),
      text,
    );
});
