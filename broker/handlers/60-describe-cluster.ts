/**
 * DescribeCluster (key 60), versions 0-2 (all flexible).
 *
 * Brokers, controller and cluster id come from the metadata image; fenced brokers only when v2's
 * includeFencedBrokers asks. Today the cluster is this node (never fenced), which is also reported as the
 * controller, as a Kafka broker reports a live broker in place of the KRaft controller. v1+ endpointType:
 * 1 = brokers is answered (and echoed); 2 = controllers, or any other value, → UNSUPPORTED_ENDPOINT_TYPE, as a
 * Kafka broker listener answers. clusterAuthorizedOperations (Kafka's computeDescribeClusterResponse): when
 * asked, the cluster operations the principal may perform if it may DESCRIBE the CLUSTER, else 0 (every
 * cluster operation without an authorizer); -2147483648 when not asked. As in Kafka, the brokers are
 * answered whether or not the principal may DESCRIBE the CLUSTER.
 */
import {
  decodeDescribeClusterRequest,
  type DescribeClusterRequest,
} from '../../protocol/generated/describe-cluster-request.js';
import {
  defaultDescribeClusterResponse,
  encodeDescribeClusterResponse,
  type DescribeClusterResponse,
} from '../../protocol/generated/describe-cluster-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { registerHandler } from './registry.js';
import { AclOperation, AclResourceType, CLUSTER_RESOURCE } from '../authorizer.js';
import { authorizedCluster } from '../security/authorize.js';
import { authorizedOperations, NO_OPERATIONS } from '../security/authorized-operations.js';

const BROKERS = 1;
const CONTROLLERS = 2;
/**
 * AclOperation codes Kafka supports on the CLUSTER resource: CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
 * DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
 */
export const ALL_CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12].reduce((bits, op) => bits | (1 << op), 0);

export const describeClusterHandler = registerHandler<DescribeClusterRequest, DescribeClusterResponse>({
  apiKey: 60,
  name: 'DescribeCluster',
  minVersion: 0,
  maxVersion: 2,
  decode: decodeDescribeClusterRequest,
  encode: encodeDescribeClusterResponse,
  handle(req, ctx) {
    const { metadata } = ctx.services;
    const image = metadata.image;
    const res = defaultDescribeClusterResponse();
    res.errorMessage = null;
    if (req.endpointType !== BROKERS) {
      res.errorCode = ErrorCode.UNSUPPORTED_ENDPOINT_TYPE;
      res.errorMessage =
        req.endpointType === CONTROLLERS
          ? 'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER'
          : `Unsupported endpoint type ${req.endpointType}`;
      return res;
    }
    res.endpointType = BROKERS;
    res.clusterId = image.clusterId;
    res.controllerId = image.controllerId;
    for (const b of image.brokers()) {
      if (b.fenced && !req.includeFencedBrokers) continue;
      const e = image.endpoint(b.nodeId, ctx.session.listenerName);
      if (e) res.brokers.push({ brokerId: b.nodeId, host: e.host, port: e.port, rack: b.rack, isFenced: b.fenced });
    }
    res.clusterAuthorizedOperations = NO_OPERATIONS;
    if (req.includeClusterAuthorizedOperations) {
      res.clusterAuthorizedOperations = authorizedCluster(ctx, AclOperation.DESCRIBE)
        ? authorizedOperations(ctx, AclResourceType.CLUSTER, CLUSTER_RESOURCE)
        : 0;
    }
    return res;
  },
});
