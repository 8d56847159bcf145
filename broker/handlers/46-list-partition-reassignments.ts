/**
 * ListPartitionReassignments (key 46), version 0 (flexible).
 *
 * No reassignment is ever in progress on one node (AlterPartitionReassignments only accepts the current
 * replica set), so the answer lists no topics, for a null topic list (all) and for named topics alike;
 * Kafka skips unknown topics in the list without an error.
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
  handle() {
    const res = defaultListPartitionReassignmentsResponse();
    res.errorMessage = null; // Kafka sets it to null explicitly
    res.topics = [];
    return res;
  },
});
