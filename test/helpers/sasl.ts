/**
 * SASL test fixtures: an in-process broker with a SASL_PLAINTEXT listener (PLAIN users alice/bob from the
 * listener's JAAS config, SCRAM users from `scramUsers`) beside a PLAINTEXT one, and a RawClient that speaks
 * the SASL APIs.
 */
import type { RunningBroker, StartBrokerOptions } from '../../broker/index.js';
import { testBroker } from './test-broker.js';
import { RawClient } from './raw-client.js';
import { authenticate, type SaslOptions } from '../../client/sasl.js';

export const PLAIN_JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret" user_bob="bob-pw";';

/** SCRAM users: admin/admin-secret for both mechanisms. */
export const SCRAM_USERS = [
  'SCRAM-SHA-256=[name=admin,password=admin-secret]',
  'SCRAM-SHA-512=[name=admin,password=admin-secret]',
];

export async function saslBroker(opts: StartBrokerOptions = {}): Promise<RunningBroker> {
  return testBroker({
    storage: 'memory',
    scramUsers: SCRAM_USERS,
    ...opts,
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': PLAIN_JAAS,
      'connection.failed.authentication.delay.ms': 20,
      ...opts.config,
    },
  });
}

export function saslPort(b: RunningBroker): number {
  return b.listeners.SASL_PLAINTEXT.port;
}

/** A RawClient connected to the SASL listener. */
export function saslRaw(b: RunningBroker): Promise<RawClient> {
  return RawClient.connect(saslPort(b));
}

/** Authenticate a RawClient (SaslHandshake v1 + SaslAuthenticate v`version`); resolves to the session lifetime. */
export function rawAuthenticate(c: RawClient, o: SaslOptions, version = 1): Promise<number> {
  return authenticate((apiKey, v, body, decode) => c.request(apiKey, v, body, decode), o, version);
}
