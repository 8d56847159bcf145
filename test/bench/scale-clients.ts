/**
 * Scenarios "connections" and "groups" of `npm run bench:scale`, on raw-protocol clients (one socket each,
 * one request at a time) so thousands of them fit in the bench process:
 * - connections: C idle connections that each sent ApiVersions once -> broker RSS before / after -> KiB per
 *   idle connection; then A of them send Metadata (all topics) in a loop for ACTIVE_S seconds -> RSS.
 * - groups: G classic groups x 4 members (JoinGroup with MEMBER_ID_REQUIRED answered, SyncGroup by the
 *   leader), each member committing its partition's offset every second and heartbeating every 3 s for
 *   WINDOW_S seconds -> broker CPU (utime+stime over the window) as % of one core; then SIGTERM, restart, and
 *   the time from spawn until the broker logged its groups loaded and OffsetFetch returns the last group's
 *   final commits (the __consumer_offsets load; the listener is open meanwhile).
 * Every loop is bounded in count and every wait in time.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RawClient } from '../helpers/raw-client.js';
import { forEachLimit } from '../../storage/for-each-limit.js';
import { commit, fetchCommitted, heartbeat, joinGroup, syncGroup } from '../helpers/group-client.js';
import { type BrokerChild, apiVersions, cpuMs, createTopics, metadataAll, rssKiB, say, sleep } from './scale-broker.js';

export interface ConnectionsFigures {
  connections: number;
  rssBeforeMiB: number;
  rssIdleMiB: number;
  kibPerIdleConnection: number;
  active: number;
  activeRequests: number;
  rssActiveMiB: number;
}

export async function connectionsScenario(
  b: BrokerChild,
  o: { connections: number; active: number; activeSeconds: number },
): Promise<ConnectionsFigures> {
  await sleep(1000);
  const rssBefore = rssKiB(b.pid);
  const clients: RawClient[] = [];
  say(`connections: opening ${o.connections} connections (ApiVersions once each)`);
  try {
    await forEachLimit(Array.from({ length: o.connections }), 200, async () => {
      const c = await RawClient.connect(b.port);
      clients.push(c);
      await apiVersions(c);
    });
    await sleep(2000);
    const rssIdle = rssKiB(b.pid);
    say(`connections: RSS ${(rssBefore / 1024).toFixed(0)} -> ${(rssIdle / 1024).toFixed(0)} MiB; active phase`);
    const active = clients.slice(0, o.active);
    let requests = 0;
    const until = performance.now() + o.activeSeconds * 1000;
    let rssActive = 0;
    const sampler = setInterval(() => (rssActive = Math.max(rssActive, rssKiB(b.pid))), 500);
    try {
      await Promise.all(
        active.map(async (c) => {
          for (let i = 0; i < 100_000 && performance.now() < until; i++) {
            await metadataAll(c);
            requests++;
          }
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    rssActive = Math.max(rssActive, rssKiB(b.pid));
    return {
      connections: clients.length,
      rssBeforeMiB: rssBefore / 1024,
      rssIdleMiB: rssIdle / 1024,
      kibPerIdleConnection: (rssIdle - rssBefore) / clients.length,
      active: active.length,
      activeRequests: requests,
      rssActiveMiB: rssActive / 1024,
    };
  } finally {
    for (const c of clients) c.close();
  }
}

export interface GroupsFigures {
  groups: number;
  members: number;
  joinMs: number;
  windowS: number;
  commits: number;
  commitErrors: number;
  /** Commits a second achieved (the target is members a second; a busy bench process falls short). */
  commitsPerS: number;
  brokerCpuPct: number;
  /** Broker CPU ms per commit, and that times `members` commits a second, as % of one core. */
  cpuMsPerCommit: number;
  brokerCpuPctAtTarget: number;
  offsetsLoadMs: number;
  /** Of that, spawn -> first accepted connection (process start and everything before listening). */
  restartAcceptMs: number;
  /** The broker's own figure: ms from the start of the groups load to every partition replayed (its log). */
  offsetsReplayMs: number;
  /** The restarted broker's CPU time (user + system) from spawn until the offsets were loaded: less noisy than
   * wall time on a shared machine. */
  restartCpuMs: number;
  /** __consumer_offsets on disk at the restart (every partition's .log files) and its segment count. */
  offsetsLogMiB: number;
  offsetsSegments: number;
}

