/**
 * What the metrics keep of one handled Kafka request, reduced from the connection layer's RequestEvent
 * without prom-client: API, version, error code (first non-zero one in the response), latency, and the
 * record bytes/records appended (Produce) or sent (Fetch) per topic. Record counts come from batch headers;
 * nothing is decoded.
 *
 * The admin server feeds tallies to its RequestStats (request-stats.ts) from the start, before and after
 * fastify and prom-client load (on its first HTTP request), so no request goes uncounted.
 */
import type { RequestEvent } from '../connection.js';
import type { Broker } from '../broker.js';
import { principalName } from '../security/session.js';
import { BATCH_HEADER_SIZE, entrySize, magic, recordsCount } from '../../protocol/records/batch-header.js';

/** Records in a buffer of whole v2 batches, from the batch headers (nothing is decoded). */
export function countRecords(buf: Buffer | null | undefined): number {
  if (!buf) return 0;
  let n = 0;
  let pos = 0;
  while (pos + BATCH_HEADER_SIZE <= buf.length) {
    const size = entrySize(buf, pos);
    if (size < BATCH_HEADER_SIZE || pos + size > buf.length) break;
    if (magic(buf, pos) === 2) n += Math.max(0, recordsCount(buf, pos));
    pos += size;
  }
  return n;
}

/** First non-zero errorCode in a response (top level, then nested lists up to depth 3), else 0. */
export function responseError(res: unknown, depth = 0): number {
  if (typeof res !== 'object' || res === null || Buffer.isBuffer(res)) return 0;
  const o = res as Record<string, unknown>;
  if (typeof o.errorCode === 'number' && o.errorCode !== 0) return o.errorCode;
  if (depth >= 3) return 0;
  for (const v of Object.values(o)) {
    if (!Array.isArray(v)) continue;
    for (const item of v) {
      const e = responseError(item, depth + 1);
      if (e !== 0) return e;
    }
  }
  return 0;
}

interface ProduceReq {
  topicData: { name: string; partitionData: { index: number; records: Buffer | null }[] }[];
}
interface ProduceRes {
  responses: { name: string; partitionResponses: { index: number; errorCode: number }[] }[];
}
interface FetchRes {
  responses: { topic: string; topicId: string; partitions: { records: Buffer | null }[] }[];
}

export interface TopicFlow {
  topic: string;
  bytes: number;
  records: number;
}

export interface RequestTally {
  api: string;
  version: number;
  errorCode: number;
  seconds: number;
  /** Appended by a Produce. */
  in: TopicFlow[];
  /** Sent by a Fetch. */
  out: TopicFlow[];
  /** Client quotas: who was throttled after this request, and how long. */
  throttle?: { user: string; clientId: string; seconds: number };
}

export function tallyRequest(broker: Broker, e: RequestEvent): RequestTally {
  const t: RequestTally = {
    api: e.api,
    version: e.apiVersion,
    errorCode: responseError(e.response),
    seconds: e.durationMs / 1000,
    in: [],
    out: [],
  };
  if (e.throttleMs > 0)
    t.throttle = { user: principalName(e.principal), clientId: e.clientId, seconds: e.throttleMs / 1000 };
  if (e.apiKey === 0) {
    const req = e.request as ProduceReq;
    const res = e.response as ProduceRes | null;
    for (let i = 0; i < req.topicData.length; i++) {
      const td = req.topicData[i];
      const tr = res?.responses[i];
      for (let j = 0; j < td.partitionData.length; j++) {
        const p = td.partitionData[j];
        if (tr && tr.partitionResponses[j]?.errorCode !== 0) continue;
        if (!res && typeof broker.replicaManager.getPartition(td.name, p.index) === 'number') continue;
        t.in.push({ topic: td.name, bytes: p.records?.length ?? 0, records: countRecords(p.records) });
      }
    }
  } else if (e.apiKey === 1 && e.response) {
    for (const tr of (e.response as FetchRes).responses) {
      const topic = tr.topic || broker.metadata.image.topicById(tr.topicId)?.name;
      if (!topic) continue;
      let bytes = 0;
      let records = 0;
      for (const p of tr.partitions) {
        bytes += p.records?.length ?? 0;
        records += countRecords(p.records);
      }
      if (bytes > 0) t.out.push({ topic, bytes, records });
    }
  }
  return t;
}
