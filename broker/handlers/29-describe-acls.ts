/**
 * DescribeAcls (key 29), versions 0-3 (v2+ flexible; v0 from Kafka 3.9.1's definition, literal patterns only).
 *
 * Without an authorizer (none is configured yet) the whole response is SECURITY_DISABLED "No Authorizer is
 * configured.", as Kafka answers without `authorizer.class.name`. With one, the principal needs DESCRIBE on
 * the CLUSTER (else CLUSTER_AUTHORIZATION_FAILED), and the ACLs matching the filter are answered grouped by
 * resource pattern; a filter with an UNKNOWN element is INVALID_REQUEST.
 */
import { type DescribeAclsRequest, decodeDescribeAclsRequest } from '../../protocol/generated/describe-acls-request.js';
import {
  type DescribeAclsResponse,
  defaultDescribeAclsResponse,
  encodeDescribeAclsResponse,
} from '../../protocol/generated/describe-acls-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { RunnelError } from '../../protocol/errors.js';
import { AclOperation, NO_AUTHORIZER } from '../authorizer.js';
import { authorizedCluster } from '../security/authorize.js';
import { registerHandler } from './registry.js';

/** The message of a request denied for want of a CLUSTER permission. */
export const CLUSTER_DENIED = 'Cluster authorization failed.';

export const describeAclsHandler = registerHandler<DescribeAclsRequest, DescribeAclsResponse>({
  apiKey: 29,
  name: 'DescribeAcls',
  minVersion: 0,
  maxVersion: 3,
  decode: decodeDescribeAclsRequest,
  encode: encodeDescribeAclsResponse,
  async handle(req, ctx) {
    const res = defaultDescribeAclsResponse();
    const { authorizer } = ctx.services;
    if (!authorizer) {
      res.errorCode = ErrorCode.SECURITY_DISABLED;
      res.errorMessage = NO_AUTHORIZER;
      return res;
    }
    if (!authorizedCluster(ctx, AclOperation.DESCRIBE)) {
      res.errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      res.errorMessage = CLUSTER_DENIED;
      return res;
    }
    try {
      const acls = await authorizer.acls({
        resourceType: req.resourceTypeFilter,
        resourceName: req.resourceNameFilter,
        patternType: req.patternTypeFilter,
        principal: req.principalFilter,
        host: req.hostFilter,
        operation: req.operation,
        permissionType: req.permissionType,
      });
      const byResource = new Map<string, DescribeAclsResponse['resources'][number]>();
      for (const a of acls) {
        const key = JSON.stringify([a.resourceType, a.resourceName, a.patternType]);
        let r = byResource.get(key);
        if (!r) {
          r = { resourceType: a.resourceType, resourceName: a.resourceName, patternType: a.patternType, acls: [] };
          byResource.set(key, r);
        }
        r.acls.push({ principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType });
      }
      res.resources = [...byResource.values()];
    } catch (err) {
      res.errorCode = err instanceof RunnelError && err.kafkaCode >= 0 ? err.kafkaCode : ErrorCode.UNKNOWN_SERVER_ERROR;
      res.errorMessage = (err as Error).message;
    }
    return res;
  },
});
