/**
 * Reading the Dockerfile without a Docker engine (test/docker.test.ts, test/docker-compose.test.ts): its
 * instructions, the runtime stage's environment and its exec-form commands.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the package root the image's WORKDIR mirrors). */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface Instruction {
  op: string;
  args: string;
}

/** Instructions with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!cur && (line === '' || line.startsWith('#'))) continue;
    if (cur && line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      cur += `${line.slice(0, -1)} `;
      continue;
    }
    cur += line;
    const m = /^(\S+)\s+([\s\S]*)$/.exec(cur);
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2].trim() });
    cur = '';
  }
  return out;
}

/** `ENV A=b C=d` pairs (values without spaces or double-quoted). */
export function envPairs(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g))
    env[m[1]] = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2];
  return env;
}

/** An exec-form (JSON array) command, from CMD/ENTRYPOINT args or HEALTHCHECK's `[options] CMD [...]`. */
export function execForm(args: string): string[] {
  const i = args.indexOf('[');
  const cmd = JSON.parse(args.slice(i)) as unknown;
  assert.ok(Array.isArray(cmd) && cmd.every((x) => typeof x === 'string'), `exec form expected: ${args}`);
  return cmd as string[];
}

/** The runtime (last) stage of the repository's Dockerfile: its instructions, ENV, and start command. */
export async function runtimeStage(): Promise<{ runtime: Instruction[]; env: Record<string, string>; cmd: string[] }> {
  const ins = parseDockerfile(await readFile(join(root, 'Dockerfile'), 'utf8'));
  const runtime = ins.slice(ins.map((i) => i.op).lastIndexOf('FROM'));
  const entry = runtime.filter((i) => i.op === 'ENTRYPOINT').pop();
  const cmd = [...(entry ? execForm(entry.args) : []), ...execForm(runtime.filter((i) => i.op === 'CMD').pop()!.args)];
  const env = Object.assign({}, ...runtime.filter((i) => i.op === 'ENV').map((i) => envPairs(i.args))) as Record<
    string,
    string
  >;
  return { runtime, env, cmd };
}
