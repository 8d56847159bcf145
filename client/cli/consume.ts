/**
 * `runnel consume TOPIC`: prints records in text, json or hex.
 *
 * Two modes. Assigned partitions (no --group, or --group with --partition/--offset/--timestamp): the
 * start offset of every partition is resolved up front with ListOffsets and the consumer is assigned
 * there; with --group the printed offsets are committed for that group. Group mode (--group alone, or
 * with --from-beginning): the consumer subscribes, partitions come from the group's assignment and start
 * at the committed offsets (else earliest with --from-beginning, latest without).
 *
 * Without --follow the command stops once every partition has reached the end offset it had at start
 * (or after --timeout-ms, default IDLE_STOP_MS, without a record, in case a partition cannot get there —
 * e.g. it belongs to another member of the group). With --group, the offsets after the last printed
 * record are committed on the way out (and every COMMIT_EVERY_MS while following); --max N never commits
 * past the N-th record.
 */
import { Consumer } from '../consumer.js';
import { type CommonOptions, OperationError, UsageError, clientOptions } from './common.js';
import { type Format, type PrintableRecord, formatRecord } from './format.js';
import { type AdminView, num, withAdmin } from './view.js';

const POLL_MS = 500;
const IDLE_STOP_MS = 5_000;
const GROUP_IDLE_STOP_MS = 15_000;
const COMMIT_EVERY_MS = 5_000;

interface ConsumeOptions extends CommonOptions {
  fromBeginning?: boolean;
  offset?: number;
  timestamp?: number;
  partition?: number;
  group?: string;
  format: Format;
  follow?: boolean;
  max?: number;
  printKey?: boolean;
  printHeaders?: boolean;
  printOffset?: boolean;
  separator: string;
  timeoutMs?: number;
}

interface Plan {
  /** Partitions to assign and their start offsets; undefined in group (subscribe) mode. */
  assign?: Array<{ partition: number; offset: number }>;
  /** partition → end offset at start (stop there); undefined when following. */
  ends?: Map<number, number>;
  /** Partitions already at their end when the command starts. */
  done: Set<number>;
}

async function resolvePlan(admin: AdminView, topic: string, opts: ConsumeOptions, subscribe: boolean): Promise<Plan> {
  const t = await admin.describeTopic(topic);
  const all = t.partitions.map((p) => p.partition).sort((a, b) => a - b);
  if (opts.partition !== undefined && !all.includes(opts.partition)) {
    throw new OperationError(`topic ${topic} has no partition ${opts.partition} (it has ${all.length})`);
  }
  const parts = opts.partition !== undefined ? [opts.partition] : all;
  const [earliest, latest] = await Promise.all([
    admin.listOffsets(topic, 'earliest'),
    admin.listOffsets(topic, 'latest'),
  ]);
  const ends = opts.follow ? undefined : new Map(parts.map((p) => [p, latest.get(p) ?? 0]));
  const done = new Set<number>();
  if (subscribe) {
    if (ends) {
      const committed = (await admin.fetchOffsets(opts.group!, [topic])).get(topic);
      for (const p of parts) {
        const c = committed?.get(p);
        const start =
          c !== undefined && c >= 0 ? c : opts.fromBeginning ? (earliest.get(p) ?? 0) : (latest.get(p) ?? 0);
        if (start >= ends.get(p)!) done.add(p);
      }
    }
    return { ends, done };
  }
  const byTime =
    opts.timestamp !== undefined ? await admin.listOffsets(topic, { timestamp: opts.timestamp }) : undefined;
  const assign = parts.map((p) => {
    const lo = earliest.get(p) ?? 0;
    const hi = latest.get(p) ?? 0;
    let offset: number;
    if (opts.offset !== undefined) offset = Math.min(Math.max(opts.offset, lo), hi);
    else if (byTime) {
      const o = byTime.get(p) ?? -1;
      offset = o < 0 ? hi : o;
    } else if (opts.fromBeginning || !opts.follow) offset = lo;
    else offset = hi;
    if (ends && offset >= ends.get(p)!) done.add(p);
    return { partition: p, offset };
  });
  return { assign, ends, done };
}

