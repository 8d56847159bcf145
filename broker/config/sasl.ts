/**
 * Config rows of SASL authentication on SASL_PLAINTEXT / SASL_SSL listeners (broker/security/sasl/), with Kafka's
 * names and meaning. Rows Kafka lets a listener (or a listener and mechanism) override take the
 * `listener.name.<listener>[.<mechanism>].` prefix (`perListener`), e.g.
 * `listener.name.sasl_plaintext.plain.sasl.jaas.config`. `plain.users.file` is Runnel's own.
 */
import type { ConfigDef } from '../config-model.js';

export const SASL_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'sasl.enabled.mechanisms',
    type: 'list',
    default: ['SCRAM-SHA-256', 'SCRAM-SHA-512'],
    perListener: 'listener',
    doc:
      'SASL mechanisms a SASL listener accepts: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER. Kafka defaults to ' +
      'GSSAPI, ' +
      'which Runnel does not have; the default here is the SCRAM mechanisms (users from `--add-scram` or ' +
      'AlterUserScramCredentials). PLAIN needs users (`sasl.jaas.config` or `plain.users.file`).',
  },
  {
    name: 'sasl.jaas.config',
    type: 'string',
    default: null,
    perListener: 'mechanism',
    sensitive: true,
    doc:
      'JAAS login module config in Kafka syntax; usually per listener and mechanism ' +
      '(`listener.name.<l>.plain.sasl.jaas.config`). PLAIN: `org.apache.kafka.common.security.plain.' +
      'PlainLoginModule required user_alice="alice-secret";` (one `user_<name>="<password>"` per user). ' +
      '`username=`/`password=` are what this broker itself logs in with on the inter-broker listener. ' +
      'OAUTHBEARER: the unsecured validator options (`unsecuredValidatorPrincipalClaimName`, ' +
      '`unsecuredValidatorScopeClaimName`, `unsecuredValidatorRequiredScope`, ' +
      '`unsecuredValidatorAllowableClockSkewMs`).',
  },
  {
    name: 'plain.users.file',
    type: 'string',
    default: null,
    perListener: 'listener',
    doc:
      'Runnel: a file of SASL/PLAIN users, one `name=password` per line (`#` comments, blank lines ignored), ' +
      'read at each authentication (edits apply to new logins); adds to the `user_` entries of the JAAS config.',
  },
  {
    name: 'sasl.mechanism.inter.broker.protocol',
    type: 'string',
    default: null,
    doc:
      'SASL mechanism brokers use among themselves when the inter-broker listener is a SASL one; default: the ' +
      'first of its `sasl.enabled.mechanisms` (Kafka defaults to GSSAPI). It must be one of them and PLAIN or ' +
      "SCRAM-SHA-256/512; the broker logs in with the `username=`/`password=` of that listener's and " +
      "mechanism's `sasl.jaas.config`. With an authorizer, make that user a super user (or grant it " +
      'CLUSTER_ACTION on the cluster), as in Kafka.',
  },
  {
    name: 'connections.max.reauth.ms',
    type: 'long',
    default: 0,
    min: 0,
    perListener: 'mechanism',
    doc:
      'Lifetime of an authenticated SASL session (KIP-368): clients re-authenticate on the same connection ' +
      'before it ends; a connection whose session expired is closed at its next request. 0: no limit (a ' +
      'credential that expires still limits it).',
  },
  {
    name: 'connection.failed.authentication.delay.ms',
    type: 'int',
    default: 100,
    min: 0,
    doc: 'Delay of the answer to a failed authentication (the connection closes after it), against brute force.',
  },
  {
    name: 'sasl.server.max.receive.size',
    type: 'int',
    default: 524288,
    min: 1,
    doc: 'Largest request accepted before a connection has authenticated; a larger one closes the connection.',
  },
];
