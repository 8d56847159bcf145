/**
 * The ACL authorizer the ACL APIs (DescribeAcls 29, CreateAcls 30, DeleteAcls 31) delegate to, shaped
 * after Kafka's org.apache.kafka.server.authorizer.Authorizer. None is configured yet: while
 * `Broker.authorizer` is undefined those APIs answer SECURITY_DISABLED "No Authorizer is configured.", as
 * Kafka does without `authorizer.class.name`.
 */

/** Kafka's message when no authorizer is configured. */
export const NO_AUTHORIZER = 'No Authorizer is configured.';

/** One ACL: a resource pattern and an access control entry (the wire's int8 enums). */
export interface AclBinding {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** A filter over ACLs; null strings match anything, ANY (1) enums match every value. */
export interface AclBindingFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

export interface AclError {
  code: number;
  message: string | null;
}

export interface AclDeleteResult extends AclError {
  /** The ACLs the filter matched, each with the outcome of its deletion. */
  deleted: Array<{ binding: AclBinding; error: AclError }>;
}

export interface Authorizer {
  /** ACLs matching the filter; throws a RunnelError (with its kafkaCode) for an invalid filter. */
  acls(filter: AclBindingFilter): AclBinding[] | Promise<AclBinding[]>;
  /** One result per binding, in order. */
  createAcls(bindings: readonly AclBinding[]): Promise<AclError[]>;
  /** One result per filter, in order. */
  deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclDeleteResult[]>;
}
