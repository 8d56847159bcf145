/**
 * Config rows of SASL/OAUTHBEARER on the broker (broker/security/sasl/oauthbearer.ts), with Kafka's names and
 * defaults. Which validator a listener uses is decided as Kafka decides it: the unsecured one (alg "none"
 * tokens, options in the JAAS config; Kafka's development default) unless
 * `listener.name.<l>.oauthbearer.sasl.server.callback.handler.class` names Kafka's
 * OAuthBearerValidatorCallbackHandler (KIP-768: signed JWTs checked against a JWKS). Setting
 * `sasl.oauthbearer.jwks.endpoint.url` alone does not switch validators, as in Kafka.
 *
 * OAUTHBEARER's unsecured-validator options come from its `sasl.jaas.config` (broker/config/sasl.ts:
 * `unsecuredValidatorPrincipalClaimName`, `...ScopeClaimName`, `...RequiredScope`, `...AllowableClockSkewMs`).
 * `sasl.server.callback.handler.class` is a generic SASL row kept here. The `sasl.oauthbearer.*` rows may be set
 * per listener (`listener.name.<l>.sasl.oauthbearer.expected.audience`), as Kafka's listener prefix allows.
 */
import type { ConfigDef } from '../config-model.js';

export const OAUTH_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'sasl.server.callback.handler.class',
    type: 'string',
    default: null,
    perListener: 'mechanism',
    doc:
      'Server callback handler of a SASL mechanism, set as `listener.name.<l>.<mechanism>.sasl.server.callback.' +
      'handler.class`. For OAUTHBEARER, `org.apache.kafka.common.security.oauthbearer.' +
      'OAuthBearerValidatorCallbackHandler` validates signed JWTs against `sasl.oauthbearer.jwks.endpoint.url` ' +
      "(KIP-768); unset (or Kafka's OAuthBearerUnsecuredValidatorCallbackHandler) accepts unsecured JWS tokens.",
  },
  {
    name: 'sasl.oauthbearer.jwks.endpoint.url',
    type: 'string',
    default: null,
    perListener: 'listener',
    doc:
      'Where the signed-token validator gets its verification keys (a JWKS): an `https://`/`http://` URL, ' +
      'or a `file://` URL of a JWKS file. Required by the signed-token validator.',
  },
  {
    name: 'sasl.oauthbearer.jwks.endpoint.refresh.ms',
    type: 'long',
    default: 3_600_000,
    min: 1,
    perListener: 'listener',
    doc:
      'Keys older than this are fetched again before the next validation; a token whose `kid` is unknown ' +
      'also fetches them again (at most once a minute per `kid`).',
  },
  {
    name: 'sasl.oauthbearer.expected.audience',
    type: 'list',
    default: null,
    perListener: 'listener',
    doc: "Audiences of which a signed token's `aud` must contain at least one; unset: `aud` is not checked.",
  },
  {
    name: 'sasl.oauthbearer.expected.issuer',
    type: 'string',
    default: null,
    perListener: 'listener',
    doc: 'The `iss` a signed token must have; unset: `iss` is not checked.',
  },
  {
    name: 'sasl.oauthbearer.sub.claim.name',
    type: 'string',
    default: 'sub',
    perListener: 'listener',
    doc: 'Claim of a signed token that names the principal (`User:<value>`).',
  },
  {
    name: 'sasl.oauthbearer.scope.claim.name',
    type: 'string',
    default: 'scope',
    perListener: 'listener',
    doc: 'Claim of a signed token that holds its scope (a string or a list of strings).',
  },
  {
    name: 'sasl.oauthbearer.clock.skew.seconds',
    type: 'int',
    default: 30,
    min: 0,
    perListener: 'listener',
    doc: 'Clock difference allowed between the broker and the token issuer when checking `exp`, `iat` and `nbf`.',
  },
];
