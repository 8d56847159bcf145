/**
 * DescribeGroups (key 15), versions 0-6 (v5 flexible; v3+ authorized operations; v4+ group.instance.id).
 *
 * Unknown groups (and KIP-848 consumer groups, which ConsumerGroupDescribe describes) are reported in state
 * "Dead" with no error up to v5, as Kafka's classic coordinator does; v6 answers GROUP_ID_NOT_FOUND with an
 * error message instead (KIP-1043). Member metadata, assignments and the protocol name are given
 * only while the group is Stable.
 * Authorization (Kafka's KafkaApis): DESCRIBE on each group, else that group answers GROUP_AUTHORIZATION_FAILED
 * with empty state, protocol and members. v3+ includeAuthorizedOperations: the group's allowed operations
 * among READ, DESCRIBE, DELETE as a bit field (all of them without an authorizer), else -2147483648.
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
import { AclOperation, AclResourceType } from '../authorizer.js';
import { AUTHORIZED_OPERATIONS_OMITTED, authorized, authorizedOperations } from '../security/authorize.js';
import { registerHandler } from './registry.js';

/** The operations a GROUP supports (Kafka's AclEntry.supportedOperations), for authorizedOperations. */
const GROUP_OPERATIONS = [AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE];

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
      if (!authorized(ctx, AclOperation.DESCRIBE, AclResourceType.GROUP, id)) {
        res.groups.push({
          errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
          errorMessage: null,
          groupId: id,
          groupState: '',
          protocolType: '',
          protocolData: '',
          authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
          members: [],
        });
        continue;
      }
      const d = describeGroup(groups, id);
      const notFound = ctx.apiVersion >= 6 && d.notFound !== undefined;
      res.groups.push({
        errorCode: notFound ? ErrorCode.GROUP_ID_NOT_FOUND : d.errorCode,
        errorMessage: notFound ? d.notFound! : null,
        groupId: d.groupId,
        groupState: d.state,
        protocolType: d.protocolType,
        protocolData: d.protocol,
        authorizedOperations:
          ctx.apiVersion >= 3 && req.includeAuthorizedOperations
            ? authorizedOperations(ctx, AclResourceType.GROUP, id, GROUP_OPERATIONS)
            : AUTHORIZED_OPERATIONS_OMITTED,
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
