/**
 * An ACL and an ACL filter as the ACL APIs carry them (CreateAcls 30, DescribeAcls 29, DeleteAcls 31): Kafka's
 * wire enums as numbers (resource type TOPIC 2, GROUP 3, CLUSTER 4, TRANSACTIONAL_ID 5, DELEGATION_TOKEN 6;
 * pattern type ANY 1, MATCH 2, LITERAL 3, PREFIXED 4; operation ANY 1, ALL 2, READ 3, ...; permission ANY 1,
 * DENY 2, ALLOW 3). Shared by the broker's authorizer and the client's admin calls.
 */

/** One ACL: a resource pattern and an access control entry. */
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
