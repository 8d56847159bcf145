/**
 * Runs the built `runnel` CLI (dist/broker/bin.cjs) as a child process, asynchronously so that an
 * in-process broker keeps serving it. Bounded by a timeout (the child is killed by its PID, then the
 * result has code -1).
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../broker/bin.cjs'));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return runProcess(process.execPath, [CLI, ...args], opts);
}

/** Run a command to completion (bounded); output is decoded once at the end (no split UTF-8 characters). */
export function runProcess(
  cmd: string,
  args: string[],
  opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.once('close', (code) => {
      clearTimeout(t);
      res({
        code: code ?? -1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** `runCli` with `--bootstrap` appended. */
export function cliAt(
  bootstrap: string,
): (args: string[], opts?: { input?: string | Buffer; timeoutMs?: number }) => Promise<CliResult> {
  return (args, opts) => runCli([...args, '--bootstrap', bootstrap], opts);
}