/** Total size and count of the `.log` segment files of `topic`'s partition directories under `dataDir`. */
export function topicLogFiles(dataDir: string, topic: string): { bytes: number; segments: number } {
  let bytes = 0;
  let segments = 0;
  for (const d of readdirSync(dataDir)) {
    if (!d.startsWith(`${topic}-`)) continue;
    for (const f of readdirSync(join(dataDir, d))) {
      if (!f.endsWith('.log')) continue;
      bytes += statSync(join(dataDir, d, f)).size;
      segments++;
    }
  }
  return { bytes, segments };
}

interface Member {
  c: RawClient;
  groupId: string;
  memberId: string;
  generationId: number;
  partition: number;
}

const TOPIC = 'scale-groups';

/** Joins and syncs one group of `n` members, each on its own connection; member i gets partition i. */
async function joinOne(port: number, groupId: string, n: number, out: Member[]): Promise<void> {
  const cs = await Promise.all(Array.from({ length: n }, () => RawClient.connect(port)));
  const joined = await Promise.all(
    cs.map(async (c) => {
      let j = await joinGroup(c, 5, { groupId, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000 });
      if (j.errorCode === 79) {
        j = await joinGroup(c, 5, {
          groupId,
          memberId: j.memberId,
          sessionTimeoutMs: 30_000,
          rebalanceTimeoutMs: 30_000,
        });
      }
      if (j.errorCode !== 0) throw new Error(`${groupId}: JoinGroup error ${j.errorCode}`);
      return j;
    }),
  );
  const ids = joined.map((j) => j.memberId);
  await Promise.all(
    cs.map(async (c, i) => {
      const j = joined[i];
      const leader = j.leader === j.memberId;
      const s = await syncGroup(c, 3, {
        groupId,
        generationId: j.generationId,
        memberId: j.memberId,
        assignments: leader ? ids.map((memberId, k) => ({ memberId, assignment: Buffer.from([k]) })) : [],
      });
      if (s.errorCode !== 0) throw new Error(`${groupId}: SyncGroup error ${s.errorCode}`);
      out.push({ c, groupId, memberId: j.memberId, generationId: j.generationId, partition: s.assignment[0] ?? i });
    }),
  );
}

async function commitOnce(m: Member, offset: number): Promise<number> {
  const res = await commit(m.c, 8, {
    groupId: m.groupId,
    generationIdOrMemberEpoch: m.generationId,
    memberId: m.memberId,
    topics: [
      {
        name: TOPIC,
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: [
          {
            partitionIndex: m.partition,
            committedOffset: BigInt(offset),
            committedLeaderEpoch: -1,
            committedMetadata: '',
            commitTimestamp: -1n,
          },
        ],
      },
    ],
  });
  return res.topics[0]?.partitions[0]?.errorCode ?? -1;
}

/** The last group's committed offsets, or null while not (yet) all `members` of them are there as expected. */
async function lastGroupLoaded(port: number, groupId: string, members: number, offset: number): Promise<boolean> {
  const c = await RawClient.connect(port).catch(() => null);
  if (!c) return false;
  try {
    const res = await fetchCommitted(c, 7, {
      groupId,
      topics: [{ name: TOPIC, partitionIndexes: Array.from({ length: members }, (_, i) => i) }],
    });
    if (res.errorCode !== 0) return false;
    const parts = res.topics[0]?.partitions ?? [];
    return parts.length === members && parts.every((p) => p.errorCode === 0 && p.committedOffset === BigInt(offset));
  } catch {
    return false;
  } finally {
    c.close();
  }
}

/**
 * One single-member group joined, synced and committed, retried under fresh group ids: the first group use
 * creates __consumer_offsets, and until its partitions are hosted a SyncGroup / OffsetCommit fails with
 * COORDINATOR_NOT_AVAILABLE (retriable; a real client rejoins). Bounded: 50 attempts.
 */
async function warmUp(port: number): Promise<void> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    const one: Member[] = [];
    try {
      await joinOne(port, `scale-warmup-${i}`, 1, one);
      const err = await commitOnce(one[0], 1);
      if (err === 0) return;
      last = new Error(`OffsetCommit error ${err}`);
    } catch (err) {
      last = err;
    } finally {
      for (const m of one) m.c.close();
    }
    await sleep(200);
  }
  throw new Error(`groups: no group could commit after 50 attempts: ${(last as Error).message}`);
}

