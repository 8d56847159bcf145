/**
 * AlterUserScramCredentials (key 51), version 0 (flexible).
 *
 * Deletes and upserts SCRAM credentials in the stored set (replication/metadata/scram-credentials.ts: salt,
 * StoredKey, ServerKey and iterations from the client's salt and salted password; durable before the response
 * is sent), one result per user, with Kafka's validation (ScramControlManager): empty name →
 * UNACCEPTABLE_CREDENTIAL; unknown mechanism → UNSUPPORTED_SASL_MECHANISM; iterations outside 4096..16384 →
 * UNACCEPTABLE_CREDENTIAL; deleting a missing credential → RESOURCE_NOT_FOUND; a user named more than once →
 * DUPLICATE_RESOURCE. A storage failure answers KAFKA_STORAGE_ERROR for every user.
 * Authorization (Kafka's ControllerApis): ALTER on the CLUSTER; denied → CLUSTER_AUTHORIZATION_FAILED for every
 * user named (once each, sorted, as Kafka's error response) and nothing is stored.
 */
import {
  type AlterUserScramCredentialsRequest,
  decodeAlterUserScramCredentialsRequest,
} from '../../protocol/generated/alter-user-scram-credentials-request.js';
import {
  type AlterUserScramCredentialsResponse,
  defaultAlterUserScramCredentialsResponse,
  encodeAlterUserScramCredentialsResponse,
} from '../../protocol/generated/alter-user-scram-credentials-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation } from '../authorizer.js';
import { authorizedCluster, deniedMessage } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const alterUserScramCredentialsHandler = registerHandler<
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse
>({
  apiKey: 51,
  name: 'AlterUserScramCredentials',
  minVersion: 0,
  maxVersion: 0,
  decode: decodeAlterUserScramCredentialsRequest,
  encode: encodeAlterUserScramCredentialsResponse,
  async handle(req, ctx) {
    const { scramCredentials } = ctx.services;
    const res = defaultAlterUserScramCredentialsResponse();
    if (!authorizedCluster(ctx, AclOperation.ALTER)) {
      const users = [...new Set([...req.deletions, ...req.upsertions].map((u) => u.name))].sort();
      res.results = users.map((user) => ({
        user,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: deniedMessage(ErrorCode.CLUSTER_AUTHORIZATION_FAILED),
      }));
      return res;
    }
    try {
      const results = await scramCredentials.alter(req.deletions, req.upsertions);
      res.results = results.map((r) => ({ user: r.user, errorCode: r.code, errorMessage: r.message }));
    } catch (err) {
      ctx.log.error({ err }, 'storing SCRAM credentials failed');
      const message = `Failed to store SCRAM credentials: ${(err as Error).message}`;
      const users = new Set([...req.deletions, ...req.upsertions].map((u) => u.name));
      res.results = [...users].map((user) => ({
        user,
        errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
        errorMessage: message,
      }));
    }
    return res;
  },
});
