/**
 * What handlers call to authorize a request: the session's principal, the client's address and the request's
 * API key become Kafka's AuthorizableRequestContext, and `services.authorizer` decides (broker/authorizer.ts).
 * Without an authorizer every action is allowed. Handlers ask before they change or reveal anything, and a
 * denied request writes nothing.
 */
import {
  type Action,
  type AuthorizableRequestContext,
  type Authorizer,
  AclOperation,
  AclResourceType,
  CLUSTER_RESOURCE,
} from '../authorizer.js';
import type { RequestContext } from '../handlers/registry.js';

function requestContext(ctx: RequestContext): AuthorizableRequestContext {
  return {
    principal: ctx.session.principal,
    clientHost: ctx.clientHost,
    listenerName: ctx.session.listenerName,
    securityProtocol: ctx.session.securityProtocol,
    clientId: ctx.header.clientId,
    apiKey: ctx.header.requestApiKey,
  };
}

/** One result per action, in order (all true without an authorizer). */
export function authorizeAll(ctx: RequestContext, actions: readonly Action[]): boolean[] {
  const authorizer = ctx.services.authorizer;
  if (!authorizer) return actions.map(() => true);
  return authorizer.authorize(requestContext(ctx), actions);
}

/** Whether `operation` on one resource is allowed. */
export function authorized(
  ctx: RequestContext,
  operation: number,
  resourceType: number,
  resourceName: string,
  logIfDenied = true,
): boolean {
  const authorizer = ctx.services.authorizer;
  // Without an authorizer (the common case) this is on every group request's path: no allocation.
  if (!authorizer) return true;
  return authorizer.authorize(requestContext(ctx), [{ operation, resourceType, resourceName, logIfDenied }])[0];
}

/**
 * A filter that keeps the topics this request's principal may DESCRIBE, for work done later on its behalf (the
 * KIP-848 coordinator resolving a member's regex subscription). Holds the authorizable context, not the request;
 * undefined without an authorizer (everything visible).
 */
export function describableTopicsFilter(ctx: RequestContext): ((names: string[]) => string[]) | undefined {
  const authorizer = ctx.services.authorizer;
  if (!authorizer) return undefined;
  const rc = requestContext(ctx);
  return (names) => {
    const ok = authorizer.authorize(
      rc,
      names.map((resourceName) => ({
        operation: AclOperation.DESCRIBE,
        resourceType: AclResourceType.TOPIC,
        resourceName,
        logIfDenied: false,
      })),
    );
    return names.filter((_, i) => ok[i]);
  };
}

/** Whether `operation` on the CLUSTER resource is allowed. */
export function authorizedCluster(ctx: RequestContext, operation: number, logIfDenied = true): boolean {
  return authorized(ctx, operation, AclResourceType.CLUSTER, CLUSTER_RESOURCE, logIfDenied);
}

/** The names among `names` on which `operation` is allowed (duplicates asked once). */
export function filterAuthorized(
  ctx: RequestContext,
  operation: number,
  resourceType: number,
  names: Iterable<string>,
  logIfDenied = true,
): Set<string> {
  if (!ctx.services.authorizer) return new Set(names);
  const unique = [...new Set(names)];
  const results = authorizeAll(
    ctx,
    unique.map((resourceName) => ({ operation, resourceType, resourceName, logIfDenied })),
  );
  return new Set(unique.filter((_, i) => results[i]));
}

/**
 * Whether `operation` is allowed on at least one resource of `resourceType` (Kafka's
 * Authorizer.authorizeByResourceType, used by InitProducerId for KIP-679: WRITE on any topic allows idempotent
 * producing). An authorizer that implements `authorizeByResourceType(ctx, operation, resourceType)` answers it
 * (an ACL pattern may name no existing resource); otherwise each of `candidates` (the existing resources) is
 * asked, without logging denials.
 */
export function authorizedByResourceType(
  ctx: RequestContext,
  operation: number,
  resourceType: number,
  candidates: Iterable<string>,
): boolean {
  const authorizer: Authorizer | undefined = ctx.services.authorizer;
  if (!authorizer) return true;
  if (authorizer.authorizeByResourceType) {
    return authorizer.authorizeByResourceType(requestContext(ctx), operation, resourceType);
  }
  return filterAuthorized(ctx, operation, resourceType, candidates, false).size > 0;
}

/** Config resource types (Kafka's ConfigResource.Type ids). */
const CONFIG_TOPIC = 2;
const CONFIG_BROKER = 4;
const CONFIG_BROKER_LOGGER = 8;
const CONFIG_CLIENT_METRICS = 16;
const CONFIG_GROUP = 32;

/**
 * The authorization error of a config resource for DescribeConfigs (DESCRIBE_CONFIGS) or AlterConfigs /
 * IncrementalAlterConfigs (ALTER_CONFIGS), as Kafka's KafkaApis: a topic on the topic
 * (TOPIC_AUTHORIZATION_FAILED), a group on the group (GROUP_AUTHORIZATION_FAILED), brokers, broker loggers and
 * client metrics on the CLUSTER (CLUSTER_AUTHORIZATION_FAILED); undefined when allowed or of another type.
 */
export function configResourceDenied(
  ctx: RequestContext,
  operation: number,
  configType: number,
  name: string,
): number | undefined {
  if (configType === CONFIG_TOPIC) return authorized(ctx, operation, AclResourceType.TOPIC, name) ? undefined : 29;
  if (configType === CONFIG_GROUP) return authorized(ctx, operation, AclResourceType.GROUP, name) ? undefined : 30;
  if (configType === CONFIG_BROKER || configType === CONFIG_BROKER_LOGGER || configType === CONFIG_CLIENT_METRICS)
    return authorizedCluster(ctx, operation) ? undefined : 31;
  return undefined;
}

/** Kafka's "authorized operations not requested" (Integer.MIN_VALUE). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/**
 * Kafka's authorizedOperations bit field (KIP-430): bit `op` is set for each of `supported` allowed on the
 * resource (asked without logging).
 */
export function authorizedOperations(
  ctx: RequestContext,
  resourceType: number,
  resourceName: string,
  supported: readonly number[],
): number {
  const results = authorizeAll(
    ctx,
    supported.map((operation) => ({ operation, resourceType, resourceName, logIfDenied: false })),
  );
  let bits = 0;
  supported.forEach((op, i) => {
    if (results[i]) bits |= 1 << op;
  });
  return bits;
}

/** Kafka's default messages of the authorization errors (Errors.X.message()), by error code. */
const DENIED_MESSAGES: Record<number, string> = {
  29: 'Topic authorization failed.',
  30: 'Group authorization failed.',
  31: 'Cluster authorization failed.',
  53: 'Transactional Id authorization failed.',
  65: 'Delegation Token authorization failed.',
};

/** Kafka's default message for an authorization error code (null for other codes). */
export function deniedMessage(code: number): string | null {
  return DENIED_MESSAGES[code] ?? null;
}
