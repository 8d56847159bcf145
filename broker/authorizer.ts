/**
 * The ACL authorizer contract, shaped after Kafka's org.apache.kafka.server.authorizer.Authorizer: the ACL
 * APIs (DescribeAcls 29, CreateAcls 30, DeleteAcls 31) delegate to it, and every handler asks it whether the
 * session's principal may perform an operation on a resource (`authorize`, through broker/security/authorize.ts).
 * While `services.authorizer` is undefined (no `authorizer.class.name`) the ACL APIs answer SECURITY_DISABLED
 * "No Authorizer is configured." and every action is allowed, as in Kafka.
 */
import type { AclBinding, AclBindingFilter } from '../protocol/acl-binding.js';

export type { AclBinding, AclBindingFilter };

/** Kafka's message when no authorizer is configured. */
export const NO_AUTHORIZER = 'No Authorizer is configured.';

export interface AclError {
  code: number;
  message: string | null;
}

export interface AclDeleteResult extends AclError {
  /** The ACLs the filter matched, each with the outcome of its deletion. */
  deleted: Array<{ binding: AclBinding; error: AclError }>;
}

/** Kafka's AclOperation codes (the wire's int8). */
export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;

/** Kafka's ResourceType codes in the ACL APIs. */
export const AclResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;

/** Kafka's PatternType codes. */
export const AclPatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;

/** Kafka's AclPermissionType codes. */
export const AclPermissionType = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The one CLUSTER resource's name. */
export const CLUSTER_RESOURCE = 'kafka-cluster';

/** Who asks (Kafka's AuthorizableRequestContext). */
export interface AuthorizableRequestContext {
  /** KafkaPrincipal string, e.g. `User:alice`. */
  readonly principal: string;
  /** The client's address (ACL host matching). */
  readonly clientHost: string;
  readonly listenerName: string;
  readonly securityProtocol: string;
  readonly clientId: string | null;
  readonly apiKey: number;
}

/** One thing to authorize (Kafka's Action). */
export interface Action {
  readonly operation: number;
  readonly resourceType: number;
  readonly resourceName: string;
  /** Log an allowed result at info (Kafka's logIfAllowed); default false. */
  readonly logIfAllowed?: boolean;
  /** Log a denied result at info (Kafka's logIfDenied); default true. */
  readonly logIfDenied?: boolean;
}

export interface Authorizer {
  /** One boolean (allowed) per action, in order; synchronous: decided from the in-memory ACL image. */
  authorize(ctx: AuthorizableRequestContext, actions: readonly Action[]): boolean[];
  /** ACLs matching the filter; throws a RunnelError (with its kafkaCode) for an invalid filter. */
  acls(filter: AclBindingFilter): AclBinding[] | Promise<AclBinding[]>;
  /** One result per binding, in order. */
  createAcls(bindings: readonly AclBinding[]): Promise<AclError[]>;
  /** One result per filter, in order. */
  deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclDeleteResult[]>;
  /**
   * Whether `operation` may be allowed on at least one resource of `resourceType` (Kafka's
   * Authorizer.authorizeByResourceType, KIP-679), whether or not such a resource exists. Optional: without it,
   * callers ask `authorize` for each existing resource (broker/security/authorize.ts).
   */
  authorizeByResourceType?(ctx: AuthorizableRequestContext, operation: number, resourceType: number): boolean;
}
