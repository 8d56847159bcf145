/**
 * Kafka's `ssl.principal.mapping.rules` (SslPrincipalMapper): how the RFC 2253 subject DN of a client
 * certificate becomes a principal name. Rules are comma-separated and tried in order:
 * - `DEFAULT`: the DN as is.
 * - `RULE:pattern/replacement/[LU]`: applies when `pattern` matches the whole DN; the result is the DN with
 *   every match of `pattern` replaced by `replacement` (`$1`.. groups; `\` escapes the next character, so
 *   `\/` is a slash and `\$` a dollar), then lower-cased (L) or upper-cased (U). `/` and `\` inside the pattern
 *   or replacement are escaped with `\`; commas inside them need no escape.
 * No rule applying is an error (Kafka fails the authentication): `map()` returns null and the caller refuses
 * the connection. Bad rule text is a ConfigError at start.
 */
import { ConfigError } from '../config-model.js';

interface Rule {
  readonly text: string;
  /** null: DEFAULT. */
  readonly whole: RegExp | null;
  readonly every: RegExp | null;
  readonly replacement: string;
  readonly caseFold: '' | 'L' | 'U';
}

/** Reads `\\.|[^\\/]` * from `s` at `i`; returns the text (escapes kept) and the index of the closing `/`. */
function readPart(s: string, i: number): { part: string; end: number } | null {
  let j = i;
  while (j < s.length && s[j] !== '/') j += s[j] === '\\' ? 2 : 1;
  if (j >= s.length) return null;
  return { part: s.slice(i, j), end: j };
}

function invalid(rules: string, at: string): ConfigError {
  return new ConfigError(`ssl.principal.mapping.rules: invalid rule ${JSON.stringify(at)} in ${JSON.stringify(rules)}`);
}

function compile(text: string, pattern: string): { whole: RegExp; every: RegExp } {
  // A Java pattern escapes '/' as '\/'; in a JS pattern '\/' is '/' too.
  try {
    return { whole: new RegExp(`^(?:${pattern})$`), every: new RegExp(pattern, 'g') };
  } catch (err) {
    throw new ConfigError(`ssl.principal.mapping.rules: ${text}: ${(err as Error).message}`);
  }
}

/** Parse the rules text (see the header); ConfigError when it is not a list of rules. */
export function parsePrincipalRules(text: string): Rule[] {
  const rules: Rule[] = [];
  let i = 0;
  const s = text;
  const skipSpace = (): void => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  skipSpace();
  while (i < s.length) {
    const start = i;
    if (s.startsWith('DEFAULT', i)) {
      i += 'DEFAULT'.length;
      rules.push({ text: 'DEFAULT', whole: null, every: null, replacement: '', caseFold: '' });
    } else if (s.startsWith('RULE:', i)) {
      const p = readPart(s, i + 5);
      const r = p && readPart(s, p.end + 1);
      if (!p || !r) throw invalid(text, s.slice(start));
      i = r.end + 1;
      let caseFold: '' | 'L' | 'U' = '';
      if (s[i] === 'L' || s[i] === 'U') caseFold = s[i++] as 'L' | 'U';
      const ruleText = s.slice(start, i);
      rules.push({ text: ruleText, ...compile(ruleText, p.part), replacement: r.part, caseFold });
    } else {
      const comma = s.indexOf(',', i);
      throw invalid(text, s.slice(start, comma < 0 ? s.length : comma));
    }
    skipSpace();
    if (i < s.length) {
      if (s[i] !== ',') throw invalid(text, s.slice(start));
      i++;
      skipSpace();
    }
  }
  if (rules.length === 0) throw invalid(text, text);
  return rules;
}

/** Java's Matcher replacement syntax: `$n` a group, `\x` the character x. */
function expand(replacement: string, groups: readonly (string | undefined)[]): string {
  let out = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i];
    if (c === '\\' && i + 1 < replacement.length) out += replacement[++i];
    else if (c === '$' && /\d/.test(replacement[i + 1] ?? '')) {
      let j = i + 1;
      let n = Number(replacement[j]);
      // Java takes more digits only while they still name an existing group.
      while (/\d/.test(replacement[j + 1] ?? '') && n * 10 + Number(replacement[j + 1]) < groups.length)
        n = n * 10 + Number(replacement[++j]);
      out += groups[n] ?? '';
      i = j;
    } else out += c;
  }
  return out;
}

export class PrincipalMapper {
  private readonly rules: Rule[];

  constructor(readonly rulesText: string) {
    this.rules = parsePrincipalRules(rulesText);
  }

  /** The principal name of a DN, or null when no rule applies. */
  map(dn: string): string | null {
    for (const rule of this.rules) {
      if (!rule.whole || !rule.every) return dn;
      if (!rule.whole.test(dn)) continue;
      const result = dn.replace(rule.every, (...args: unknown[]) => {
        const groupCount = args.findIndex((a) => typeof a === 'number') - 1;
        const groups = args.slice(0, groupCount + 1) as (string | undefined)[];
        return expand(rule.replacement, groups);
      });
      if (rule.caseFold === 'L') return result.toLowerCase();
      if (rule.caseFold === 'U') return result.toUpperCase();
      return result;
    }
    return null;
  }
}
