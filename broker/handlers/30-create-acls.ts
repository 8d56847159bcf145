/**
 * CreateAcls (key 30), versions 0-3 (v2+ flexible; v0 from Kafka 3.9.1's definition).
 *
 * Without an authorizer (none is configured yet) every creation gets SECURITY_DISABLED "No Authorizer is
 * configured.", as Kafka answers without `authorizer.class.name`. With one, the principal needs ALTER on the
 * CLUSTER (else every creation gets CLUSTER_AUTHORIZATION_FAILED), and each creation gets the authorizer's
 * result, in request order (INVALID_REQUEST for an invalid ACL); the ACLs are on disk before the answer.
 */
import { type CreateAclsRequest, decodeCreateAclsRequest } from '../../protocol/generated/create-acls-request.js';
import {
  type CreateAclsResponse,
  defaultCreateAclsResponse,
  encodeCreateAclsResponse,
} from '../../protocol/generated/create-acls-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation, NO_AUTHORIZER } from '../authorizer.js';
import { authorizedCluster } from '../security/authorize.js';
import { CLUSTER_DENIED } from './29-describe-acls.js';
import { registerHandler } from './registry.js';

export const createAclsHandler = registerHandler<CreateAclsRequest, CreateAclsResponse>({
  apiKey: 30,
  name: 'CreateAcls',
  minVersion: 0,
  maxVersion: 3,
  decode: decodeCreateAclsRequest,
  encode: encodeCreateAclsResponse,
  async handle(req, ctx) {
    const res = defaultCreateAclsResponse();
    const { authorizer } = ctx.services;
    if (!authorizer) {
      res.results = req.creations.map(() => ({ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER }));
      return res;
    }
    if (!authorizedCluster(ctx, AclOperation.ALTER)) {
      res.results = req.creations.map(() => ({
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: CLUSTER_DENIED,
      }));
      return res;
    }
    const results = await authorizer.createAcls(
      req.creations.map((c) => ({
        resourceType: c.resourceType,
        resourceName: c.resourceName,
        patternType: c.resourcePatternType,
        principal: c.principal,
        host: c.host,
        operation: c.operation,
        permissionType: c.permissionType,
      })),
    );
    res.results = results.map((r) => ({ errorCode: r.code, errorMessage: r.message }));
    return res;
  },
});
