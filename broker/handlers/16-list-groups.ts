/**
 * ListGroups (key 16), versions 0-5 (v3+ flexible). v4 adds the states filter (case-insensitive;
 * empty = all) and the group state in the answer; v5 the types filter and group type: "classic", or
 * "consumer" for KIP-848 groups (ConsumerGroupHeartbeat). Dead groups are never listed.
 */
import { decodeListGroupsRequest, type ListGroupsRequest } from '../../protocol/generated/list-groups-request.js';
import {
  defaultListGroupsResponse,
  encodeListGroupsResponse,
  type ListGroupsResponse,
} from '../../protocol/generated/list-groups-response.js';
import { listGroups } from '../groups/offsets.js';
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
    res.groups = r.groups.map((g) => ({
      groupId: g.groupId,
      protocolType: g.protocolType,
      groupState: g.state,
      groupType: g.type,
    }));
    return res;
  },
});
