/**
 * Where the admin API (auth.ts) checks credentials besides the SCRAM store and `admin.bearer.tokens`: the
 * broker's own SASL listeners, so one set of users serves both the Kafka and the HTTP API.
 * - `plainPasswordVerifiers`: one verifier per SASL listener that enables PLAIN, over that listener's users
 *   (JAAS `user_<name>` options and `plain.users.file`, read at each check as the SASL/PLAIN server does); the
 *   comparison takes the same time whether or not the user exists (fixed-length digests, timingSafeEqual).
 * - `oauthBearerValidator`: the OAUTHBEARER token validator of the first SASL listener that enables
 *   OAUTHBEARER (unsecured JWS or signed JWTs against its JWKS, exactly as that listener's SASL exchange checks
 *   them, oauthbearer.ts), with its own JWKS cache; the principal is the token's (`User:<sub>`).
 * Both read the listener plan once, when the admin app loads; none when the plan cannot be read.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Broker } from '../broker.js';
import type { Logger } from '../logger.js';
import { listenerPlan } from '../security/listeners.js';
import { enabledMechanisms } from '../security/sasl/mechanisms.js';
import type { SaslServerContext } from '../security/sasl/mechanism.js';
import { PLAIN, plainUsers } from '../security/sasl/plain.js';
import { OAUTHBEARER, listenerValidator, type TokenValidator } from '../security/sasl/oauthbearer.js';
import { JwksSource } from '../security/sasl/jwks.js';

/** Checks a user's password; true when it is that user's. */
export type PasswordVerifier = (user: string, password: string) => boolean | Promise<boolean>;

type AuthBroker = Pick<Broker, 'config' | 'scramCredentials' | 'clock'>;

/** Names of the SASL listeners (in `listeners` order) that enable `mechanism`. */
function saslListenersWith(broker: AuthBroker, mechanism: string): string[] {
  let names: string[];
  try {
    names = listenerPlan(broker.config)
      .listeners.filter((l) => l.securityProtocol.startsWith('SASL'))
      .map((l) => l.name);
  } catch {
    return [];
  }
  return names.filter((n) => enabledMechanisms(broker.config, n).includes(mechanism));
}

function serverContext(broker: AuthBroker, listenerName: string, log: Logger): SaslServerContext {
  return {
    listenerName,
    services: {
      config: broker.config,
      get scramCredentials() {
        return broker.scramCredentials;
      },
      clock: broker.clock,
    },
    log,
  };
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** One verifier per SASL listener with PLAIN enabled (see the header). */
export function plainPasswordVerifiers(broker: AuthBroker, log: Logger): PasswordVerifier[] {
  return saslListenersWith(broker, PLAIN).map((listenerName) => {
    const ctx = serverContext(broker, listenerName, log);
    return async (user, password) => {
      let users: Map<string, string>;
      try {
        users = await plainUsers(ctx);
      } catch (err) {
        log.error({ listener: listenerName, err: (err as Error).message }, 'PLAIN users cannot be read');
        return false;
      }
      const expected = users.get(user);
      return timingSafeEqual(digest(expected ?? `\u0000${password}`), digest(password)) && expected !== undefined;
    };
  });
}

/** The OAUTHBEARER validator of the first SASL listener enabling it, or undefined (see the header). */
export function oauthBearerValidator(broker: AuthBroker, log: Logger): TokenValidator | undefined {
  const [listenerName] = saslListenersWith(broker, OAUTHBEARER);
  if (listenerName === undefined) return undefined;
  const ctx = serverContext(broker, listenerName, log);
  const sources = new Map<string, JwksSource>();
  const jwks = (url: string, refreshMs: number): JwksSource => {
    const k = `${refreshMs} ${url}`;
    let s = sources.get(k);
    if (!s) {
      s = new JwksSource({ url, refreshMs, now: () => broker.clock.now(), log });
      sources.set(k, s);
    }
    return s;
  };
  let validator: TokenValidator | undefined;
  // Built on first use (a misconfiguration is then a ConfigError the caller logs), then kept.
  return (token) => {
    validator ??= listenerValidator({ ctx, jwks });
    return validator(token);
  };
}
