/**
 * The SASL mechanisms this broker can serve, by IANA name. A listener offers those of its
 * `sasl.enabled.mechanisms` found here; naming one that is not here refuses start-up (saslListenerErrors).
 */
import { ConfigError, type EffectiveConfig } from '../../config-model.js';
import type { SaslMechanismFactory } from './mechanism.js';
import { parseJaasConfig } from './jaas.js';
import { PLAIN, plainMechanism } from './plain.js';
import { scramSha256Mechanism, scramSha512Mechanism } from './scram.js';
import { OAUTHBEARER_MECHANISM } from './oauthbearer.js';

const MECHANISMS = new Map<string, SaslMechanismFactory>();

/** Make a mechanism available (PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER are built in). */
export function registerSaslMechanism(f: SaslMechanismFactory): void {
  MECHANISMS.set(f.name, f);
}

for (const f of [plainMechanism, scramSha256Mechanism, scramSha512Mechanism, OAUTHBEARER_MECHANISM]) {
  registerSaslMechanism(f);
}

export function saslMechanism(name: string): SaslMechanismFactory | undefined {
  return MECHANISMS.get(name);
}

/** The mechanisms a listener offers, in `sasl.enabled.mechanisms` order. */
export function enabledMechanisms(config: EffectiveConfig, listenerName: string): string[] {
  return (config.listenerValue(listenerName, 'sasl.enabled.mechanisms') as string[] | null) ?? [];
}

/**
 * Start-up validation of one SASL listener: at least one mechanism, each known; JAAS configs that parse; PLAIN
 * only with a users source. Throws ConfigError.
 */
export function validateSaslListener(config: EffectiveConfig, listenerName: string): void {
  const mechanisms = enabledMechanisms(config, listenerName);
  if (mechanisms.length === 0)
    throw new ConfigError(`listener ${listenerName}: sasl.enabled.mechanisms names no mechanism`);
  for (const m of mechanisms) {
    if (!MECHANISMS.has(m)) {
      const supported = [...MECHANISMS.keys()].join(', ');
      throw new ConfigError(`listener ${listenerName}: SASL mechanism ${m} is not supported (supported: ${supported})`);
    }
    const jaas = config.listenerValue(listenerName, 'sasl.jaas.config', m) as string | null;
    if (jaas !== null) parseJaasConfig(jaas, `sasl.jaas.config of listener ${listenerName} / ${m}`);
  }
  if (
    mechanisms.includes(PLAIN) &&
    config.listenerValue(listenerName, 'sasl.jaas.config', PLAIN) === null &&
    config.listenerValue(listenerName, 'plain.users.file') === null
  )
    throw new ConfigError(
      `listener ${listenerName}: PLAIN is enabled but has no users: set ` +
        `listener.name.${listenerName.toLowerCase()}.plain.sasl.jaas.config or plain.users.file`,
    );
}
