/**
 * AlterPartitionReassignments (key 45), versions 0-1 (flexible; v1 adds allowReplicationFactorChange,
 * KIP-860).
 *
 * Per partition, in request order, through replication/reassignment.ts (Kafka's controller rules, KIP-455):
 * a target replica list starts a reassignment (or replaces the running one): replicas = target + the original
 * replicas it drops, adding / removing recorded in the partition state (a compare-and-swap on the partition
 * epoch); the new replicas follow the leader and, once all are in the ISR, the controller completes it. Null
 * replicas cancel the running one (back to the original replicas). Errors: UNKNOWN_TOPIC_OR_PARTITION;
 * INVALID_REPLICA_ASSIGNMENT (empty list, a broker twice, an unregistered broker, a cancel that would need an
 * unclean election); INVALID_REPLICATION_FACTOR (size change with allowReplicationFactorChange false);
 * NO_REASSIGNMENT_IN_PROGRESS (cancel of none); REQUEST_TIMED_OUT for the partitions not written within
 * timeoutMs (a write may still land, as with Kafka's timed-out admin requests). On a single node the only
 * registered broker is this one, so the only valid target, [this node], is the current replica set: a no-op.
 * Authorization (Kafka's ControllerApis): ALTER on the CLUSTER; denied → CLUSTER_AUTHORIZATION_FAILED top level
 * and for every named partition, and nothing is reassigned.
 */
import {
  type AlterPartitionReassignmentsRequest,
  decodeAlterPartitionReassignmentsRequest,
} from '../../protocol/generated/alter-partition-reassignments-request.js';
import {
  type AlterPartitionReassignmentsResponse,
  defaultAlterPartitionReassignmentsResponse,
  encodeAlterPartitionReassignmentsResponse,
} from '../../protocol/generated/alter-partition-reassignments-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { alterReassignment, type ReassignmentError } from '../../replication/reassignment.js';
import type { Clock } from '../../storage/clock.js';
import { AclOperation } from '../authorizer.js';
import { authorizedCluster, deniedMessage } from '../security/authorize.js';
import { registerHandler } from './registry.js';

const TIMED_OUT = Symbol('timed out');

/** `p`, or TIMED_OUT once `deadline` (clock ms) passed first. */
async function before<T>(clock: Clock, p: Promise<T>, deadline: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const late = new Promise<typeof TIMED_OUT>((r) => {
    timer = clock.setTimeout(() => r(TIMED_OUT), Math.max(0, deadline - clock.now()));
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clock.clearTimeout(timer);
  }
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
  async handle(req, ctx) {
    const { metadata, clock } = ctx.services;
    const res = defaultAlterPartitionReassignmentsResponse();
    res.errorMessage = null; // Kafka sets it to null explicitly
    res.allowReplicationFactorChange = req.allowReplicationFactorChange;
    if (!authorizedCluster(ctx, AclOperation.ALTER)) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      const errorMessage = deniedMessage(errorCode);
      res.errorCode = errorCode;
      res.errorMessage = errorMessage;
      res.responses = req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode, errorMessage })),
      }));
      return res;
    }
    const deadline = clock.now() + Math.max(0, req.timeoutMs);
    for (const t of req.topics) {
      const partitions = [];
      for (const p of t.partitions) {
        let e: ReassignmentError | undefined = {
          code: ErrorCode.REQUEST_TIMED_OUT,
          message: 'The request timed out.',
        };
        if (clock.now() < deadline) {
          const r = await before(
            clock,
            alterReassignment(metadata, t.name, p.partitionIndex, p.replicas, req.allowReplicationFactorChange),
            deadline,
          );
          if (r !== TIMED_OUT) e = r;
        }
        partitions.push({
          partitionIndex: p.partitionIndex,
          errorCode: e?.code ?? ErrorCode.NONE,
          errorMessage: e?.message ?? null,
        });
      }
      res.responses.push({ name: t.name, partitions });
    }
    return res;
  },
});
