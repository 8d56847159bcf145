/**
 * InitProducerId (key 22), versions 0-5 (v2+ flexible). v6 (KIP-939 two-phase commit, unstable) is not
 * implemented; v5 only tells the broker that the client understands TRANSACTION_ABORTABLE (KIP-890
 * part 1), which changes nothing here.
 *
 * - transactionalId null (idempotent producer): a new producer id from the producer-id service (unique
 *   across restarts) with epoch 0. As in Kafka, a producerId/epoch sent along (v3+, KIP-360) does not
 *   change that: the broker always hands out a fresh id; clients bump idempotent epochs themselves.
 * - transactionalId set: delegated to the transaction coordinator (`transactions`), which fences
 *   earlier producers by bumping the epoch.
 * - producerId and producerEpoch must both be -1 or both be set (else INVALID_REQUEST), as Kafka checks.
 * - PRODUCER_FENCED (added in v4) is answered as INVALID_PRODUCER_EPOCH to v0-3 clients.
 * Authorization (Kafka's KafkaApis): with a transactional id, WRITE on it, else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED; without (idempotence), IDEMPOTENT_WRITE on the CLUSTER or (KIP-679)
 * WRITE on some topic, else CLUSTER_AUTHORIZATION_FAILED. A denied request allocates no producer id.
 */
import {
  decodeInitProducerIdRequest,
  type InitProducerIdRequest,
} from '../../protocol/generated/init-producer-id-request.js';
import {
  defaultInitProducerIdResponse,
  encodeInitProducerIdResponse,
  type InitProducerIdResponse,
} from '../../protocol/generated/init-producer-id-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized, authorizedByResourceType, authorizedCluster } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const initProducerIdHandler = registerHandler<InitProducerIdRequest, InitProducerIdResponse>({
  apiKey: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 5,
  decode: decodeInitProducerIdRequest,
  encode: encodeInitProducerIdResponse,
  async handle(req, ctx) {
    const { producerIds, transactions } = ctx.services;
    const res = defaultInitProducerIdResponse();
    res.producerEpoch = -1;
    const fail = (code: number): InitProducerIdResponse => {
      res.errorCode =
        code === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 4 ? ErrorCode.INVALID_PRODUCER_EPOCH : code;
      res.producerId = -1n;
      res.producerEpoch = -1;
      return res;
    };
    const pid = Number(req.producerId);
    if (req.transactionalId !== null) {
      if (!authorized(ctx, AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, req.transactionalId)) {
        return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      }
    } else if (
      !authorizedCluster(ctx, AclOperation.IDEMPOTENT_WRITE, false) &&
      !authorizedByResourceType(
        ctx,
        AclOperation.WRITE,
        AclResourceType.TOPIC,
        ctx.services.metadata.image.topics().map((t) => t.name),
      )
    ) {
      return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    }
    if ((pid === -1) !== (req.producerEpoch === -1)) return fail(ErrorCode.INVALID_REQUEST);
    if (req.transactionalId === null) {
      try {
        res.producerId = BigInt(await producerIds.allocate());
        res.producerEpoch = 0;
        return res;
      } catch (err) {
        ctx.log.error({ err }, 'producer id allocation failed');
        return fail(ErrorCode.UNKNOWN_SERVER_ERROR);
      }
    }
    const r = await transactions.initProducerId({
      transactionalId: req.transactionalId,
      transactionTimeoutMs: req.transactionTimeoutMs,
      producerId: pid,
      producerEpoch: req.producerEpoch,
    });
    if (r.errorCode !== ErrorCode.NONE) return fail(r.errorCode);
    res.producerId = BigInt(r.producerId);
    res.producerEpoch = r.producerEpoch;
    return res;
  },
});
