/**
 * README's tested examples: the fenced blocks that follow a `<!-- readme-test <setup> <kind> -->` marker (kind:
 * broker, librdkafka, kafkajs, java, curl), a shell-word splitter for their command lines, and the substitution
 * of their placeholders (file names, ports, URLs) by what a test made. Pure functions: no processes, no files.
 */

export interface ReadmeBlock {
  setup: string;
  kind: string;
  /** The fence's language (sh, properties, js). */
  lang: string;
  body: string;
  /** 1-based line of the marker in README.md, for messages. */
  line: number;
}

const MARKER = /<!-- readme-test (\S+) (\S+) -->\n```(\w*)\n([\s\S]*?)\n```/g;

/** Every marked block of `readme`, in order. */
export function readmeBlocks(readme: string): ReadmeBlock[] {
  const out: ReadmeBlock[] = [];
  for (const m of readme.matchAll(MARKER)) {
    const line = readme.slice(0, m.index).split('\n').length;
    out.push({ setup: m[1]!, kind: m[2]!, lang: m[3]!, body: m[4]!, line });
  }
  return out;
}

/**
 * The commands of a shell block as argument vectors: `\` line continuations, single and double quotes,
 * backslash escapes outside single quotes, `#` comments; one command per line. Nothing else of sh (no
 * variables, pipes or redirections: a block that needs them is not one to run this way).
 */
export function shellCommands(text: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | null = null;
  const endWord = (): void => {
    if (word !== null) words.push(word);
    word = null;
  };
  const endCommand = (): void => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === '\n') {
      i++;
      endWord();
    } else if (c === '\n') endCommand();
    else if (c === ' ' || c === '\t') endWord();
    else if (c === '#' && word === null) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unterminated ' in ${text}`);
      word = (word ?? '') + text.slice(i + 1, close);
      i = close;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && '"\\$`'.includes(text[j + 1] ?? '')) j++;
        s += text[j];
      }
      if (j >= text.length) throw new Error(`unterminated " in ${text}`);
      word = (word ?? '') + s;
      i = j;
    } else if (c === '\\') {
      word = (word ?? '') + (text[i + 1] ?? '');
      i++;
    } else word = (word ?? '') + c;
  }
  endCommand();
  return commands;
}

/**
 * `text` with each key of `map` replaced by its value, longer keys first (so `client.keystore.pem` is not
 * taken for `client.key` + `store.pem`).
 */
export function substitute(text: string, map: Record<string, string>): string {
  const keys = Object.keys(map).sort((a, b) => b.length - a.length);
  const escaped = keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (keys.length === 0) return text;
  return text.replace(new RegExp(escaped.join('|'), 'g'), (k) => map[k]!);
}

/** The placeholders of the README's examples and what replaces them. */
export interface Placeholders {
  dataDir: string;
  /** Ports replacing 9092, 9093 and 9094, in that order. */
  ports: number[];
  /** PEM files: the broker's key + chain, the CA, a client certificate and key, a Java keystore. */
  brokerKeystore: string;
  ca: string;
  clientCert: string;
  clientKey: string;
  clientKeystore: string;
  /** Base URL (no trailing slash) replacing `https://idp.example.com/oauth2`. */
  idp?: string;
}

export function placeholderMap(p: Placeholders): Record<string, string> {
  const map: Record<string, string> = {
    './data': p.dataDir,
    'broker.pem': p.brokerKeystore,
    'ca.pem': p.ca,
    'client.crt': p.clientCert,
    'client.key': p.clientKey,
    'client.keystore.pem': p.clientKeystore,
  };
  ['9092', '9093', '9094'].forEach((port, i) => {
    map[`localhost:${port}`] = `127.0.0.1:${p.ports[i]}`;
    map[`://:${port}`] = `://127.0.0.1:${p.ports[i]}`;
  });
  if (p.idp !== undefined) map['https://idp.example.com/oauth2'] = p.idp;
  return map;
}

/** Java-style `key=value` lines (comments and blank lines skipped), as a Map. */
export function properties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}
