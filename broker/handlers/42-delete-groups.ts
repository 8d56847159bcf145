/**
 * DeleteGroups (key 42), versions 0-2 (v2 flexible).
 *
 * Per group: GROUP_ID_NOT_FOUND when unknown, NON_EMPTY_GROUP while it has members, INVALID_GROUP_ID for
 * an empty id; otherwise tombstones for all its offsets and its metadata are written to
 * __consumer_offsets before the group is dropped (so the deletion survives a restart).
 * Authorization (Kafka's KafkaApis): DELETE on each group, else that group answers GROUP_AUTHORIZATION_FAILED and
 * is not deleted.
 */
import { decodeDeleteGroupsRequest, type DeleteGroupsRequest } from '../../protocol/generated/delete-groups-request.js';
import {
  defaultDeleteGroupsResponse,
  encodeDeleteGroupsResponse,
  type DeleteGroupsResponse,
} from '../../protocol/generated/delete-groups-response.js';
import { deleteGroups } from '../groups/offsets.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { filterAuthorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const deleteGroupsHandler = registerHandler<DeleteGroupsRequest, DeleteGroupsResponse>({
  apiKey: 42,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 2,
  decode: decodeDeleteGroupsRequest,
  encode: encodeDeleteGroupsResponse,
  async handle(req, ctx) {
    const { groups } = ctx.services;
    const res = defaultDeleteGroupsResponse();
    const deletable = filterAuthorized(ctx, AclOperation.DELETE, AclResourceType.GROUP, req.groupsNames);
    const results = await deleteGroups(
      groups,
      req.groupsNames.filter((g) => deletable.has(g)),
    );
    let i = 0;
    res.results = req.groupsNames.map((groupId) =>
      deletable.has(groupId) ? results[i++]! : { groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED },
    );
    return res;
  },
});
