import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinationError } from '../../../protocol/errors.js';
import { connectEtcd, type EtcdConnection } from '../../../replication/etcd/connection.js';
import { get } from '../../../replication/etcd/kv.js';
import { BrokerRegistration, type RegistrationState } from '../../../replication/etcd/registration.js';
import { EtcdSession } from '../../../replication/etcd/session.js';
import { FakeClock } from '../../../storage/clock.js';
import { startEtcd, type EtcdProcess } from '../../helpers/etcd.js';

let etcd: EtcdProcess;
const conns: EtcdConnection[] = [];
const sessions: EtcdSession[] = [];

function conn(cluster = 'session-test'): EtcdConnection {
  const c = connectEtcd({ endpoints: [etcd.endpoint], cluster, callTimeoutMs: 1000 });
  conns.push(c);
  return c;
}

function session(c: EtcdConnection, opts: ConstructorParameters<typeof EtcdSession>[1] = {}): EtcdSession {
  const s = new EtcdSession(c, { ttlMs: 2000, retryMs: 100, ...opts });
  sessions.push(s);
  return s;
}

const info = (nodeId: number) => ({
  nodeId,
  listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 + nodeId, securityProtocol: 'PLAINTEXT' }],
  rack: null,
});

/** Resolves with the first state `reg` reports that satisfies `pred` (bounded). */
function nextState(reg: BrokerRegistration, pred: (s: RegistrationState) => boolean, ms = 20_000) {
  return new Promise<RegistrationState>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`no such registration state in ${ms} ms`)), ms);
    const off = reg.onChange((s) => {
      if (!pred(s)) return;
      clearTimeout(t);
      off();
      res(s);
    });
  });
}

/** Moves the fake clock on (retries are timed on it) while real etcd calls complete, until registered (bounded). */
async function driveUntilRegistered(clock: FakeClock, reg: BrokerRegistration): Promise<void> {
  const end = Date.now() + 20_000;
  while (!reg.registered && Date.now() < end) {
    await clock.advanceAndSettle(100);
    await new Promise((r) => setTimeout(r, 10));
  }
}

before(async () => {
  etcd = await startEtcd();
});

after(async () => {
  for (const s of sessions) await s.close({ revoke: false });
  for (const c of conns) c.close();
  await etcd?.cleanup();
});

test('a broker registers under its lease; a second holder of the node id is refused; close frees it', async () => {
  const c = conn();
  const s1 = session(c);
  const lease = await s1.start();
  const reg = await BrokerRegistration.register(s1, info(1));
  assert.equal(reg.key, '/runnel/session-test/brokers/1');
  const kv = await get(c, reg.key);
  assert.ok(kv);
  assert.equal(kv.lease, lease);
  assert.equal(kv.createRevision, reg.state.epoch);
  assert.deepEqual(JSON.parse(kv.value.toString()), info(1));

  const s2 = session(conn());
  await s2.start();
  await assert.rejects(
    BrokerRegistration.register(s2, info(1)),
    (e: unknown) =>
      e instanceof CoordinationError &&
      e.code === 'ERR_DUPLICATE_BROKER_REGISTRATION' &&
      e.kafkaCode === 101 &&
      /node id 1 is already registered/.test(e.message),
  );
  // Another node id is fine on the second session.
  await BrokerRegistration.register(s2, info(2));

  reg.close();
  await s1.close();
  assert.equal(await get(c, reg.key), undefined, 'revoking the lease removed the registration');
  const again = await BrokerRegistration.register(s2, info(1));
  assert.ok(again.state.epoch! > reg.state.epoch!, 'a new registration has a newer broker epoch');
});

test('etcd paused past the TTL: lease lost on our clock, then re-created and re-registered on resume', async () => {
  const clock = new FakeClock(1_000_000);
  const c = conn();
  const s = session(c, { clock });
  const lost: CoordinationError[] = [];
  s.onLost((e) => lost.push(e));
  await s.start();
  const reg = await BrokerRegistration.register(s, info(3));
  const epoch1 = reg.state.epoch!;
  await etcd.pause();
  try {
    // Keep-alives go unanswered; when the TTL has passed since the last answered one, the session is lost.
    await clock.advanceAndSettle(1000);
    assert.equal(s.state, 'alive');
    const unregistered = nextState(reg, (st) => !st.registered);
    await clock.advanceAndSettle(1500);
    assert.equal(s.state, 'lost');
    assert.equal(s.leaseId, undefined);
    assert.equal(lost.length, 1);
    assert.equal(lost[0].code, 'ERR_LEASE_LOST');
    assert.equal((await unregistered).error?.code, 'ERR_LEASE_LOST');
  } finally {
    etcd.resume();
  }
  // Recovery retries on the (fake) clock: revoke the old lease, grant a new one, register again.
  const registered = nextState(reg, (st) => st.registered);
  await driveUntilRegistered(clock, reg);
  const st = await registered;
  assert.ok(st.epoch! > epoch1, 'registered again with a newer epoch');
  assert.equal(s.leaseGeneration, 2);
  const kv = await get(c, reg.key);
  assert.equal(kv?.lease, s.leaseId);
  assert.equal(kv?.createRevision, st.epoch);
});

test('a revoked lease is seen as lost at the next keep-alive and replaced', async () => {
  const clock = new FakeClock(0);
  const c = conn();
  const s = session(c, { clock });
  const first = await s.start();
  const reg = await BrokerRegistration.register(s, info(4));
  const lost = new Promise<CoordinationError>((r) => s.onLost(r));
  await s.revokeLease();
  assert.equal(await get(c, reg.key), undefined);
  await clock.advanceAndSettle(700); // next keep-alive: etcd answers TTL 0
  for (let i = 0; i < 100 && s.state === 'alive'; i++) await new Promise((r) => setTimeout(r, 20));
  assert.match((await lost).message, /revoked or has expired/);
  const registered = nextState(reg, (st) => st.registered);
  await driveUntilRegistered(clock, reg);
  await registered;
  assert.notEqual(s.leaseId, first);
  assert.equal((await get(c, reg.key))?.lease, s.leaseId);
});

test('real time: etcd SIGSTOPped past a 2 s TTL loses the lease; after SIGCONT the broker registers anew', async () => {
  const c = conn();
  const s = session(c);
  await s.start();
  const reg = await BrokerRegistration.register(s, info(5));
  const epoch1 = reg.state.epoch!;
  const lost = new Promise<CoordinationError>((r) => s.onLost(r));
  await etcd.pause();
  try {
    let t: NodeJS.Timeout | undefined;
    const err = await Promise.race([
      lost,
      new Promise<never>((_, rej) => {
        t = setTimeout(() => rej(new Error('lease not lost while etcd was paused')), 10_000);
      }),
    ]).finally(() => clearTimeout(t));
    assert.equal(err.code, 'ERR_LEASE_LOST');
    assert.equal(reg.registered, false);
  } finally {
    etcd.resume();
  }
  const st = reg.registered ? reg.state : await nextState(reg, (x) => x.registered);
  assert.ok(st.epoch! > epoch1);
  assert.equal((await get(c, reg.key))?.lease, s.leaseId);
});
