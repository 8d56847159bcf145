/**
 * `runnel group list|describe|reset-offsets|delete`: consumer groups through the Admin client
 * (ListGroups, DescribeGroups, OffsetFetch, ListOffsets, OffsetCommit, DeleteGroups). Lag is the
 * partition's end offset (high watermark) minus the group's committed offset.
 */
import { type CommonOptions, OperationError, UsageError, out, table } from './common.js';
import { type AdminView, type GroupView, withAdmin } from './view.js';

export async function groupList(opts: CommonOptions): Promise<number> {
  return withAdmin(opts, async (admin) => {
    const groups = (await admin.listGroups()).sort((a, b) => a.groupId.localeCompare(b.groupId));
    out(
      table(
        ['GROUP', 'STATE', 'PROTOCOL-TYPE'],
        groups.map((g) => [g.groupId, g.state || '-', g.protocolType || '-']),
      ),
    );
    return 0;
  });
}

export interface PartitionLag {
  topic: string;
  partition: number;
  committed: number | null;
  logEnd: number | null;
  lag: number | null;
  memberId: string | null;
  clientId: string | null;
  host: string | null;
}

/** Committed offset, end offset, lag and owner of every partition the group has an offset for or is assigned. */
export async function groupLag(admin: AdminView, group: GroupView): Promise<PartitionLag[]> {
  const committed = await admin.fetchOffsets(group.groupId);
  const owners = new Map<string, { memberId: string; clientId: string; host: string }>();
  const keys = new Map<string, { topic: string; partition: number }>();
  const key = (t: string, p: number): string => `${t}\u0000${p}`;
  for (const m of group.members) {
    for (const a of m.assignment) {
      for (const p of a.partitions) {
        owners.set(key(a.topic, p), { memberId: m.memberId, clientId: m.clientId, host: m.clientHost });
        keys.set(key(a.topic, p), { topic: a.topic, partition: p });
      }
    }
  }
  for (const [t, parts] of committed) for (const p of parts.keys()) keys.set(key(t, p), { topic: t, partition: p });
  const topics = [...new Set([...keys.values()].map((k) => k.topic))].sort();
  const ends = new Map<string, Map<number, number>>();
  await Promise.all(
    topics.map(async (t) => ends.set(t, await admin.listOffsets(t, 'latest').catch(() => new Map<number, number>()))),
  );
  const rows: PartitionLag[] = [];
  for (const { topic, partition } of [...keys.values()].sort(
    (a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition,
  )) {
    const c = committed.get(topic)?.get(partition);
    const cur = c === undefined || c < 0 ? null : c;
    const end = ends.get(topic)?.get(partition);
    const logEnd = end === undefined || end < 0 ? null : end;
    const owner = owners.get(key(topic, partition));
    rows.push({
      topic,
      partition,
      committed: cur,
      logEnd,
      lag: cur !== null && logEnd !== null ? Math.max(0, logEnd - cur) : null,
      memberId: owner?.memberId ?? null,
      clientId: owner?.clientId ?? null,
      host: owner?.host ?? null,
    });
  }
  return rows;
}

interface DescribeOptions extends CommonOptions {
  json?: boolean;
}

export async function groupDescribe(id: string, opts: DescribeOptions): Promise<number> {
  return withAdmin(opts, async (admin) => {
    const group = await admin.describeGroup(id);
    if (group.state === 'Dead' && group.members.length === 0) {
      const committed = await admin.fetchOffsets(id);
      if (committed.size === 0) throw new OperationError(`consumer group ${id} does not exist`);
    }
    const lag = await groupLag(admin, group);
    if (opts.json) {
      out(`${JSON.stringify({ ...group, partitions: lag }, null, 2)}\n`);
      return 0;
    }
    let text = `Group: ${group.groupId}\tState: ${group.state}\tMembers: ${group.members.length}`;
    if (group.protocol) text += `\tAssignor: ${group.protocol}`;
    text += `\tTotal lag: ${lag.reduce((s, r) => s + (r.lag ?? 0), 0)}\n\n`;
    text +=
      lag.length === 0
        ? '(no committed offsets and no assignments)\n'
        : table(
            ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
            lag.map((r) => [r.topic, r.partition, r.committed, r.logEnd, r.lag, r.memberId, r.host, r.clientId]),
          );
    if (group.members.length) {
      text +=
        '\n' +
        table(
          ['MEMBER-ID', 'INSTANCE-ID', 'CLIENT-ID', 'HOST', 'ASSIGNMENT'],
          group.members.map((m) => [
            m.memberId,
            m.groupInstanceId,
            m.clientId,
            m.clientHost,
            m.assignment.map((a) => `${a.topic}:${a.partitions.join(',')}`).join(' ') || '-',
          ]),
        );
    }
    out(text);
    return 0;
  });
}

interface ResetOptions extends CommonOptions {
  topic: string;
  partition?: number[];
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: number;
  toDatetime?: number;
  dryRun?: boolean;
}

export async function groupResetOffsets(id: string, opts: ResetOptions): Promise<number> {
  const targets = [
    opts.toEarliest && '--to-earliest',
    opts.toLatest && '--to-latest',
    opts.toOffset !== undefined && '--to-offset',
    opts.toDatetime !== undefined && '--to-datetime',
  ].filter(Boolean);
  if (targets.length !== 1)
    throw new UsageError(
      'give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime' +
        (targets.length ? ` (got ${targets.join(' and ')})` : ''),
    );
  return withAdmin(opts, async (admin) => {
    const group = await admin.describeGroup(id);
    if (group.members.length > 0 || !['Empty', 'Dead', ''].includes(group.state)) {
      throw new OperationError(
        `cannot reset offsets of group ${id}: it is not empty ` +
          `(state ${group.state}, ${group.members.length} member(s)); stop its consumers first`,
      );
    }
    const t = await admin.describeTopic(opts.topic);
    const all = t.partitions.map((p) => p.partition).sort((a, b) => a - b);
    const parts = opts.partition ? [...new Set(opts.partition)].sort((a, b) => a - b) : all;
    for (const p of parts)
      if (!all.includes(p))
        throw new OperationError(`topic ${opts.topic} has no partition ${p} (it has ${all.length})`);
    const [earliest, latest, committed] = await Promise.all([
      admin.listOffsets(opts.topic, 'earliest'),
      admin.listOffsets(opts.topic, 'latest'),
      admin.fetchOffsets(id, [opts.topic]),
    ]);
    const byTime =
      opts.toDatetime !== undefined ? await admin.listOffsets(opts.topic, { timestamp: opts.toDatetime }) : undefined;
    const plan = parts.map((p) => {
      const lo = earliest.get(p) ?? 0;
      const hi = latest.get(p) ?? 0;
      let offset: number;
      if (opts.toEarliest) offset = lo;
      else if (opts.toLatest) offset = hi;
      else if (opts.toOffset !== undefined) offset = Math.min(Math.max(opts.toOffset, lo), hi);
      else {
        const o = byTime!.get(p) ?? -1;
        offset = o < 0 ? hi : o;
      }
      const cur = committed.get(opts.topic)?.get(p);
      return { topic: opts.topic, partition: p, current: cur === undefined || cur < 0 ? null : cur, offset };
    });
    if (!opts.dryRun)
      await admin.commitOffsets(
        id,
        plan.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
      );
    out(
      table(
        ['TOPIC', 'PARTITION', 'OLD-OFFSET', 'NEW-OFFSET'],
        plan.map((r) => [r.topic, r.partition, r.current, r.offset]),
      ),
    );
    out(opts.dryRun ? '(dry run: nothing committed)\n' : `reset ${plan.length} partition(s) of group ${id}\n`);
    return 0;
  });
}

export async function groupDelete(ids: string[], opts: CommonOptions): Promise<number> {
  return withAdmin(opts, async (admin) => {
    await admin.deleteGroups(ids);
    for (const id of ids) out(`deleted group ${id}\n`);
    return 0;
  });
}
