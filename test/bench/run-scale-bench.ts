/**
 * For the CI versions of the benchmarks (scale.test.ts, memory.test.ts, scale-latency.test.ts, flush.test.ts,
 * security.test.ts): runs a bench script (by default dist/test/bench/scale.bench.js) as a child process with `env`
 * added to this process's environment, killed after `timeoutMs`; resolves to its exit code and output.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = join(dirname(fileURLToPath(import.meta.url)), 'scale.bench.js');

export interface BenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runScaleBench(env: Record<string, string>, timeoutMs = 240_000): Promise<BenchRun> {
  return runBenchScript(BENCH, env, timeoutMs);
}

export function runBenchScript(script: string, env: Record<string, string>, timeoutMs: number): Promise<BenchRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