export async function consume(topic: string, opts: ConsumeOptions): Promise<number> {
  if (opts.offset !== undefined && opts.timestamp !== undefined)
    throw new UsageError('give either --offset or --timestamp, not both');
  if (opts.fromBeginning && (opts.offset !== undefined || opts.timestamp !== undefined)) {
    throw new UsageError('--from-beginning cannot be combined with --offset or --timestamp');
  }
  const subscribe =
    opts.group !== undefined &&
    opts.partition === undefined &&
    opts.offset === undefined &&
    opts.timestamp === undefined;
  const plan = await withAdmin(opts, (admin) => resolvePlan(admin, topic, opts, subscribe));
  const ends = plan.ends;
  const done = plan.done;
  const partitionsTotal = plan.assign?.length ?? ends?.size ?? 0;
  if (ends && done.size >= partitionsTotal) return 0;

  const consumer = new Consumer({
    ...clientOptions(opts),
    ...(opts.group !== undefined ? { groupId: opts.group } : {}),
    autoCommit: false,
    fromBeginning: !!opts.fromBeginning,
  });

  let stopping = false;
  const onSignal = (): void => {
    stopping = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') stopping = true;
  });

  const next = new Map<number, number>(); // partition → offset after the last printed record
  let printed = 0;
  let lastCommit = Date.now();
  let committedSnapshot = '';
  const commit = async (): Promise<void> => {
    if (opts.group === undefined || next.size === 0) return;
    const snapshot = JSON.stringify([...next]);
    if (snapshot === committedSnapshot) return;
    await consumer.commit([...next].map(([partition, offset]) => ({ topic, partition, offset })));
    committedSnapshot = snapshot;
  };

  const idleLimit = opts.timeoutMs ?? (opts.follow ? undefined : subscribe ? GROUP_IDLE_STOP_MS : IDLE_STOP_MS);
  let lastRecordAt = Date.now();
  try {
    if (plan.assign) consumer.assign(plan.assign.map(({ partition, offset }) => ({ topic, partition, offset })));
    else await consumer.subscribe([topic]);
    while (!stopping) {
      const records = await consumer.poll(POLL_MS);
      let text = '';
      for (const raw of records) {
        const r = toPrintable(raw);
        if (r.topic !== topic) continue;
        if (ends) {
          const end = ends.get(r.partition);
          if (end === undefined || r.offset >= end) {
            done.add(r.partition);
            continue;
          }
        }
        text += formatRecord(r, opts);
        printed++;
        next.set(r.partition, r.offset + 1);
        if (ends && r.offset + 1 >= ends.get(r.partition)!) done.add(r.partition);
        if (opts.max !== undefined && printed >= opts.max) break;
      }
      if (text) process.stdout.write(text);
      if (records.length) lastRecordAt = Date.now();
      if (ends && (opts.max === undefined || printed < opts.max)) {
        // Positions also pass offsets that hold no record (control batches, compacted away).
        for (const [p, end] of ends) {
          const pos = consumer.position(topic, p);
          if (pos !== null && pos >= end) done.add(p);
        }
      }
      if (opts.max !== undefined && printed >= opts.max) break;
      if (ends && done.size >= partitionsTotal) break;
      if (ends && subscribe) {
        // Group mode: the partitions this member was given are all read to their end.
        const mine = consumer.assignment().filter((tp) => tp.topic === topic);
        if (mine.length > 0 && mine.every((tp) => done.has(tp.partition))) break;
      }
      if (idleLimit !== undefined && Date.now() - lastRecordAt >= idleLimit) {
        if (opts.timeoutMs === undefined && ends) {
          process.stderr.write(
            `runnel: stopped after ${idleLimit} ms without a record ` +
              `before the end of ${partitionsTotal - done.size} partition(s)\n`,
          );
        }
        break;
      }
      if (opts.follow && Date.now() - lastCommit >= COMMIT_EVERY_MS) {
        await commit();
        lastCommit = Date.now();
      }
    }
    await commit();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.resolve(consumer.close()).catch(() => undefined);
  }
  return 0;
}

interface RawRecord {
  topic: string;
  partition: number;
  offset: unknown;
  timestamp: unknown;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Array<{ key: string; value: Buffer | null }>;
}

function toPrintable(r: RawRecord): PrintableRecord {
  return {
    topic: r.topic,
    partition: r.partition,
    offset: num(r.offset),
    timestamp: num(r.timestamp),
    key: r.key ?? null,
    value: r.value ?? null,
    headers: r.headers ?? [],
  };
}
