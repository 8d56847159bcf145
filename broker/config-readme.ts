/**
 * Keeps README.md's configuration reference equal to the config table: `npm run gen:readme` rewrites the
 * part between the config-reference markers; a test fails when it is out of date.
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
  return `${readme.slice(0, a + START.length)}\n${configReferenceMarkdown()}\n${readme.slice(b)}`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const p = readmePath();
  writeFileSync(p, withConfigReference(readFileSync(p, 'utf8')));
}