export async function groupsScenario(
  b: BrokerChild,
  o: { groups: number; members: number; windowSeconds: number },
): Promise<GroupsFigures> {
  const admin = await RawClient.connect(b.port);
  try {
    await createTopics(admin, [TOPIC], o.members);
  } finally {
    admin.close();
  }
  await warmUp(b.port);
  const members: Member[] = [];
  const groupIds = Array.from({ length: o.groups }, (_, g) => `scale-group-${g}`);
  say(`groups: joining ${o.groups} groups x ${o.members} members`);
  const t0 = performance.now();
  try {
    await forEachLimit(groupIds, 250, (g) => joinOne(b.port, g, o.members, members));
    const joinMs = performance.now() - t0;
    say(`groups: joined in ${(joinMs / 1000).toFixed(1)} s; committing every second for ${o.windowSeconds} s`);
    let commits = 0;
    let errors = 0;
    const ticks = o.windowSeconds;
    const cpu0 = cpuMs(b.pid);
    const w0 = performance.now();
    // Each member: tick k at w0 + k s (spread over the second by member index) commits offset k+1.
    await Promise.all(
      members.map(async (m, idx) => {
        const phase = (idx / members.length) * 1000;
        for (let k = 0; k < ticks; k++) {
          const wait = w0 + k * 1000 + phase - performance.now();
          if (wait > 0) await sleep(wait);
          const err = await commitOnce(m, k + 1).catch(() => -1);
          commits++;
          if (err !== 0) errors++;
          if (k % 3 === 2)
            await heartbeat(m.c, 4, { groupId: m.groupId, generationId: m.generationId, memberId: m.memberId }).catch(
              () => undefined,
            );
        }
      }),
    );
    const windowMs = performance.now() - w0;
    const cpuUsed = cpuMs(b.pid) - cpu0;
    const brokerCpuPct = (cpuUsed / windowMs) * 100;
    say(`groups: ${commits} commits (${errors} errors), broker CPU ${brokerCpuPct.toFixed(1)} % of a core`);
    for (const m of members) m.c.close();
    await b.stop('SIGTERM');
    const offsetsLog = topicLogFiles(b.dataDir, '__consumer_offsets');
    say(`groups: __consumer_offsets ${(offsetsLog.bytes / 2 ** 20).toFixed(1)} MiB in ${offsetsLog.segments} segments`);
    await b.start();
    const restartAcceptMs = performance.now() - b.spawnedAt;
    const last = groupIds[groupIds.length - 1];
    let offsetsLoadMs = Number.NaN;
    let restartCpuMs = Number.NaN;
    // The listener opens while the offsets load (by partition, a few at a time): loaded is when the last
    // group fetches its final commits and the broker has logged every partition loaded.
    const allLoaded = (): boolean => b.output(20_000).includes('"loaded consumer groups"');
    for (let i = 0; i < 10_000; i++) {
      if (allLoaded() && (await lastGroupLoaded(b.port, last, o.members, ticks))) {
        offsetsLoadMs = performance.now() - b.spawnedAt;
        restartCpuMs = cpuMs(b.pid);
        break;
      }
      if (performance.now() - b.spawnedAt > 120_000) break;
      await sleep(10);
    }
    // The broker logs the load as JSON: {"msg":"loaded consumer groups","ms":N,...}.
    const loadedLine = b
      .output(20_000)
      .split('\n')
      .find((l) => l.includes('"loaded consumer groups"'));
    const offsetsReplayMs = Number(/"ms":(\d+)/.exec(loadedLine ?? '')?.[1] ?? Number.NaN);
    return {
      groups: o.groups,
      members: members.length,
      joinMs,
      windowS: windowMs / 1000,
      commits,
      commitErrors: errors,
      commitsPerS: commits / (windowMs / 1000),
      brokerCpuPct,
      cpuMsPerCommit: cpuUsed / commits,
      brokerCpuPctAtTarget: ((cpuUsed / commits) * members.length) / 10,
      offsetsLoadMs,
      restartAcceptMs,
      offsetsReplayMs,
      restartCpuMs,
      offsetsLogMiB: offsetsLog.bytes / 2 ** 20,
      offsetsSegments: offsetsLog.segments,
    };
  } finally {
    for (const m of members) m.c.close();
  }
}
