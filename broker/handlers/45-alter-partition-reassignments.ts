/**
 * AlterPartitionReassignments (key 45), versions 0-1 (flexible; v1 adds allowReplicationFactorChange,
 * KIP-860).
 *
 * Per partition, as Kafka's ReplicationControlManager answers on a one-broker cluster: an unknown topic or
 * partition → UNKNOWN_TOPIC_OR_PARTITION; null replicas (cancel) → NO_REASSIGNMENT_IN_PROGRESS, since no
 * reassignment is ever in progress; a replica list that is empty, names a broker twice or names a broker
 * other than this node → INVALID_REPLICA_ASSIGNMENT; with allowReplicationFactorChange false, a list whose
 * size differs from the current replica set → INVALID_REPLICATION_FACTOR. The only valid target, [this
 * node], is the current replica set: accepted as a no-op (NONE).
 */
import {
  type AlterPartitionReassignmentsRequest,
  type AlterPartitionReassignmentsRequestReassignablePartition,
  decodeAlterPartitionReassignmentsRequest,
} from '../../protocol/generated/alter-partition-reassignments-request.js';
import {
  type AlterPartitionReassignmentsResponse,
  defaultAlterPartitionReassignmentsResponse,
  encodeAlterPartitionReassignmentsResponse,
} from '../../protocol/generated/alter-partition-reassignments-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { ApiErr } from '../topic-configs.js';
import { checkReplicas } from './19-create-topics.js';
import type { BrokerServices } from '../services.js';
import { registerHandler } from './registry.js';

function reassignOne(
  { metadata, nodeId }: Pick<BrokerServices, 'metadata' | 'nodeId'>,
  topic: string,
  p: AlterPartitionReassignmentsRequestReassignablePartition,
  allowRfChange: boolean,
): ApiErr | undefined {
  const meta = metadata.image.topic(topic);
  if (!meta) return { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `Unable to find a topic named ${topic}.` };
  if (p.partitionIndex < 0 || p.partitionIndex >= meta.partitions) {
    return {
      code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      message: `Unable to find partition ${topic}:${p.partitionIndex}.`,
    };
  }
  if (p.replicas === null) {
    return { code: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, message: 'No partition reassignment is in progress.' };
  }
  const bad = checkReplicas(p.replicas, nodeId);
  if (bad) return bad;
  const current = 1; // this node alone
  if (!allowRfChange && p.replicas.length !== current) {
    return {
      code: ErrorCode.INVALID_REPLICATION_FACTOR,
      message: `The replication factor is changed from ${current} to ${p.replicas.length}`,
    };
  }
  return undefined; // the target is the current replica set: nothing to move
}

export const alterPartitionReassignmentsHandler = registerHandler<
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse
>({
  apiKey: 45,
  name: 'AlterPartitionReassignments',
  minVersion: 0,
  maxVersion: 1,
  decode: decodeAlterPartitionReassignmentsRequest,
  encode: encodeAlterPartitionReassignmentsResponse,
  handle(req, ctx) {
    const res = defaultAlterPartitionReassignmentsResponse();
    res.errorMessage = null; // Kafka sets it to null explicitly
    res.allowReplicationFactorChange = req.allowReplicationFactorChange;
    res.responses = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const e = reassignOne(ctx.services, t.name, p, req.allowReplicationFactorChange);
        return {
          partitionIndex: p.partitionIndex,
          errorCode: e?.code ?? ErrorCode.NONE,
          errorMessage: e?.message ?? null,
        };
      }),
    }));
    return res;
  },
});
