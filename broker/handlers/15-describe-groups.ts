/**
 * DescribeGroups (key 15), versions 0-6 (v5 flexible; v3+ authorized operations; v4+ group.instance.id).
 *
 * Unknown groups (and KIP-848 consumer groups, which ConsumerGroupDescribe describes) are reported in state
 * "Dead" with no error up to v5, as Kafka's classic coordinator does; v6 answers GROUP_ID_NOT_FOUND with an
 * error message instead (KIP-1043). Member metadata, assignments and the protocol name are given
 * only while the group is Stable. Authorized operations are not computed (-2147483648).
 */
import {
  decodeDescribeGroupsRequest,
  type DescribeGroupsRequest,
} from '../../protocol/generated/describe-groups-request.js';
import {
  defaultDescribeGroupsResponse,
  encodeDescribeGroupsResponse,
  type DescribeGroupsResponse,
} from '../../protocol/generated/describe-groups-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { describeGroup } from '../groups/offsets.js';
import { registerHandler } from './registry.js';

const NO_OPERATIONS = -2147483648;

export const describeGroupsHandler = registerHandler<DescribeGroupsRequest, DescribeGroupsResponse>({
  apiKey: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 6,
  decode: decodeDescribeGroupsRequest,
  encode: encodeDescribeGroupsResponse,
  handle(req, ctx) {
    const { groups } = ctx.services;
    const res = defaultDescribeGroupsResponse();
    for (const id of req.groups) {
      const d = describeGroup(groups, id);
      const notFound = ctx.apiVersion >= 6 && d.notFound !== undefined;
      res.groups.push({
        errorCode: notFound ? ErrorCode.GROUP_ID_NOT_FOUND : d.errorCode,
        errorMessage: notFound ? d.notFound! : null,
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
