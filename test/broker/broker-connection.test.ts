import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerConfig, ConfigError } from '../../broker/config.js';
import { interBrokerClient } from '../../broker/broker-connection.js';

const via = (overrides: Record<string, string | number>) => interBrokerClient(new BrokerConfig({ overrides }));

const SASL = {
  listeners: 'CLIENT://127.0.0.1:0,INTERNAL://127.0.0.1:0',
  'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT',
  'inter.broker.listener.name': 'INTERNAL',
};
const JAAS = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="pw";';

test('a SASL inter-broker listener: the mechanism and the JAAS username/password of that listener', () => {
  assert.deepEqual(
    via({
      ...SASL,
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-512',
      'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
      'listener.name.internal.plain.sasl.jaas.config': JAAS.replace('"broker"', '"not-this-one"'),
      'listener.name.internal.scram-sha-512.sasl.jaas.config': JAAS,
    }),
    { listener: 'INTERNAL', sasl: { mechanism: 'SCRAM-SHA-512', username: 'broker', password: 'pw' } },
  );
  // Default mechanism: the listener's first enabled one; the JAAS config may be the listener's or global.
  assert.deepEqual(via({ ...SASL, 'sasl.jaas.config': JAAS }).sasl, {
    mechanism: 'SCRAM-SHA-256',
    username: 'broker',
    password: 'pw',
  });
  assert.deepEqual(via({ ...SASL, 'inter.broker.listener.name': 'CLIENT' }), { listener: 'CLIENT' });
});

test('a SASL inter-broker listener without a usable login refuses the config (ConfigError)', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{}, /scram-sha-256\.sasl\.jaas\.config must give username= and password=/],
    [{ 'sasl.jaas.config': JAAS.replace(' password="pw"', '') }, /must give username= and password=/],
    [{ 'sasl.jaas.config': JAAS, 'sasl.mechanism.inter.broker.protocol': 'PLAIN' }, /must be included in/],
    [
      {
        'sasl.enabled.mechanisms': 'OAUTHBEARER',
        'sasl.mechanism.inter.broker.protocol': 'OAUTHBEARER',
        'sasl.jaas.config': JAAS,
      },
      /brokers log in to each other with PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/,
    ],
  ];
  for (const [more, message] of cases)
    assert.throws(() => via({ ...SASL, ...more }), { name: ConfigError.name, message });
});
