/**
 * `runnel dev --nodes 2` as a real process: it prints the bootstrap servers and each node's pid, serves a
 * replicated topic (kafkajs admin and acks=all producer; read back with runnel's consumer), and on SIGINT
 * stops every process it started and exits 0. Bounded waits; only 127.0.0.1. Needs etcd on PATH.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Consumer } from '../../../client/index.js';
import { CLI } from './run-cli.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

test('runnel dev --nodes 2: prints the bootstrap, serves RF 2 produce/consume, SIGINT stops it all', async () => {
  const child = spawn(process.execPath, [CLI, 'dev', '--nodes', '2', '--session-timeout-ms', '3000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let pids: number[] = [];
  try {
    const deadline = Date.now() + 90_000;
    while (!/^data: /m.test(stdout) && child.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(stdout, /^data: /m, `printed the cluster (stderr: ${stderr})`);
    const bootstrap = /^bootstrap servers: (\S+)$/m.exec(stdout)![1];
    const nodes = [...stdout.matchAll(/^node (\d+): (127\.0\.0\.1:\d+) \(pid (\d+)\)$/gm)];
    assert.deepEqual(
      nodes.map((m) => Number(m[1])),
      [1, 2],
    );
    assert.equal(bootstrap, nodes.map((m) => m[2]).join(','));
    const etcdPid = Number(/^etcd: http:\/\/127\.0\.0\.1:\d+ \(pid (\d+)\)$/m.exec(stdout)![1]);
    const dataDir = /^data: (\S+) \(removed on exit\)$/m.exec(stdout)![1];
    pids = [...nodes.map((m) => Number(m[3])), etcdPid];
    assert.ok(pids.every(alive));

    const kafka = new Kafka({
      clientId: 'dev-cli-test',
      brokers: bootstrap.split(','),
      logLevel: logLevel.NOTHING,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'dev-cli', numPartitions: 2, replicationFactor: 2 }] });
      const md = await admin.fetchTopicMetadata({ topics: ['dev-cli'] });
      for (const p of md.topics[0].partitions) assert.deepEqual([...p.replicas].sort(), [1, 2]);
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      await producer.send({
        topic: 'dev-cli',
        acks: -1,
        messages: ['m0', 'm1', 'm2', 'm3'].map((value, i) => ({ value, partition: i % 2 })),
      });
    } finally {
      await producer.disconnect();
    }
    // Read back without a group: consumer groups are not what this test is about.
    const consumer = new Consumer({ bootstrap, requestTimeoutMs: 10_000 });
    const seen: string[] = [];
    try {
      consumer.assign([0, 1].map((partition) => ({ topic: 'dev-cli', partition, offset: 0 })));
      const until = Date.now() + 60_000;
      while (seen.length < 4 && Date.now() < until)
        for (const r of await consumer.poll(500)) seen.push(r.value!.toString());
    } finally {
      await consumer.close();
    }
    assert.deepEqual(seen.sort(), ['m0', 'm1', 'm2', 'm3']);

    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), 30_000)))]);
    clearTimeout(timer);
    assert.equal(code, 0, `exit code (stderr: ${stderr})`);
    assert.match(stderr, /SIGINT, stopping/);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} is gone`);
    assert.equal(existsSync(dataDir), false, 'the temp data dir is removed');
  } finally {
    // On failure: the processes `runnel dev` started (in their own process groups) go too, by pid.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  }
});
