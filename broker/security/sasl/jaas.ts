/**
 * Kafka's `sasl.jaas.config` syntax (its JaasConfig): one login module entry
 * `<LoginModuleClass> <flag> [<name>=<value> ...];` where the flag is required | requisite | sufficient |
 * optional and a value is a double-quoted string (backslash escapes the next character) or a bare word.
 * Comments (`/* ... *\/`, `//` to end of line) and any whitespace between tokens are allowed.
 *
 * Invariants: a text that does not parse, holds no entry or more than one, or names an option twice is a
 * ConfigError whose message never contains option values (they are passwords).
 */
import { ConfigError } from '../../config-model.js';

export interface JaasEntry {
  readonly loginModule: string;
  readonly flag: 'required' | 'requisite' | 'sufficient' | 'optional';
  readonly options: ReadonlyMap<string, string>;
}

const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional']);
const WORD = /[^\s=;"]/;

type Token = { kind: 'word' | 'string'; text: string } | { kind: '=' | ';' };

function tokenize(text: string, what: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new ConfigError(`${what}: unterminated comment`);
      i = end + 2;
    } else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end + 1;
    } else if (c === '=' || c === ';') {
      out.push({ kind: c });
      i++;
    } else if (c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new ConfigError(`${what}: unterminated quoted value`);
        const d = text[i++];
        if (d === '"') break;
        if (d === '\\') {
          if (i >= text.length) throw new ConfigError(`${what}: unterminated quoted value`);
          s += text[i++];
        } else {
          s += d;
        }
      }
      out.push({ kind: 'string', text: s });
    } else {
      let s = '';
      while (i < text.length && WORD.test(text[i]) && !text.startsWith('/*', i) && !text.startsWith('//', i))
        s += text[i++];
      out.push({ kind: 'word', text: s });
    }
  }
  return out;
}

/** Parse one `sasl.jaas.config` value (`what` names it in errors). */
export function parseJaasConfig(text: string, what = 'sasl.jaas.config'): JaasEntry {
  const tokens = tokenize(text, what);
  let p = 0;
  const next = (): Token | undefined => tokens[p++];
  const module = next();
  if (module?.kind !== 'word') throw new ConfigError(`${what}: expected a login module class name`);
  const flag = next();
  if (flag?.kind !== 'word' || !FLAGS.has(flag.text.toLowerCase()))
    throw new ConfigError(`${what}: expected a control flag (required, requisite, sufficient, optional)`);
  const options = new Map<string, string>();
  for (;;) {
    const t = next();
    if (t === undefined) throw new ConfigError(`${what}: the login module entry must end with ';'`);
    if (t.kind === ';') break;
    if (t.kind !== 'word') throw new ConfigError(`${what}: expected an option name`);
    if (next()?.kind !== '=') throw new ConfigError(`${what}: expected '=' after option ${t.text}`);
    const v = next();
    if (v?.kind !== 'word' && v?.kind !== 'string') throw new ConfigError(`${what}: expected a value for ${t.text}`);
    if (options.has(t.text)) throw new ConfigError(`${what}: option ${t.text} is given twice`);
    options.set(t.text, v.text);
  }
  if (p !== tokens.length)
    throw new ConfigError(`${what}: must contain exactly one login module (Kafka's sasl.jaas.config rule)`);
  return {
    loginModule: module.text,
    flag: flag.text.toLowerCase() as JaasEntry['flag'],
    options,
  };
}

/** The `user_<name>="<password>"` options of a JAAS entry (Kafka's PlainLoginModule users). */
export function jaasUsers(entry: JaasEntry): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of entry.options) if (k.startsWith('user_') && k.length > 5) out.set(k.slice(5), v);
  return out;
}
