/**
 * ListPartitionReassignments (key 46), version 0 (flexible).
 *
 * The reassignments in progress (replication/reassignment.ts), from this node's metadata image: for a null
 * topic list every one, else those of the named partitions; each with its full replica set (target first,
 * then the replicas being removed), the replicas being added and those being removed. As Kafka, unknown topics
 * and partitions without a reassignment are left out without an error. A single node never has one in
 * progress (AlterPartitionReassignments only accepts its current replica set there), so it lists none.
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
