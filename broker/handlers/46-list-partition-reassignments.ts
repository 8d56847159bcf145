/**
 * ListPartitionReassignments (key 46), version 0 (flexible).
 *
 * The reassignments in progress (replication/reassignment.ts), from this node's metadata image: for a null
 * topic list every one, else those of the named partitions; each with its full replica set (target first,
 * then the replicas being removed), the replicas being added and those being removed. As Kafka, unknown topics
 * and partitions without a reassignment are left out without an error. A single node never has one in
 * progress (AlterPartitionReassignments only accepts its current replica set there), so it lists none.
 * Authorization (Kafka's KafkaApis): DESCRIBE on the CLUSTER, else a top-level CLUSTER_AUTHORIZATION_FAILED and
 * no topics.
 */
import {
  decodeListPartitionReassignmentsRequest,
  type ListPartitionReassignmentsRequest,
} from '../../protocol/generated/list-partition-reassignments-request.js';
import {
  defaultListPartitionReassignmentsResponse,
  encodeListPartitionReassignmentsResponse,
  type ListPartitionReassignmentsResponse,
} from '../../protocol/generated/list-partition-reassignments-response.js';
import { listReassignments } from '../../replication/reassignment.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation } from '../authorizer.js';
import { authorizedCluster, deniedMessage } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const listPartitionReassignmentsHandler = registerHandler<
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse
>({
  apiKey: 46,
  name: 'ListPartitionReassignments',
  minVersion: 0,
  maxVersion: 0,
  decode: decodeListPartitionReassignmentsRequest,
  encode: encodeListPartitionReassignmentsResponse,
  handle(req, ctx) {
    const res = defaultListPartitionReassignmentsResponse();
    res.errorMessage = null; // Kafka sets it to null explicitly
    if (!authorizedCluster(ctx, AclOperation.DESCRIBE)) {
      res.errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      res.errorMessage = deniedMessage(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      return res;
    }
    res.topics = listReassignments(ctx.services.metadata.image, req.topics).map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partition,
        replicas: p.replicas,
        addingReplicas: p.addingReplicas,
        removingReplicas: p.removingReplicas,
      })),
    }));
    return res;
  },
});
