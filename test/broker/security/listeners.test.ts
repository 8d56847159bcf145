/**
 * Kafka listeners (broker/security/listeners.ts): parsing and validation of `listeners`,
 * `advertised.listeners`, `listener.security.protocol.map` and `inter.broker.listener.name`, and a broker serving
 * two PLAINTEXT listeners at once, each answering Metadata with its own advertised address (kafkajs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { BrokerConfig, ConfigError } from '../../../broker/config.js';
import { listenerPlan, parseEndpoints } from '../../../broker/security/listeners.js';
import { startBroker } from '../../../broker/index.js';

const plan = (overrides: Record<string, string | number>) => listenerPlan(new BrokerConfig({ overrides }));

test('without listeners: host and port are one PLAINTEXT listener', () => {
  const p = plan({ host: '0.0.0.0', port: 9092 });
  assert.deepEqual(p.listeners, [
    {
      name: 'PLAINTEXT',
      securityProtocol: 'PLAINTEXT',
      host: '0.0.0.0',
      port: 9092,
      advertisedHost: 'localhost',
      advertisedPort: null,
    },
  ]);
  assert.equal(p.interBrokerListener, 'PLAINTEXT');
});

test('listeners with Kafka syntax: names, protocols from the map, advertised overrides', () => {
  const p = plan({
    listeners: 'SASL_PLAINTEXT://127.0.0.1:9093,internal://:9094,SSL://[::1]:0',
    'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL',
    'advertised.listeners': 'INTERNAL://broker1.example:19094',
    'inter.broker.listener.name': 'internal',
  });
  assert.deepEqual(
    p.listeners.map((l) => [l.name, l.securityProtocol, l.host, l.port, l.advertisedHost, l.advertisedPort]),
    [
      ['SASL_PLAINTEXT', 'SASL_PLAINTEXT', '127.0.0.1', 9093, '127.0.0.1', null],
      ['INTERNAL', 'PLAINTEXT', '0.0.0.0', 9094, 'broker1.example', 19094],
      ['SSL', 'SSL', '::1', 0, '::1', null],
    ],
  );
  assert.equal(p.interBrokerListener, 'INTERNAL');
  assert.equal(plan({ listeners: 'SSL://:1,PLAINTEXT://:2' }).interBrokerListener, 'PLAINTEXT');
  assert.equal(plan({ listeners: 'SSL://:1' }).interBrokerListener, 'SSL');
});

test('invalid listener configs are refused with a clear error', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ listeners: 'PLAINTEXT://localhost' }, /NAME:\/\/host:port/],
    [{ listeners: 'PLAINTEXT://:1,plaintext://:2' }, /listed twice/],
    [{ listeners: 'PLAINTEXT://:5,SSL://:5' }, /port 5 is used twice/],
    [{ listeners: 'EXTERNAL://:1' }, /no security protocol for listener EXTERNAL/],
    [{ listeners: 'PLAINTEXT://:1', 'advertised.listeners': 'SSL://h:1' }, /SSL is not one of the listeners/],
    [{ listeners: 'PLAINTEXT://:1', 'advertised.listeners': 'PLAINTEXT://0.0.0.0:1' }, /wildcard/],
    [{ listeners: 'PLAINTEXT://:1', 'inter.broker.listener.name': 'SSL' }, /not one of the listeners/],
    [{ listeners: 'PLAINTEXT://:1', 'listener.security.protocol.map': 'PLAINTEXT:TLS' }, /not NAME:PROTOCOL/],
    [{ listeners: 'PLAINTEXT://:70000' }, /out of range/],
  ];
  for (const [overrides, why] of bad)
    assert.throws(
      () => plan(overrides),
      (e: Error) => e instanceof ConfigError && why.test(e.message),
      JSON.stringify(overrides),
    );
  assert.deepEqual(parseEndpoints('listeners', ' A://h:1 , '), [{ name: 'A', host: 'h', port: 1 }]);
});

test('two PLAINTEXT listeners: each answers Metadata with its own advertised address', async () => {
  const b = await startBroker({
    storage: 'memory',
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,EXTERNAL://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT',
      'advertised.listeners': 'EXTERNAL://localhost:0',
    },
  });
  try {
    assert.deepEqual(Object.keys(b.listeners), ['PLAINTEXT', 'EXTERNAL']);
    const internal = b.listeners.PLAINTEXT;
    const external = b.listeners.EXTERNAL;
    assert.notEqual(internal.port, external.port);
    assert.equal(internal.bootstrapServers, `127.0.0.1:${internal.port}`);
    assert.equal(external.bootstrapServers, `localhost:${external.port}`);
    for (const [l, host] of [
      [internal, '127.0.0.1'],
      [external, 'localhost'],
    ] as const) {
      const admin = new Kafka({ brokers: [`127.0.0.1:${l.port}`], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const cluster = await admin.describeCluster();
        assert.deepEqual(
          cluster.brokers.map((x) => [x.host, x.port]),
          [[host, l.port]],
        );
        await admin.createTopics({ topics: [{ topic: `t-${l.port}` }] });
      } finally {
        await admin.disconnect();
      }
    }
    assert.ok(
      b.broker.metadata.image.topic(`t-${internal.port}`) && b.broker.metadata.image.topic(`t-${external.port}`),
    );
  } finally {
    await b.stop();
  }
});
