/**
 * Kafka's `sasl.jaas.config` value parsed into its login module and options, as Kafka's JaasConfig reads it:
 * `<LoginModuleClass> <flag> [key=value ...];` where the flag is required|requisite|sufficient|optional and a
 * value is a bare word or a double-quoted string (backslash escapes the next character). Kafka accepts exactly
 * one login module in the property; so does this.
 *
 * Invariants: parseJaasConfig either returns the whole entry or throws ConfigError naming what is wrong; option
 * values are never logged by this module (they may hold passwords).
 */
import { ConfigError } from '../../config-model.js';

export interface JaasEntry {
  readonly loginModule: string;
  readonly flag: 'required' | 'requisite' | 'sufficient' | 'optional';
  readonly options: ReadonlyMap<string, string>;
}

const FLAGS = ['required', 'requisite', 'sufficient', 'optional'] as const;

type Token = { kind: 'word' | 'string'; text: string } | { kind: 'punct'; text: '=' | ';' };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '=' || c === ';') {
      out.push({ kind: 'punct', text: c });
      i++;
    } else if (c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new ConfigError('sasl.jaas.config: unterminated quoted value');
        const d = text[i++]!;
        if (d === '"') break;
        s += d === '\\' && i < text.length ? text[i++]! : d;
      }
      out.push({ kind: 'string', text: s });
    } else {
      let s = '';
      while (i < text.length && !/[\s=;"]/.test(text[i]!)) s += text[i++]!;
      out.push({ kind: 'word', text: s });
    }
  }
  return out;
}

/** The one login module of a `sasl.jaas.config` value (see the header). */
export function parseJaasConfig(text: string): JaasEntry {
  const tokens = tokenize(text);
  let i = 0;
  const next = (): Token | undefined => tokens[i++];
  const module = next();
  if (module?.kind !== 'word') throw new ConfigError('sasl.jaas.config: expected a login module class name');
  const flag = next();
  if (flag?.kind !== 'word' || !(FLAGS as readonly string[]).includes(flag.text.toLowerCase()))
    throw new ConfigError(`sasl.jaas.config: expected a control flag (${FLAGS.join('|')}) after ${module.text}`);
  const options = new Map<string, string>();
  for (;;) {
    const t = next();
    if (t === undefined) throw new ConfigError('sasl.jaas.config: the login module must end with ";"');
    if (t.kind === 'punct' && t.text === ';') break;
    if (t.kind !== 'word') throw new ConfigError('sasl.jaas.config: expected an option name');
    const eq = next();
    const value = next();
    if (eq?.kind !== 'punct' || eq.text !== '=' || value === undefined || value.kind === 'punct')
      throw new ConfigError(`sasl.jaas.config: expected ${t.text}=value`);
    options.set(t.text, value.text);
  }
  if (i < tokens.length)
    throw new ConfigError('sasl.jaas.config: exactly one login module is allowed (text after the first ";")');
  return {
    loginModule: module.text,
    flag: flag.text.toLowerCase() as JaasEntry['flag'],
    options,
  };
}
