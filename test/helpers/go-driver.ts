/**
 * Builds a Go test driver of test/drivers/<name> (GOPATH mode, against Debian's Go packages in /usr/share/gocode,
 * as the compat matrix's Go drivers are built) into a cache dir keyed by the source's hash, and runs it.
 * .ci/run installs golang-go and the Go libraries the drivers import.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** dist/test/helpers → the repository's test/drivers. */
const DRIVERS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/drivers');

/** The path of the built driver `name` (built on first use; later calls reuse the binary). */
export async function goDriver(name: string): Promise<string> {
  const src = join(DRIVERS, name);
  const files = (await readdir(src)).filter((f) => f.endsWith('.go')).sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(await readFile(join(src, f)));
  const dir = join(tmpdir(), `runnel-go-${name}-${hash.digest('hex').slice(0, 12)}`);
  const bin = join(dir, name);
  if (existsSync(bin)) return bin;
  await mkdir(dir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: `${join(dir, 'gopath')}:/usr/share/gocode`,
    GOCACHE: join(tmpdir(), 'runnel-go-cache'),
  };
  delete env.GOFLAGS;
  await run('go', ['build', '-o', bin, '.'], { cwd: src, env, timeout: 300_000 });
  return bin;
}

/** Run a built driver; resolves with its exit code and its last stdout line parsed as JSON. */
export async function runGoDriver(
  bin: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number; result: Record<string, unknown> }> {
  const parse = (stdout: string): Record<string, unknown> => {
    const line = stdout.trim().split('\n').at(-1) ?? '';
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return { error: `unparsable output: ${stdout.slice(-500)}` };
    }
  };
  try {
    const { stdout } = await run(bin, args, { timeout: timeoutMs });
    return { code: 0, result: parse(stdout) };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    const result = parse(e.stdout ?? '');
    if (result.error === undefined) result.error = e.stderr ?? String(err);
    return { code: typeof e.code === 'number' ? e.code : 1, result };
  }
}
