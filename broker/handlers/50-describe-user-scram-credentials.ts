/**
 * DescribeUserScramCredentials (key 50), version 0 (flexible).
 *
 * The mechanisms and iteration counts of the stored SCRAM credentials (replication/metadata/
 * scram-credentials.ts; never the salt or keys), as Kafka's ScramImage.describe answers. A null or empty user
 * list means every user with a credential. Per user: none stored → RESOURCE_NOT_FOUND; named twice →
 * DUPLICATE_RESOURCE (one result). The top-level error code is NONE.
 * Authorization (Kafka's KafkaApis): DESCRIBE on the CLUSTER, else a top-level CLUSTER_AUTHORIZATION_FAILED and
 * no credentials.
 */
import {
  type DescribeUserScramCredentialsRequest,
  decodeDescribeUserScramCredentialsRequest,
} from '../../protocol/generated/describe-user-scram-credentials-request.js';
import {
  type DescribeUserScramCredentialsResponse,
  defaultDescribeUserScramCredentialsResponse,
  encodeDescribeUserScramCredentialsResponse,
} from '../../protocol/generated/describe-user-scram-credentials-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation } from '../authorizer.js';
import { authorizedCluster, deniedMessage } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const describeUserScramCredentialsHandler = registerHandler<
  DescribeUserScramCredentialsRequest,
  DescribeUserScramCredentialsResponse
>({
  apiKey: 50,
  name: 'DescribeUserScramCredentials',
  minVersion: 0,
  maxVersion: 0,
  decode: decodeDescribeUserScramCredentialsRequest,
  encode: encodeDescribeUserScramCredentialsResponse,
  handle(req, ctx) {
    const { scramCredentials } = ctx.services;
    const res = defaultDescribeUserScramCredentialsResponse();
    if (!authorizedCluster(ctx, AclOperation.DESCRIBE)) {
      res.errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      res.errorMessage = deniedMessage(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      return res;
    }
    const users = req.users === null ? null : req.users.map((u) => u.name);
    res.results = scramCredentials.describe(users).map((r) => ({
      user: r.user,
      errorCode: r.code,
      errorMessage: r.message,
      credentialInfos: r.credentials,
    }));
    return res;
  },
});
