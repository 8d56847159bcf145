/**
 * What handlers call to authorize a request: the session's principal, the client's address and the request's
 * API key become Kafka's AuthorizableRequestContext, and `services.authorizer` decides (broker/authorizer.ts).
 * Without an authorizer every action is allowed. Handlers ask before they change or reveal anything, and a
 * denied request writes nothing.
 */
import { type Action, type AuthorizableRequestContext, AclResourceType, CLUSTER_RESOURCE } from '../authorizer.js';
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
  return authorizeAll(ctx, [{ operation, resourceType, resourceName, logIfDenied }])[0];
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
  const unique = [...new Set(names)];
  const results = authorizeAll(
    ctx,
    unique.map((resourceName) => ({ operation, resourceType, resourceName, logIfDenied })),
  );
  return new Set(unique.filter((_, i) => results[i]));
}
