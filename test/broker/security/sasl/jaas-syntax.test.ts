/**
 * `sasl.jaas.config` parsing (broker/security/sasl/jaas.ts): Kafka's syntax — login module, control
 * flag, quoted and bare option values with escapes, exactly one module ending in ";" — and clear ConfigErrors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
