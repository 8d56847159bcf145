/**
 * Keeps README.md's configuration reference equal to the config table: `npm run gen:readme` rewrites the
 * part between the config-reference markers; a test fails when it is out of date. The table's columns are
 * padded to one width each, the layout Markdown formatters give it, so formatting README.md changes nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configReferenceMarkdown } from './config.js';
import { BadArgumentError } from '../protocol/errors.js';

const START = '<!-- config-reference:start -->';
const END = '<!-- config-reference:end -->';

export function readmePath(): string {
  return join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'README.md');
}

/** README text with the reference section replaced by the current table. */
export function withConfigReference(readme: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new BadArgumentError(`README.md lacks the ${START} … ${END} markers`);
  return `${readme.slice(0, a + START.length)}\n${alignTable(configReferenceMarkdown())}\n${readme.slice(b)}`;
}

/** A Markdown table (`| a | b |` rows, the second one the `| --- |` separator) with its columns padded. */
export function alignTable(md: string): string {
  const cells = (line: string): string[] =>
    line
      .slice(2, -2)
      .split(' | ')
      .map((c) => c.trim());
  const rows = md.split('\n').map(cells);
  const widths = rows[0]!.map((_, i) => Math.max(3, ...rows.map((r, j) => (j === 1 ? 0 : (r[i] ?? '').length))));
  return rows
    .map((r, j) => `| ${widths.map((w, i) => (j === 1 ? '-'.repeat(w) : (r[i] ?? '').padEnd(w))).join(' | ')} |`)
    .join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const p = readmePath();
  writeFileSync(p, withConfigReference(readFileSync(p, 'utf8')));
}
