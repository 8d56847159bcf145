/**
 * The Dockerfile, without a Docker engine: its structure (multi-stage on the official Node 20 image,
 * non-root user, a data volume, EXPOSE 9092 and 9644, an exec-form HEALTHCHECK on /health), then its CMD
 * run here as the container would run it — in the package root (WORKDIR /app holds package.json,
 * node_modules and dist the same way), with the image's ENV, only the data dir, bind address and ports
 * replaced (temp dir, 127.0.0.1, free ports) and an advertised listener from env — and its HEALTHCHECK
 * command run against it: exit 1 before the broker runs, 0 once it does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient } from './helpers/raw-client.js';
import { waitExit } from './helpers/broker-process.js';
import { envPairs, execForm, parseDockerfile, root, runtimeStage } from './helpers/dockerfile.js';
import { freePort } from '../broker/dev-etcd.js';
import { defaultMetadataRequest, encodeMetadataRequest } from '../protocol/generated/metadata-request.js';
import { decodeMetadataResponse } from '../protocol/generated/metadata-response.js';

/** Run an exec-form command (its leading "node" is this node) and return its exit code. */
function runCommand(cmd: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<number | null> {
  assert.equal(cmd[0], 'node');
  return new Promise((res) => {
    const child = spawn(process.execPath, cmd.slice(1), { cwd: root, env, stdio: 'ignore' });
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      res(code);
    });
  });
}

test('Dockerfile: multi-stage on node:20, non-root user, data volume, ports, healthcheck on /health', async () => {
  const ins = parseDockerfile(await readFile(join(root, 'Dockerfile'), 'utf8'));
  const froms = ins.filter((i) => i.op === 'FROM');
  assert.ok(froms.length >= 2, 'multi-stage');
  for (const f of froms)
    assert.match(f.args, /^node:20(?:[.-][\w.-]*)?(?:\s+AS\s+\w+)?$/i, `official Node 20 image: ${f.args}`);
  const lastFrom = ins.lastIndexOf(froms[froms.length - 1]);
  const runtime = ins.slice(lastFrom);
  assert.ok(
    runtime.some((i) => i.op === 'COPY' && /--from=/.test(i.args)),
    'the runtime stage copies from the build stage',
  );
  const user = runtime.filter((i) => i.op === 'USER').pop();
  assert.ok(user && !/^(root|0)(:|$)/.test(user.args), 'runs as a non-root user');
  const volume = runtime.find((i) => i.op === 'VOLUME');
  assert.ok(volume && /\/data/.test(volume.args));
  const expose = runtime.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
  assert.ok(expose.includes('9092') && expose.includes('9644'), `EXPOSE ${expose.join(' ')}`);
  const env = Object.assign({}, ...runtime.filter((i) => i.op === 'ENV').map((i) => envPairs(i.args))) as Record<
    string,
    string
  >;
  assert.equal(env.RUNNEL_DATA_DIR, volume!.args.match(/\/data\b/)![0], 'the data dir is the volume');
  const hc = runtime.find((i) => i.op === 'HEALTHCHECK');
  assert.ok(hc, 'HEALTHCHECK');
  assert.match(hc.args, /\/health/);
  assert.equal(execForm(hc.args)[0], 'node', 'the health check needs nothing but node');
});

test("Dockerfile: CMD starts the broker with the image's env (advertised listener); HEALTHCHECK passes", async () => {
  const { runtime, env: imageEnv, cmd } = await runtimeStage();
  const health = execForm(runtime.find((i) => i.op === 'HEALTHCHECK')!.args);
  assert.ok(imageEnv.RUNNEL_ADMIN_PORT ?? '9644', 'admin port');

  const dataDir = await mkdtemp(join(tmpdir(), 'runnel-docker-'));
  const [port, adminPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...imageEnv,
    RUNNEL_DATA_DIR: dataDir,
    RUNNEL_HOST: '127.0.0.1',
    RUNNEL_PORT: String(port),
    RUNNEL_ADMIN_PORT: String(adminPort),
    RUNNEL_ADVERTISED_HOST: 'runnel.example',
    RUNNEL_ADVERTISED_PORT: '19092',
  };
  try {
    assert.equal(await runCommand(health, env, 10_000), 1, 'the health check fails while nothing listens');
    assert.equal(cmd[0], 'node');
    const child = spawn(process.execPath, cmd.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      let code: number | null = null;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && child.exitCode === null) {
        code = await runCommand(health, env, 10_000);
        if (code === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(code, 0, `the HEALTHCHECK passes once the broker runs; output: ${out}`);
      // JSON logs (RUNNEL_LOG_FORMAT=json in the image): every stdout line parses.
      for (const line of out.trim().split('\n')) JSON.parse(line);

      const c = await RawClient.connect(port);
      try {
        const md = await c.request(
          3,
          9,
          (w) => encodeMetadataRequest(w, 9, { ...defaultMetadataRequest(), topics: [] }),
          decodeMetadataResponse,
        );
        assert.deepEqual(
          md.brokers.map((b) => [b.host, b.port]),
          [['runnel.example', 19092]],
        );
      } finally {
        c.socket.destroy();
      }
    } finally {
      child.kill('SIGTERM');
      assert.equal(await waitExit(child), 0, 'SIGTERM stops it cleanly');
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
