/**
 * README's quick start, as a user runs it: a clone of this repository (git clone of the committed HEAD,
 * into a temporary directory), `npm ci` there (which builds, through "prepare"), then README's start
 * command (`npm start`) on a free port with a temporary data directory; a Kafka ApiVersions round trip;
 * stop with SIGTERM to the broker's PID (from its first log line: npm and a shell sit in between). Then
 * the build again, as `npm test` does (it deletes dist/), and the same start; then `npm pack` and the
 * tarball installed into an empty project, where `npx runnel start` runs the installed bin.
 * npm runs offline-first (--prefer-offline: its cache holds what `npm ci` of the repository fetched).
 * Skipped when the repository is not a git checkout. Slow (a minute or two): every step is bounded, and
 * the temporary directories are removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultApiVersionsRequest, encodeApiVersionsRequest } from '../../protocol/generated/api-versions-request.js';
import { decodeApiVersionsResponse } from '../../protocol/generated/api-versions-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { RawClient } from '../helpers/raw-client.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
const STEP_MS = 300_000;

/** This process's environment without what an enclosing `npm test` adds (npm_* variables), as a new shell has it. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  env.npm_config_update_notifier = 'false';
  delete env.RUNNEL_LOG_LEVEL;
  delete env.RUNNEL_LOG_FORMAT;
  return env;
}

/** Runs a command to completion (bounded: SIGKILL after timeoutMs); throws with its output when it fails. */
function step(cmd: string, args: string[], cwd: string, timeoutMs = STEP_MS): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(t);
      if (code === 0) res(out);
      else rej(new Error(`${cmd} ${args.join(' ')} in ${cwd}: exit ${code ?? signal}\n${out}`));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a broker with `cmd args` in `cwd` (flags for a free port on 127.0.0.1, `dataDir`, no admin API
 * appended), waits for its "listening" log line on stdout, makes an ApiVersions round trip, sends SIGTERM
 * to the broker's PID and waits for every process to exit. Returns the ms from spawn to the answer.
 */
async function startConnectStop(cmd: string, args: string[], cwd: string, dataDir: string): Promise<number> {
  const flags = ['--port', '0', '--host', '127.0.0.1', '--admin-port', '-1', '--data-dir', dataDir];
  const t0 = Date.now();
  const child = spawn(cmd, [...args, ...flags], { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const closed = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  let brokerPid: number | undefined;
  try {
    let listening: { pid: number; port: number } | undefined;
    const deadline = Date.now() + 60_000;
    while (!listening && child.exitCode === null && Date.now() < deadline) {
      for (const line of out.split('\n')) {
        const m = /"pid":(\d+),.*"msg":"listening on 127\.0\.0\.1:(\d+)"/.exec(line);
        if (m) listening = { pid: Number(m[1]), port: Number(m[2]) };
      }
      if (!listening) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(listening, `no "listening" line from ${cmd} ${args.join(' ')}:\n${out}`);
    brokerPid = listening.pid;
    const c = await RawClient.connect(listening.port);
    let ms: number;
    try {
      const req = defaultApiVersionsRequest();
      req.clientSoftwareName = 'quick-start-test';
      req.clientSoftwareVersion = '1.0.0';
      const res = await c.request(18, 3, (w) => encodeApiVersionsRequest(w, 3, req), decodeApiVersionsResponse);
      ms = Date.now() - t0;
      assert.equal(res.errorCode, ErrorCode.NONE);
      assert.ok(res.apiKeys.some((k) => k.apiKey === 0)); // Produce
    } finally {
      c.socket.destroy();
    }
    process.kill(brokerPid, 'SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await closed;
    clearTimeout(t);
    assert.equal(code, 0, `exit code of ${cmd} ${args.join(' ')}:\n${out}`);
    assert.match(out, /"msg":"stopped"/);
    return ms;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (brokerPid !== undefined && alive(brokerPid)) process.kill(brokerPid, 'SIGKILL');
  }
}

const isGitCheckout = existsSync(join(root, '.git')) && spawnSync('git', ['--version']).status === 0;

test('quick start: README commands in a fresh clone, after a rebuild, and from a packed tarball', {
  skip: isGitCheckout ? false : 'not a git checkout',
  timeout: 15 * 60_000,
}, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'runnel-quickstart-'));
  try {
    const clone = join(tmp, 'runnel');
    await step('git', ['clone', '--quiet', root, clone], tmp);
    const readme = readFileSync(join(clone, 'README.md'), 'utf8');
    assert.match(readme, /^npm ci && npm start +#/m, "README's quick start command");
    assert.match(readme, /^npx runnel start /m, 'README: the command where runnel is installed');
    await step('npm', ['ci', ...NPM_FLAGS], clone);
    const first = await startConnectStop('npm', ['start', '--'], clone, join(tmp, 'data1'));
    t.diagnostic(`npm start after npm ci: ApiVersions answered ${first} ms after the spawn`);

    await step('npm', ['run', 'build'], clone);
    assert.equal(statSync(join(clone, 'dist/broker/bin.cjs')).mode & 0o111, 0o111, 'the bin stays executable');
    const again = await startConnectStop('npm', ['start', '--'], clone, join(tmp, 'data2'));
    t.diagnostic(`npm start after a rebuild: ${again} ms`);

    await step('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp, ...NPM_FLAGS], clone);
    const tarball = readdirSync(tmp).find((f) => /^runnel-.*\.tgz$/.test(f));
    assert.ok(tarball, 'npm pack wrote runnel-<version>.tgz');
    const app = join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'quick-start-app', version: '1.0.0', private: true }),
    );
    await step('npm', ['install', join(tmp, tarball), ...NPM_FLAGS], app);
    const installed = await startConnectStop('npx', ['runnel', 'start'], app, join(tmp, 'data3'));
    t.diagnostic(`npx runnel start where the tarball is installed: ${installed} ms`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
