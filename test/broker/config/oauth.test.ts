/**
 * The OAUTHBEARER config rows (broker/config/oauth.ts): Kafka's per-listener (and per-mechanism) overrides
 * resolve as Kafka resolves them, values are validated, and the JAAS config (it may hold passwords) is
 * described as sensitive, without its value, to kafkajs's DescribeConfigs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { BrokerConfig, ConfigError } from '../../../broker/config.js';
import { startBroker } from '../../../broker/index.js';

const { Kafka, logLevel, ConfigResourceTypes } = kafkajs;

test('per-listener and per-mechanism overrides, defaults, validation', () => {
  const c = new BrokerConfig({
    overrides: {
      'sasl.oauthbearer.expected.audience': 'a,b',
      'listener.name.external.sasl.oauthbearer.expected.audience': 'ext',
      'listener.name.external.oauthbearer.sasl.server.callback.handler.class': 'X',
      'listener.name.external.oauthbearer.sasl.jaas.config': 'M required;',
    },
  });
  assert.deepEqual(c.listenerValue('EXTERNAL', 'sasl.oauthbearer.expected.audience'), ['ext']);
  assert.deepEqual(c.listenerValue('INTERNAL', 'sasl.oauthbearer.expected.audience'), ['a', 'b']);
  assert.equal(c.listenerValue('EXTERNAL', 'sasl.server.callback.handler.class', 'oauthbearer'), 'X');
  assert.equal(c.listenerValue('EXTERNAL', 'sasl.server.callback.handler.class', 'plain'), null);
  assert.equal(c.listenerValue('EXTERNAL', 'sasl.jaas.config', 'OAUTHBEARER'), 'M required;');
  assert.equal(c.listenerValue('EXTERNAL', 'sasl.oauthbearer.sub.claim.name'), 'sub');
  assert.equal(c.get('sasl.oauthbearer.clock.skew.seconds'), 30);
  assert.equal(c.get('sasl.oauthbearer.jwks.endpoint.refresh.ms'), 3_600_000);
  assert.throws(() => new BrokerConfig({ overrides: { 'sasl.oauthbearer.clock.skew.seconds': '-1' } }), ConfigError);
});

test('DescribeConfigs shows sasl.jaas.config as sensitive, without its value', async () => {
  const secret = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="s3cret";';
  const b = await startBroker({ storage: 'memory', config: { 'sasl.jaas.config': secret } });
  const admin = new Kafka({ brokers: [b.bootstrapServers], logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const res = await admin.describeConfigs({
      resources: [
        {
          type: ConfigResourceTypes.BROKER,
          name: String(b.broker.started.nodeId),
          configNames: ['sasl.jaas.config', 'sasl.oauthbearer.sub.claim.name'],
        },
      ],
      includeSynonyms: true,
    });
    const by = new Map(res.resources[0]!.configEntries.map((e) => [e.configName, e]));
    const jaas = by.get('sasl.jaas.config')!;
    assert.equal(jaas.isSensitive, true);
    assert.equal(jaas.configValue, null);
    assert.ok(!JSON.stringify(res).includes('s3cret'), 'the secret is in no field, synonyms included');
    assert.equal(by.get('sasl.oauthbearer.sub.claim.name')!.configValue, 'sub');
    assert.equal(by.get('sasl.oauthbearer.sub.claim.name')!.isSensitive, false);
  } finally {
    await admin.disconnect();
    await b.stop();
  }
});
