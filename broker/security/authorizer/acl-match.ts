/**
 * Kafka's ACL vocabulary and pure matching rules (org.apache.kafka.common.acl / resource and the KRaft
 * StandardAuthorizerData), shared by the StandardAuthorizer, its index and the ACL store:
 * - enum names and codes (a code outside an enum reads as UNKNOWN, as Kafka's fromCode does);
 * - filter matching (ResourcePatternFilter / AccessControlEntryFilter): null strings and ANY enums match
 *   anything; a MATCH pattern-type filter with a name matches the literal ACL of that name, the wildcard `*`
 *   literal ACL and every prefixed ACL whose prefix starts the name; ANY with a name matches only ACLs of
 *   exactly that name (any pattern type);
 * - entry matching for authorize: the principal is the ACL's or the ACL's is `User:*`; the host is the
 *   ACL's or the ACL's is `*`; ALL matches any operation; an ALLOW of READ, WRITE, DELETE or ALTER also
 *   allows DESCRIBE and an ALLOW of ALTER_CONFIGS also allows DESCRIBE_CONFIGS (DENY ACLs imply nothing);
 * - validation of new ACLs and of filters, with Kafka's messages (INVALID_REQUEST).
 */
import {
  type AclBinding,
  type AclBindingFilter,
  AclOperation,
  AclPatternType,
  AclPermissionType,
  AclResourceType,
  CLUSTER_RESOURCE,
} from '../../authorizer.js';

export const WILDCARD_RESOURCE = '*';
export const WILDCARD_PRINCIPAL = 'User:*';
export const WILDCARD_HOST = '*';

const nameOf = (table: Record<string, number>) => {
  const names: string[] = [];
  for (const [k, v] of Object.entries(table)) names[v] = k;
  return names;
};
const OPERATION_NAMES = nameOf(AclOperation);
const RESOURCE_TYPE_NAMES = nameOf(AclResourceType);
const PATTERN_TYPE_NAMES = nameOf(AclPatternType);
const PERMISSION_NAMES = nameOf(AclPermissionType);

/** A wire code of one of the ACL enums, UNKNOWN (0) when outside it (Kafka's fromCode). */
function known(names: readonly string[], code: number): number {
  return Number.isInteger(code) && code >= 0 && code < names.length ? code : 0;
}

export const operationName = (code: number): string => OPERATION_NAMES[known(OPERATION_NAMES, code)];
export const resourceTypeName = (code: number): string => RESOURCE_TYPE_NAMES[known(RESOURCE_TYPE_NAMES, code)];
export const patternTypeName = (code: number): string => PATTERN_TYPE_NAMES[known(PATTERN_TYPE_NAMES, code)];
export const permissionName = (code: number): string => PERMISSION_NAMES[known(PERMISSION_NAMES, code)];

/** Code of an enum name (case-insensitive), or undefined. */
export function enumCode(table: Record<string, number>, name: string): number | undefined {
  const key = name.toUpperCase().replace(/-/g, '_');
  return Object.hasOwn(table, key) ? table[key as keyof typeof table] : undefined;
}

/** Kafka's SecurityUtils.resourceTypeName: `Topic`, `Group`, `Cluster`, `TransactionalId`, ... (log lines). */
export function resourceTypeLabel(code: number): string {
  return resourceTypeName(code)
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, _u: string, c: string) => c.toUpperCase());
}

/** The binding with every enum code normalized (outside its enum → UNKNOWN). */
export function normalizeBinding<T extends AclBinding | AclBindingFilter>(b: T): T {
  return {
    ...b,
    resourceType: known(RESOURCE_TYPE_NAMES, b.resourceType),
    patternType: known(PATTERN_TYPE_NAMES, b.patternType),
    operation: known(OPERATION_NAMES, b.operation),
    permissionType: known(PERMISSION_NAMES, b.permissionType),
  };
}

/** The operations each resource type supports (Kafka's AclEntry.supportedOperations), for authorized operations. */
export const SUPPORTED_OPERATIONS: Readonly<Record<number, readonly number[]>> = {
  [AclResourceType.TOPIC]: [
    AclOperation.READ,
    AclOperation.WRITE,
    AclOperation.CREATE,
    AclOperation.DESCRIBE,
    AclOperation.DELETE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
  ],
  [AclResourceType.GROUP]: [AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE],
  [AclResourceType.CLUSTER]: [
    AclOperation.CREATE,
    AclOperation.CLUSTER_ACTION,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
    AclOperation.IDEMPOTENT_WRITE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE,
  ],
  [AclResourceType.TRANSACTIONAL_ID]: [AclOperation.DESCRIBE, AclOperation.WRITE],
  [AclResourceType.DELEGATION_TOKEN]: [AclOperation.DESCRIBE],
  [AclResourceType.USER]: [AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS],
};

const IMPLIES_DESCRIBE: ReadonlySet<number> = new Set([
  AclOperation.DESCRIBE,
  AclOperation.READ,
  AclOperation.WRITE,
  AclOperation.DELETE,
  AclOperation.ALTER,
]);
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<number> = new Set([
  AclOperation.DESCRIBE_CONFIGS,
  AclOperation.ALTER_CONFIGS,
]);

