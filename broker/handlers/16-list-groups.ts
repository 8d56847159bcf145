/**
 * ListGroups (key 16), versions 0-5 (v3+ flexible). v4 adds the states filter (case-insensitive;
 * empty = all) and the group state in the answer; v5 the types filter and group type: "classic", or
 * "consumer" for KIP-848 groups (ConsumerGroupHeartbeat). Dead groups are never listed.
 * Authorization (Kafka's KafkaApis): DESCRIBE on the CLUSTER lists every group, else only the groups the client
 * may DESCRIBE (the others are left out, no error).
 */
import { decodeListGroupsRequest, type ListGroupsRequest } from '../../protocol/generated/list-groups-request.js';
import {
  defaultListGroupsResponse,
  encodeListGroupsResponse,
  type ListGroupsResponse,
} from '../../protocol/generated/list-groups-response.js';
import { listGroups } from '../groups/offsets.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorizedCluster, filterAuthorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const listGroupsHandler = registerHandler<ListGroupsRequest, ListGroupsResponse>({
  apiKey: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 5,
  decode: decodeListGroupsRequest,
  encode: encodeListGroupsResponse,
  handle(req, ctx) {
    const { groups } = ctx.services;
    const v = ctx.apiVersion;
    const r = listGroups(groups, v >= 4 ? req.statesFilter : [], v >= 5 ? req.typesFilter : []);
    const res = defaultListGroupsResponse();
    res.errorCode = r.errorCode;
    // DESCRIBE on the CLUSTER lists every group; otherwise only the groups the client may DESCRIBE.
    const listed = authorizedCluster(ctx, AclOperation.DESCRIBE, false)
      ? r.groups
      : (() => {
          const allowed = filterAuthorized(
            ctx,
            AclOperation.DESCRIBE,
            AclResourceType.GROUP,
            r.groups.map((g) => g.groupId),
            false,
          );
          return r.groups.filter((g) => allowed.has(g.groupId));
        })();
    res.groups = listed.map((g) => ({
      groupId: g.groupId,
      protocolType: g.protocolType,
      groupState: g.state,
      groupType: g.type,
    }));
    return res;
  },
});
