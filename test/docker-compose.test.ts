/**
 * README's compose file (three Runnel nodes and etcd), without a Docker engine: the YAML between the
 * `compose:start` / `compose:end` markers is parsed and checked (one etcd, three nodes built from this
 * Dockerfile with distinct node ids and ports, every node pointed at etcd's advertised client URL, data in
 * volumes), then run here as Docker would run it on host networking: etcd with the service's own command
 * line, each node with the image's start command and ENV plus the service's environment — only ports (etcd's
 * client and peer ports, each node's Kafka and admin ports), the data dirs and the log level replaced. The
 * three nodes must form one cluster (every node listed in Metadata, one controller) and an acks=all write to
 * a topic created with the compose's default replication factor reaches all three replicas.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { parse } from 'yaml';
import { findEtcdBinary, freePort } from '../broker/dev-etcd.js';
import { waitExit } from './helpers/broker-process.js';
import { root, runtimeStage } from './helpers/dockerfile.js';

interface Service {
  image?: string;
  build?: string;
  network_mode?: string;
  command?: string[];
  depends_on?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

async function readCompose(): Promise<Compose> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const m = /<!-- compose:start -->\s*```yaml\n([\s\S]*?)```\s*<!-- compose:end -->/.exec(readme);
  assert.ok(m, 'README has a compose block between the compose markers');
  return parse(m[1]) as Compose;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
let compose: Compose;

function spawnLogged(cmd: string, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; out: () => string } {
  const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  children.push(child);
  return { child, out: () => out };
}

before(async () => {
  compose = await readCompose();
});

after(async () => {
  // Nodes first (SIGTERM: controlled shutdown), etcd last.
  for (const c of children.slice().reverse()) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill('SIGTERM');
    if ((await waitExit(c, 20_000)) === null && c.exitCode === null) c.kill('SIGKILL');
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('compose: one etcd and three nodes of this image, each with its own id and ports, all on etcd', () => {
  const services = Object.entries(compose.services);
  const etcd = services.filter(([, s]) => s.command?.[0] === 'etcd');
  assert.equal(etcd.length, 1, 'one etcd service');
  const nodes = services.filter(([, s]) => s.build === '.');
  assert.equal(nodes.length, 3, 'three nodes built from the Dockerfile');
  const advertised = etcd[0][1].command!.find((a) => a.startsWith('--advertise-client-urls='))!.split('=')[1];
  const ids = new Set<string>();
  const ports = new Set<string>();
  for (const [name, s] of nodes) {
    const env = s.environment ?? {};
    assert.equal(env.RUNNEL_ETCD_ENDPOINTS, advertised, `${name} joins etcd at its advertised client URL`);
    assert.ok(s.depends_on?.includes(etcd[0][0]), `${name} starts after etcd`);
    assert.equal(s.network_mode, 'host', `${name}: host networking (one address for clients and nodes)`);
    ids.add(env.RUNNEL_NODE_ID);
    ports.add(env.RUNNEL_PORT).add(env.RUNNEL_ADMIN_PORT);
    const vol = s.volumes?.find((v) => v.endsWith(':/data'));
    assert.ok(vol && compose.volumes && vol.split(':')[0] in compose.volumes, `${name} keeps /data in a volume`);
  }
  assert.equal(ids.size, 3, 'distinct node ids');
  assert.equal(ports.size, 6, 'distinct Kafka and admin ports');
});

test('compose, run outside Docker: the three nodes form one cluster and replicate an acks=all write', async () => {
  const image = await runtimeStage();
  assert.equal(image.cmd[0], 'node');
  const portMap = new Map<string, string>();
  const port = async (p: string): Promise<string> => {
    if (!portMap.has(p)) portMap.set(p, String(await freePort()));
    return portMap.get(p)!;
  };
  const withPorts = async (s: string): Promise<string> => {
    let out = s;
    for (const m of s.matchAll(/127\.0\.0\.1:(\d+)/g)) out = out.replace(m[0], `127.0.0.1:${await port(m[1])}`);
    return out;
  };

  // etcd: the service's command line, its data dir and ports replaced.
  const [etcdName, etcd] = Object.entries(compose.services).find(([, s]) => s.command?.[0] === 'etcd')!;
  const etcdDir = await mkdtemp(join(tmpdir(), 'runnel-compose-etcd-'));
  dirs.push(etcdDir);
  const etcdArgs: string[] = [];
  for (const a of etcd.command!.slice(1))
    etcdArgs.push(a.startsWith('--data-dir=') ? `--data-dir=${etcdDir}` : await withPorts(a));
  const e = spawnLogged(findEtcdBinary(), etcdArgs, { PATH: process.env.PATH });
  const endpoints = await withPorts(etcd.command!.find((a) => a.startsWith('--advertise-client-urls='))!.split('=')[1]);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`${endpoints}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    assert.ok(Date.now() < deadline && e.child.exitCode === null, `${etcdName} healthy: ${e.out()}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  // The nodes: the image's CMD with the image's ENV and the service's environment.
  const bootstrap: string[] = [];
  const nodes = Object.entries(compose.services).filter(([, s]) => s.build === '.');
  const outputs: (() => string)[] = [];
  for (const [, s] of nodes) {
    const dataDir = await mkdtemp(join(tmpdir(), 'runnel-compose-node-'));
    dirs.push(dataDir);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...image.env };
    for (const [k, v] of Object.entries(s.environment ?? {})) env[k] = await withPorts(v);
    env.RUNNEL_PORT = await port(env.RUNNEL_PORT!);
    env.RUNNEL_ADMIN_PORT = await port(env.RUNNEL_ADMIN_PORT!);
    env.RUNNEL_DATA_DIR = dataDir;
    env.RUNNEL_LOG_LEVEL = 'warn';
    assert.equal(env.RUNNEL_ETCD_ENDPOINTS, endpoints);
    const n = spawnLogged(process.execPath, image.cmd.slice(1), env);
    outputs.push(n.out);
    bootstrap.push(`127.0.0.1:${env.RUNNEL_PORT}`);
  }
  const logs = () => outputs.map((o, i) => `--- node ${i + 1}:\n${o()}`).join('\n');

  const kafka = new Kafka({
    clientId: 'compose-test',
    brokers: bootstrap,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    let cluster = await admin.describeCluster();
    for (let i = 0; i < 150 && (cluster.brokers.length < 3 || cluster.controller === null); i++) {
      await new Promise((r) => setTimeout(r, 200));
      cluster = await admin.describeCluster();
    }
    assert.deepEqual(
      cluster.brokers.map((b) => `${b.host}:${b.port}`).sort(),
      [...bootstrap].sort(),
      `all three nodes registered: ${logs()}`,
    );
    assert.ok(cluster.controller !== null && [1, 2, 3].includes(cluster.controller), 'one controller');

    // No replication factor given: the compose's default.replication.factor (3) applies.
    await admin.createTopics({ topics: [{ topic: 'compose', numPartitions: 1 }], waitForLeaders: true });
    const md = await admin.fetchTopicMetadata({ topics: ['compose'] });
    assert.equal(md.topics[0].partitions[0].replicas.length, 3, 'RF 3 from default.replication.factor');
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const [r] = await producer.send({ topic: 'compose', acks: -1, messages: [{ value: 'replicated' }] });
      assert.equal(r.errorCode, 0);
    } finally {
      await producer.disconnect();
    }
    // acks=all answered: the write is in every ISR member; with min.insync.replicas=2 the ISR has them all.
    const after = await admin.fetchTopicMetadata({ topics: ['compose'] });
    assert.equal(after.topics[0].partitions[0].isr.length, 3);
    const offsets = await admin.fetchTopicOffsets('compose');
    assert.equal(offsets[0].high, '1');
  } finally {
    await admin.disconnect();
  }
});
