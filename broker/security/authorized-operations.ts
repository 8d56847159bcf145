/**
 * Kafka's authorized-operations bitfields (KIP-430: Metadata, DescribeCluster, DescribeTopicPartitions,
 * DescribeGroups): bit `1 << code` set for each operation the resource type supports that the session's
 * principal may perform on the resource; without an authorizer, every supported operation. The checks are
 * neither logged when allowed nor when denied, as Kafka's authorizedOperations.
 */
import type { RequestContext } from '../handlers/registry.js';
import { SUPPORTED_OPERATIONS } from './authorizer/acl-match.js';
import { authorizeAll } from './authorize.js';

/** The field's value when the client did not ask (Int.MinValue in Kafka's schemas). */
export const NO_OPERATIONS = -2147483648;

export function authorizedOperations(ctx: RequestContext, resourceType: number, resourceName: string): number {
  const ops = SUPPORTED_OPERATIONS[resourceType] ?? [];
  const allowed = authorizeAll(
    ctx,
    ops.map((operation) => ({ operation, resourceType, resourceName, logIfAllowed: false, logIfDenied: false })),
  );
  return ops.reduce((bits, op, i) => (allowed[i] ? bits | (1 << op) : bits), 0);
}
