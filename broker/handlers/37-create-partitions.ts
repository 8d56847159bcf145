/**
 * CreatePartitions (key 37), versions 0-3 (v2+ flexible).
 *
 * Per topic: grow to `count` partitions. Unknown topic → UNKNOWN_TOPIC_OR_PARTITION; the same count →
 * INVALID_PARTITIONS "Topic already has N partition(s)."; fewer → INVALID_PARTITIONS (partitions are never
 * removed); a topic named twice → INVALID_REQUEST. Manual assignments, when given, must number exactly the
 * added partitions (INVALID_REPLICA_ASSIGNMENT) and place each on this node alone. validateOnly checks and
 * changes nothing. New partition logs exist when the response is sent (producible at once).
 */
import {
  decodeCreatePartitionsRequest,
  type CreatePartitionsRequest,
  type CreatePartitionsTopic,
} from '../../protocol/generated/create-partitions-request.js';
import {
  defaultCreatePartitionsResponse,
  encodeCreatePartitionsResponse,
  type CreatePartitionsResponse,
} from '../../protocol/generated/create-partitions-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { errorOf, type ApiErr } from '../topic-configs.js';
import { checkReplicas } from './19-create-topics.js';
import type { BrokerServices } from '../services.js';
import { registerHandler } from './registry.js';

async function growOne(
  { metadata, nodeId, log }: Pick<BrokerServices, 'metadata' | 'nodeId' | 'log'>,
  t: CreatePartitionsTopic,
  validateOnly: boolean,
): Promise<ApiErr | undefined> {
  const meta = metadata.image.topic(t.name);
  if (!meta) return { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `The topic '${t.name}' does not exist.` };
  const current = meta.partitions;
  if (t.count === current)
    return { code: ErrorCode.INVALID_PARTITIONS, message: `Topic already has ${current} partition(s).` };
  if (t.count < current) {
    return {
      code: ErrorCode.INVALID_PARTITIONS,
      message: `The topic ${t.name} currently has ${current} partition(s); ${t.count} would not be an increase.`,
    };
  }
  const added = t.count - current;
  if (t.assignments !== null) {
    if (t.assignments.length !== added) {
      return {
        code: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        message:
          `Attempted to add ${added} additional partition(s), ` +
          `but only ${t.assignments.length} assignment(s) were specified.`,
      };
    }
    for (const a of t.assignments) {
      const bad = checkReplicas(a.brokerIds, nodeId);
      if (bad) return bad;
    }
  }
  if (validateOnly) return undefined;
  try {
    await metadata.createPartitions(t.name, t.count);
  } catch (err) {
    return errorOf(err);
  }
  log.info({ topic: t.name, from: current, to: t.count }, 'partitions added by CreatePartitions');
  return undefined;
}

export const createPartitionsHandler = registerHandler<CreatePartitionsRequest, CreatePartitionsResponse>({
  apiKey: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  decode: decodeCreatePartitionsRequest,
  encode: encodeCreatePartitionsResponse,
  async handle(req, ctx) {
    const res = defaultCreatePartitionsResponse();
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const reported = new Set<string>();
    for (const t of req.topics) {
      let e: ApiErr | undefined;
      if (counts.get(t.name)! > 1) {
        if (reported.has(t.name)) continue;
        reported.add(t.name);
        e = { code: ErrorCode.INVALID_REQUEST, message: 'Duplicate topic name.' };
      } else {
        e = await growOne(ctx.services, t, req.validateOnly);
      }
      res.results.push({ name: t.name, errorCode: e ? e.code : ErrorCode.NONE, errorMessage: e ? e.message : null });
    }
    return res;
  },
});
