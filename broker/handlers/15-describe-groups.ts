/**
 * DescribeGroups (key 15), versions 0-5 (v5 flexible; v3+ authorized operations; v4+ group.instance.id).
 *
 * Unknown groups are reported in state "Dead" with no error, as Kafka's classic coordinator does (the v6
 * GROUP_ID_NOT_FOUND form is not advertised). Member metadata, assignments and the protocol name are given
 * only while the group is Stable. Authorized operations are not computed (-2147483648).
 */
import { decodeDescribeGroupsRequest, type DescribeGroupsRequest } from '../../protocol/generated/describe-groups-request.js';
import {
  defaultDescribeGroupsResponse,
  encodeDescribeGroupsResponse,
  type DescribeGroupsResponse,
} from '../../protocol/generated/describe-groups-response.js';
import type { Broker } from '../broker.js';
import { describeGroup } from '../groups/offsets.js';
import { registerHandler } from './registry.js';

const NO_OPERATIONS = -2147483648;

export const describeGroupsHandler = registerHandler<DescribeGroupsRequest, DescribeGroupsResponse>({
  apiKey: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 5,
  decode: decodeDescribeGroupsRequest,
  encode: encodeDescribeGroupsResponse,
  handle(req, ctx) {
    const broker = ctx.broker as Broker;
    const res = defaultDescribeGroupsResponse();
    for (const id of req.groups) {
      const d = describeGroup(broker.groups, id);
      res.groups.push({
        errorCode: d.errorCode,
        errorMessage: null,
        groupId: d.groupId,
        groupState: d.state,
        protocolType: d.protocolType,
        protocolData: d.protocol,
        authorizedOperations: NO_OPERATIONS,
        members: d.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.metadata,
          memberAssignment: m.assignment,
        })),
      });
    }
    return res;
  },
});
