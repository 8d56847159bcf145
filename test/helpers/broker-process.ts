/**
 * Runs `runnel start` as a child process for tests that need a real process (kill -9, signals).
 * Every wait is bounded; only the child started here is ever killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../broker/bin.cjs'));

export interface BrokerProcess {
  child: ChildProcess;
  port: number;
  bootstrap: string;
  output(): string;
}

export interface BrokerProcessOptions {
  /** Run under `ulimit -n <n>` (bash execs node: the child's pid is the broker's). */
  ulimitFiles?: number;
}

export async function startBrokerProcess(
  dataDir: string,
  extra: string[] = [],
  opts: BrokerProcessOptions = {},
): Promise<BrokerProcess> {
  const args = [
    CLI,
    'start',
    '--port',
    '0',
    '--admin-port',
    '0',
    '--host',
    '127.0.0.1',
    '--data-dir',
    dataDir,
    ...extra,
  ];
  const child =
    opts.ulimitFiles === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', `ulimit -n ${opts.ulimitFiles} && exec "$0" "$@"`, process.execPath, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`broker did not start: ${out}`)), 15_000);
    const check = (): void => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        res(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(t);
      rej(new Error(`broker exited with ${code}: ${out}`));
    });
  });
  return { child, port, bootstrap: `127.0.0.1:${port}`, output: () => out };
}

export function waitExit(child: ChildProcess, timeoutMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((res) => {
    const t = setTimeout(() => res(-1), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      res(code);
    });
  });
}

/** Run a command to completion (bounded), collecting stdout. */
export function run(
  cmd: string,
  args: string[],
  timeoutMs = 60_000,
  onLine?: (line: string) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    // Decode as streams so a UTF-8 character split across two chunks stays whole.
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      if (onLine) {
        partial += d;
        const lines = partial.split('\n');
        partial = lines.pop()!;
        for (const l of lines) onLine(l);
      }
    });
    child.stderr.on('data', (d: string) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(t);
      res({ code, stdout, stderr });
    });
  });
}