/**
 * What one ACL (whose resource pattern already matched) says about `operation` by `principal` from `host`:
 * 'allow', 'deny', or undefined when it does not apply (Kafka's StandardAuthorizerData.findResult).
 */
export function entryResult(
  acl: AclBinding,
  principal: string,
  host: string,
  operation: number,
): 'allow' | 'deny' | undefined {
  if (acl.principal !== WILDCARD_PRINCIPAL && acl.principal !== principal) return undefined;
  if (acl.host !== WILDCARD_HOST && acl.host !== host) return undefined;
  if (acl.operation !== AclOperation.ALL) {
    if (acl.permissionType === AclPermissionType.ALLOW) {
      if (operation === AclOperation.DESCRIBE) {
        if (!IMPLIES_DESCRIBE.has(acl.operation)) return undefined;
      } else if (operation === AclOperation.DESCRIBE_CONFIGS) {
        if (!IMPLIES_DESCRIBE_CONFIGS.has(acl.operation)) return undefined;
      } else if (operation !== acl.operation) return undefined;
    } else if (operation !== acl.operation) return undefined;
  }
  return acl.permissionType === AclPermissionType.ALLOW ? 'allow' : 'deny';
}

/** Kafka's ResourcePatternFilter.matches. */
export function patternFilterMatches(f: AclBindingFilter, acl: AclBinding): boolean {
  if (f.resourceType !== AclResourceType.ANY && f.resourceType !== acl.resourceType) return false;
  const anyOrMatch = f.patternType === AclPatternType.ANY || f.patternType === AclPatternType.MATCH;
  if (!anyOrMatch && f.patternType !== acl.patternType) return false;
  if (f.resourceName === null) return true;
  if (f.patternType === AclPatternType.ANY || f.patternType === acl.patternType)
    return f.resourceName === acl.resourceName;
  // MATCH: the ACLs that would apply to a resource of that name.
  if (acl.patternType === AclPatternType.LITERAL)
    return f.resourceName === acl.resourceName || acl.resourceName === WILDCARD_RESOURCE;
  if (acl.patternType === AclPatternType.PREFIXED) return f.resourceName.startsWith(acl.resourceName);
  return false;
}

/** Kafka's AccessControlEntryFilter.matches. */
export function entryFilterMatches(f: AclBindingFilter, acl: AclBinding): boolean {
  if (f.principal !== null && f.principal !== acl.principal) return false;
  if (f.host !== null && f.host !== acl.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== acl.operation) return false;
  return f.permissionType === AclPermissionType.ANY || f.permissionType === acl.permissionType;
}

export function filterMatches(f: AclBindingFilter, acl: AclBinding): boolean {
  return patternFilterMatches(f, acl) && entryFilterMatches(f, acl);
}

/** Why a new ACL is invalid (Kafka's AclApis and AclControlManager.validateNewAcl messages), or undefined. */
export function invalidBinding(b: AclBinding): string | undefined {
  if (b.resourceType === AclResourceType.UNKNOWN || b.resourceType === AclResourceType.ANY)
    return `Invalid resourceType ${resourceTypeName(b.resourceType)}`;
  if (b.patternType !== AclPatternType.LITERAL && b.patternType !== AclPatternType.PREFIXED)
    return `Invalid patternType ${patternTypeName(b.patternType)}`;
  if (b.operation === AclOperation.UNKNOWN || b.operation === AclOperation.ANY)
    return `Invalid operation ${operationName(b.operation)}`;
  if (b.permissionType !== AclPermissionType.ALLOW && b.permissionType !== AclPermissionType.DENY)
    return `Invalid permissionType ${permissionName(b.permissionType)}`;
  if (b.resourceName === '') return 'Resource name should not be empty';
  if (b.resourceType === AclResourceType.CLUSTER && b.resourceName !== CLUSTER_RESOURCE)
    return `The only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE}`;
  if (!b.principal.includes(':'))
    return (
      `Could not parse principal from \`${b.principal}\` ` +
      '(no colon is present separating the principal type from the principal name)'
    );
  return undefined;
}

/** Why a filter is invalid (Kafka's AclControlManager.validateFilter), or undefined. */
export function invalidFilter(f: AclBindingFilter): string | undefined {
  if (f.resourceType === AclResourceType.UNKNOWN || f.patternType === AclPatternType.UNKNOWN)
    return 'Unknown patternFilter.';
  if (f.operation === AclOperation.UNKNOWN || f.permissionType === AclPermissionType.UNKNOWN)
    return 'Unknown entryFilter.';
  return undefined;
}

/** A string that is the same for equal bindings (the store's identity of an ACL). */
export function bindingKey(b: AclBinding): string {
  return JSON.stringify([
    b.resourceType,
    b.resourceName,
    b.patternType,
    b.principal,
    b.host,
    b.operation,
    b.permissionType,
  ]);
}

/** Kafka's StandardAcl toString, for log lines. */
export function describeAcl(b: AclBinding): string {
  return (
    `StandardAcl(resourceType=${resourceTypeName(b.resourceType)}, resourceName=${b.resourceName}, ` +
    `patternType=${patternTypeName(b.patternType)}, principal=${b.principal}, host=${b.host}, ` +
    `operation=${operationName(b.operation)}, permissionType=${permissionName(b.permissionType)})`
  );
}
