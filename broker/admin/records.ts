/**
 * Records over HTTP: JSON records → one v2 batch per partition, appended through Produce's own
 * validation (produce-validator.ts) and the replica manager (appendRecords); reads decode stored batches into JSON.
 *
 * Keys, values and header values are strings (UTF-8, or base64 with `encoding=base64`), null, or any other
 * JSON value (stored as its JSON text). Without a partition, a keyed record goes to murmur2(key) mod
 * partitions (the Java client's default partitioner) and a keyless one to a round-robin partition.
 */
import { buildRecordBatch, type RecordInput } from '../../protocol/records/builder.js';
import { iterateBatches } from '../../protocol/records/batch.js';
import { errorName } from '../../protocol/generated/error-codes.js';
import type { Broker } from '../broker.js';
import { validateProduce } from '../produce-validator.js';

export type Encoding = 'utf8' | 'base64';

export interface JsonRecord {
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown> | { key: string; value: unknown }[];
  partition?: number;
  timestamp?: number;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function toBytes(v: unknown, enc: Encoding): Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return Buffer.from(v, enc);
  return Buffer.from(JSON.stringify(v), 'utf8');
}

function fromBytes(b: Buffer | null, enc: Encoding): string | null {
  return b === null ? null : b.toString(enc);
}

/** Kafka's murmur2 (seed 0x9747b28c), as its default partitioner uses it. */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ data.length) | 0;
  const n4 = data.length & ~3;
  for (let i = 0; i < n4; i += 4) {
    let k = data.readInt32LE(i);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = data.length & 3;
  if (rest === 3) h ^= data[n4 + 2] << 16;
  if (rest >= 2) h ^= data[n4 + 1] << 8;
  if (rest >= 1) {
    h ^= data[n4];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}

let roundRobin = 0;

export interface ProducedRecord {
  partition: number;
  offset: number;
}

/** Append JSON records to `topic`; all partitions are validated before anything is appended. */
export async function produceJson(
  broker: Broker,
  topic: string,
  records: JsonRecord[],
  enc: Encoding,
  onAppended?: (bytes: number, records: number) => void,
): Promise<ProducedRecord[]> {
  const meta = broker.metadata.image.topic(topic);
  if (!meta) throw new HttpError(404, 'UNKNOWN_TOPIC_OR_PARTITION', `topic ${topic} does not exist`);
  const byPartition = new Map<number, { input: RecordInput[]; positions: number[] }>();
  records.forEach((r, i) => {
    const key = toBytes(r.key, enc);
    let partition = r.partition;
    if (partition === undefined)
      partition = key !== null ? (murmur2(key) & 0x7fffffff) % meta.partitions : roundRobin++ % meta.partitions;
    if (!Number.isInteger(partition) || partition < 0 || partition >= meta.partitions) {
      throw new HttpError(
        400,
        'UNKNOWN_TOPIC_OR_PARTITION',
        `record ${i}: topic ${topic} has no partition ${partition}`,
      );
    }
    const headers = Array.isArray(r.headers)
      ? r.headers.map((h) => ({ key: String(h.key), value: toBytes(h.value, enc) }))
      : Object.entries(r.headers ?? {}).map(([k, v]) => ({ key: k, value: toBytes(v, enc) }));
    let slot = byPartition.get(partition);
    if (!slot) {
      slot = { input: [], positions: [] };
      byPartition.set(partition, slot);
    }
    slot.input.push({
      key,
      value: toBytes(r.value, enc),
      headers,
      ...(r.timestamp !== undefined ? { timestamp: r.timestamp } : {}),
    });
    slot.positions.push(i);
  });
  const now = broker.clock.now();
  const checked: { partition: number; buf: Buffer; positions: number[] }[] = [];
  for (const [partition, slot] of byPartition) {
    const log = broker.replicaManager.getPartition(topic, partition);
    if (typeof log === 'number') {
      throw new HttpError(404, 'UNKNOWN_TOPIC_OR_PARTITION', `topic ${topic} has no partition ${partition}`);
    }
    const batch = await buildRecordBatch(
      slot.input.map((r) => (r.timestamp === undefined ? { ...r, timestamp: now } : r)),
    );
    const v = await validateProduce(batch, 11, log.logConfig, now);
    if (v.errorCode !== 0) {
      const code = errorName(v.errorCode);
      throw new HttpError(code === 'MESSAGE_TOO_LARGE' ? 413 : 400, code, v.errorMessage ?? code);
    }
    checked.push({ partition, buf: v.records!, positions: slot.positions });
  }
  const out: ProducedRecord[] = new Array(records.length);
  for (const c of checked) {
    if (typeof broker.replicaManager.getPartition(topic, c.partition) === 'number') {
      throw new HttpError(404, 'UNKNOWN_TOPIC_OR_PARTITION', `topic ${topic} has no partition ${c.partition}`);
    }
    const r = await broker.replicaManager.appendRecords(topic, c.partition, c.buf, { appendTime: now });
    onAppended?.(c.buf.length, c.positions.length);
    c.positions.forEach((pos, i) => {
      out[pos] = { partition: c.partition, offset: r.baseOffset + i };
    });
  }
  return out;
}

export interface JsonReadRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
}

export interface ReadAnswer {
  topic: string;
  partition: number;
  records: JsonReadRecord[];
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

/** Up to `max` committed (below the high watermark) records from `offset`, control records left out. */
export async function readJson(
  broker: Broker,
  topic: string,
  partition: number,
  offset: number | undefined,
  max: number,
  enc: Encoding,
): Promise<ReadAnswer> {
  const log = broker.replicaManager.getPartition(topic, partition);
  if (typeof log === 'number') {
    throw new HttpError(404, 'UNKNOWN_TOPIC_OR_PARTITION', `topic ${topic} has no partition ${partition}`);
  }
  let next = offset ?? log.logStartOffset;
  if (next < log.logStartOffset || next > log.highWatermark) {
    throw new HttpError(
      416,
      'OFFSET_OUT_OF_RANGE',
      `offset ${next} is outside [${log.logStartOffset}, ${log.highWatermark}]`,
    );
  }
  const out: JsonReadRecord[] = [];
  while (out.length < max && next < log.highWatermark) {
    const r = await log.read(next, 1024 * 1024);
    if (r.errorCode !== 0 || r.records.length === 0) break;
    const before = next;
    for (const batch of iterateBatches(r.records)) {
      const batchNext = Number(batch.nextOffset);
      if (!batch.isControl) {
        for (const rec of await batch.recordsArray()) {
          const o = Number(rec.offset);
          if (o < next) continue;
          if (out.length >= max) break;
          out.push({
            offset: o,
            timestamp: Number(rec.timestamp),
            key: fromBytes(rec.key, enc),
            value: fromBytes(rec.value, enc),
            headers: rec.headers.map((h) => ({ key: h.key, value: fromBytes(h.value, enc) })),
          });
          next = o + 1;
        }
      }
      if (out.length >= max) break;
      if (batchNext > next) next = batchNext;
    }
    if (next <= before) break;
  }
  return {
    topic,
    partition,
    records: out,
    nextOffset: next,
    highWatermark: log.highWatermark,
    logStartOffset: log.logStartOffset,
  };
}
