/**
 * DeleteAcls (key 31), versions 0-3 (v2+ flexible; v0 from Kafka 3.9.1's definition).
 *
 * Without an authorizer (none is configured yet) every filter gets SECURITY_DISABLED "No Authorizer is
 * configured." and no matching ACLs, as Kafka answers without `authorizer.class.name`. With one, the
 * principal needs ALTER on the CLUSTER (else every filter gets CLUSTER_AUTHORIZATION_FAILED), and each filter
 * gets the ACLs it matched and deleted (INVALID_REQUEST for an UNKNOWN element); deletions are on disk before
 * the answer.
 */
import { type DeleteAclsRequest, decodeDeleteAclsRequest } from '../../protocol/generated/delete-acls-request.js';
import {
  type DeleteAclsResponse,
  defaultDeleteAclsResponse,
  encodeDeleteAclsResponse,
} from '../../protocol/generated/delete-acls-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation, NO_AUTHORIZER } from '../authorizer.js';
import { authorizedCluster } from '../security/authorize.js';
import { CLUSTER_DENIED } from './29-describe-acls.js';
import { registerHandler } from './registry.js';

export const deleteAclsHandler = registerHandler<DeleteAclsRequest, DeleteAclsResponse>({
  apiKey: 31,
  name: 'DeleteAcls',
  minVersion: 0,
  maxVersion: 3,
  decode: decodeDeleteAclsRequest,
  encode: encodeDeleteAclsResponse,
  async handle(req, ctx) {
    const res = defaultDeleteAclsResponse();
    const { authorizer } = ctx.services;
    if (!authorizer) {
      res.filterResults = req.filters.map(() => ({
        errorCode: ErrorCode.SECURITY_DISABLED,
        errorMessage: NO_AUTHORIZER,
        matchingAcls: [],
      }));
      return res;
    }
    if (!authorizedCluster(ctx, AclOperation.ALTER)) {
      res.filterResults = req.filters.map(() => ({
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: CLUSTER_DENIED,
        matchingAcls: [],
      }));
      return res;
    }
    const results = await authorizer.deleteAcls(
      req.filters.map((f) => ({
        resourceType: f.resourceTypeFilter,
        resourceName: f.resourceNameFilter,
        patternType: f.patternTypeFilter,
        principal: f.principalFilter,
        host: f.hostFilter,
        operation: f.operation,
        permissionType: f.permissionType,
      })),
    );
    res.filterResults = results.map((r) => ({
      errorCode: r.code,
      errorMessage: r.message,
      matchingAcls: r.deleted.map(({ binding: b, error }) => ({
        errorCode: error.code,
        errorMessage: error.message,
        resourceType: b.resourceType,
        resourceName: b.resourceName,
        patternType: b.patternType,
        principal: b.principal,
        host: b.host,
        operation: b.operation,
        permissionType: b.permissionType,
      })),
    }));
    return res;
  },
});
