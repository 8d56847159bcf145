/**
 * The ACL calls of the Admin client (client/admin.ts): CreateAcls (30), DescribeAcls (29), DeleteAcls (31),
 * Kafka's wire enums as numbers (resource type TOPIC 2, GROUP 3, CLUSTER 4, TRANSACTIONAL_ID 5; pattern type
 * ANY 1, MATCH 2, LITERAL 3, PREFIXED 4; operation ANY 1, ALL 2, READ 3, ...; permission ANY 1, DENY 2,
 * ALLOW 3). A whole-request error (SECURITY_DISABLED, CLUSTER_AUTHORIZATION_FAILED) throws a KafkaError; a
 * per-ACL or per-filter error throws the first one, after the others were applied (as the broker did).
 */
import type { AclBinding, AclBindingFilter } from '../protocol/acl-binding.js';
import { decodeCreateAclsResponse } from '../protocol/generated/create-acls-response.js';
import { encodeCreateAclsRequest } from '../protocol/generated/create-acls-request.js';
import { decodeDescribeAclsResponse } from '../protocol/generated/describe-acls-response.js';
import { encodeDescribeAclsRequest } from '../protocol/generated/describe-acls-request.js';
import { decodeDeleteAclsResponse } from '../protocol/generated/delete-acls-response.js';
import { encodeDeleteAclsRequest } from '../protocol/generated/delete-acls-request.js';
import type { Connection } from './connection.js';
import { check } from './errors.js';

export type { AclBinding, AclBindingFilter };

const LITERAL = 3;

export async function createAcls(conn: Connection, acls: readonly AclBinding[]): Promise<void> {
  if (acls.length === 0) return;
  const v = conn.versionFor(30, 0, 3);
  const res = await conn.send(
    30,
    v,
    (w) =>
      encodeCreateAclsRequest(w, v, {
        creations: acls.map((a) => ({ ...a, resourcePatternType: a.patternType })),
      }),
    decodeCreateAclsResponse,
  );
  for (const r of res.results) check(r.errorCode, r.errorMessage);
}

/** A filter as the DescribeAcls and DeleteAcls requests carry it (v0 knows only LITERAL patterns). */
function filterFields(f: AclBindingFilter, v: number) {
  return {
    resourceTypeFilter: f.resourceType,
    resourceNameFilter: f.resourceName,
    patternTypeFilter: v === 0 ? LITERAL : f.patternType,
    principalFilter: f.principal,
    hostFilter: f.host,
    operation: f.operation,
    permissionType: f.permissionType,
  };
}

export async function describeAcls(conn: Connection, f: AclBindingFilter): Promise<AclBinding[]> {
  const v = conn.versionFor(29, 0, 3);
  const res = await conn.send(
    29,
    v,
    (w) => encodeDescribeAclsRequest(w, v, filterFields(f, v)),
    decodeDescribeAclsResponse,
  );
  check(res.errorCode, res.errorMessage);
  return res.resources.flatMap((r) =>
    r.acls.map((a) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      patternType: r.patternType,
      principal: a.principal,
      host: a.host,
      operation: a.operation,
      permissionType: a.permissionType,
    })),
  );
}

/** The ACLs deleted, per filter. */
export async function deleteAcls(conn: Connection, filters: readonly AclBindingFilter[]): Promise<AclBinding[][]> {
  if (filters.length === 0) return [];
  const v = conn.versionFor(31, 0, 3);
  const res = await conn.send(
    31,
    v,
    (w) =>
      encodeDeleteAclsRequest(w, v, {
        filters: filters.map((f) => filterFields(f, v)),
      }),
    decodeDeleteAclsResponse,
  );
  for (const r of res.filterResults) check(r.errorCode, r.errorMessage);
  return res.filterResults.map((r) =>
    r.matchingAcls.map((m) => {
      check(m.errorCode, m.errorMessage);
      return {
        resourceType: m.resourceType,
        resourceName: m.resourceName,
        patternType: m.patternType,
        principal: m.principal,
        host: m.host,
        operation: m.operation,
        permissionType: m.permissionType,
      };
    }),
  );
}
