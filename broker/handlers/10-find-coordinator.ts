/**
 * FindCoordinator (key 10), versions 0-6 (v3+ flexible; v4+ batched `coordinatorKeys`).
 *
 * Single node: this broker coordinates every group (key type 0) and every transactional id (key type 1),
 * so the answer is always this node, at its endpoint in the metadata image; other key types get
 * INVALID_REQUEST. A group lookup creates the internal `__consumer_offsets` topic if it does not exist yet,
 * as Kafka does. COORDINATOR_NOT_AVAILABLE is answered only before this node registered its listener in
 * the metadata image (loading is reported by the group APIs themselves). v0 has no error message field;
 * errors below v4 are reported at the top level.
 */
import {
  decodeFindCoordinatorRequest,
  type FindCoordinatorRequest,
} from '../../protocol/generated/find-coordinator-request.js';
import {
  defaultFindCoordinatorResponse,
  encodeFindCoordinatorResponse,
  type FindCoordinatorResponse,
} from '../../protocol/generated/find-coordinator-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { OffsetsTopicLog } from '../groups/offsets-log.js';
import { registerHandler } from './registry.js';

const GROUP = 0;
const TRANSACTION = 1;

export const findCoordinatorHandler = registerHandler<FindCoordinatorRequest, FindCoordinatorResponse>({
  apiKey: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 6,
  decode: decodeFindCoordinatorRequest,
  encode: encodeFindCoordinatorResponse,
  async handle(req, ctx) {
    const { metadata, nodeId } = ctx.services;
    const endpoint = metadata.image.endpoint(nodeId);
    const res = defaultFindCoordinatorResponse();
    const known = req.keyType === GROUP || req.keyType === TRANSACTION;
    if (known && req.keyType === GROUP) {
      try {
        await new OffsetsTopicLog(ctx.services).ensureTopic();
      } catch (err) {
        ctx.log.warn({ err: (err as Error).message }, 'creating __consumer_offsets failed');
      }
    }
    // No endpoint: this node is not registered yet (only between its listener binding and registering).
    const found = known && endpoint !== undefined;
    const errorCode = found ? ErrorCode.NONE : known ? ErrorCode.COORDINATOR_NOT_AVAILABLE : ErrorCode.INVALID_REQUEST;
    const errorMessage = found
      ? null
      : known
        ? 'coordinator not available'
        : `unknown coordinator key type ${req.keyType}`;
    if (ctx.apiVersion >= 4) {
      res.coordinators = req.coordinatorKeys.map((key) => ({
        key,
        nodeId: found ? nodeId : -1,
        host: found ? endpoint.host : '',
        port: found ? endpoint.port : -1,
        errorCode,
        errorMessage: ctx.apiVersion >= 1 ? errorMessage : null,
      }));
      return res;
    }
    res.errorCode = errorCode;
    res.errorMessage = ctx.apiVersion >= 1 ? errorMessage : null;
    res.nodeId = found ? nodeId : -1;
    res.host = found ? endpoint.host : '';
    res.port = found ? endpoint.port : -1;
    return res;
  },
});
