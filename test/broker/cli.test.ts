import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Readable } from 'node:stream';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../helpers/raw-client.js';
import { encodeApiVersionsRequest, defaultApiVersionsRequest } from '../../protocol/generated/api-versions-request.js';
import { decodeApiVersionsResponse } from '../../protocol/generated/api-versions-response.js';

const cli = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../broker/bin.cjs'));

/** The port from the node's "listening on 127.0.0.1:P" log line, and its stdout up to that line. */
function listeningPort(
  child: ChildProcessWithoutNullStreams | ChildProcessByStdio<null, Readable, Readable>,
): Promise<{ port: number; out: string }> {
  return new Promise((resolvePort, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolvePort({ port: Number(m[1]), out });
      }
    });
  });
}

test('runnel start listens, logs where, answers ApiVersions and exits 0 on SIGTERM', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-cli-'));
  const child = spawn(
    process.execPath,
    [
      cli,
      'start',
      '--port',
      '0',
      '--admin-port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      '--set',
      'num.partitions=2',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    const { port } = await listeningPort(child);
    const c = await RawClient.connect(port);
    c.send(18, 0, (w) => encodeApiVersionsRequest(w, 0, defaultApiVersionsRequest()));
    const res = await c.response(0);
    assert.equal(decodeApiVersionsResponse(res!.body, 0).errorCode, 0);
    c.close();
    assert.match(readFileSync(join(dataDir, 'meta.properties'), 'utf8'), /cluster\.id=/);
    const code = await new Promise<number | null>((resolveExit) => {
      const t = setTimeout(() => resolveExit(-1), 5000);
      child.once('exit', (c2) => {
        clearTimeout(t);
        resolveExit(c2);
      });
      child.kill('SIGTERM');
    });
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('runnel start refuses a bad config value with exit code 2', async () => {
  const child = spawn(process.execPath, [cli, 'start', '--set', 'num.partitions=zero'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      r(-1);
    }, 10_000);
    child.once('exit', (c) => {
      clearTimeout(t);
      r(c);
    });
  });
  assert.equal(code, 2);
  assert.match(err, /num\.partitions/);
});

test('runnel start takes port, host, data dir and admin port from --set when no flag names them', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-cli-set-'));
  const child = spawn(
    process.execPath,
    [
      cli,
      'start',
      '--set',
      'port=0',
      '--set',
      'host=127.0.0.1',
      '--set',
      `data.dir=${dataDir}`,
      '--set',
      'admin.port=-1',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    const { port, out } = await listeningPort(child);
    assert.notEqual(port, 9092);
    assert.doesNotMatch(out, /admin API at/);
    assert.match(readFileSync(join(dataDir, 'meta.properties'), 'utf8'), /cluster\.id=/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(r, 5000);
      child.once('exit', () => {
        clearTimeout(t);
        r(undefined);
      });
    });
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
