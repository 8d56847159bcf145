/**
 * `runnel acl add|list|remove`: ACL administration over the Kafka protocol (CreateAcls, DescribeAcls,
 * DeleteAcls) with kafka-acls' vocabulary:
 * - resources: --topic, --group, --transactional-id (each repeatable), --cluster; --resource-pattern-type
 *   literal (default) | prefixed, and for list/remove also any | match (Kafka's filter semantics);
 * - entries: --allow-principal / --deny-principal (repeatable), --allow-host / --deny-host (default `*`),
 *   --operation (repeatable; default All), or the conveniences --producer (WRITE, DESCRIBE, CREATE on topics;
 *   WRITE, DESCRIBE on transactional ids; IDEMPOTENT_WRITE on the cluster with --idempotent) and --consumer
 *   (READ, DESCRIBE on topics, READ on groups; needs --group).
 * add creates every combination of resource, principal, host and operation. remove deletes them (without
 * principals: every ACL of the resources) without asking for confirmation (--force is accepted and
 * changes nothing). list prints the ACLs of the given resources (all ACLs without resources), optionally of
 * some principals, as kafka-acls prints them.
 */
import { Admin } from '../admin.js';
import type { AclBinding, AclBindingFilter } from '../admin-acls.js';
import { type CommonOptions, UsageError, clientOptions, out } from './common.js';

const RESOURCE = { TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5 } as const;
const PATTERN = { ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
const OPERATIONS = [
  'Unknown',
  'Any',
  'All',
  'Read',
  'Write',
  'Create',
  'Delete',
  'Alter',
  'Describe',
  'ClusterAction',
  'DescribeConfigs',
  'AlterConfigs',
  'IdempotentWrite',
  'CreateTokens',
  'DescribeTokens',
];
const ANY = 1;
const DENY = 2;
const ALLOW = 3;
const RESOURCE_NAMES: Record<number, string> = { 2: 'TOPIC', 3: 'GROUP', 4: 'CLUSTER', 5: 'TRANSACTIONAL_ID' };
const PATTERN_NAMES: Record<number, string> = { 3: 'LITERAL', 4: 'PREFIXED' };
const OP = (name: string): number => OPERATIONS.indexOf(name);
/** kafka-acls' per-resource-type operations (AclEntry.supportedOperations, plus All). */
const SUPPORTED: Record<number, string[]> = {
  2: ['Read', 'Write', 'Create', 'Describe', 'Delete', 'Alter', 'DescribeConfigs', 'AlterConfigs', 'All'],
  3: ['Read', 'Describe', 'Delete', 'All'],
  4: ['Create', 'ClusterAction', 'DescribeConfigs', 'AlterConfigs', 'IdempotentWrite', 'Alter', 'Describe', 'All'],
  5: ['Describe', 'Write', 'All'],
};

export interface AclOptions extends CommonOptions {
  allowPrincipal?: string[];
  denyPrincipal?: string[];
  allowHost?: string[];
  denyHost?: string[];
  principal?: string[];
  operation?: string[];
  topic?: string[];
  group?: string[];
  cluster?: boolean;
  transactionalId?: string[];
  resourcePatternType?: string;
  producer?: boolean;
  consumer?: boolean;
  idempotent?: boolean;
  force?: boolean;
}

interface Resource {
  type: number;
  name: string;
}

function resources(opts: AclOptions): Resource[] {
  return [
    ...(opts.topic ?? []).map((name) => ({ type: RESOURCE.TOPIC, name })),
    ...(opts.group ?? []).map((name) => ({ type: RESOURCE.GROUP, name })),
    ...(opts.transactionalId ?? []).map((name) => ({ type: RESOURCE.TRANSACTIONAL_ID, name })),
    ...(opts.cluster ? [{ type: RESOURCE.CLUSTER, name: 'kafka-cluster' }] : []),
  ];
}

function patternType(opts: AclOptions, forAdd: boolean): number {
  const t = (opts.resourcePatternType ?? 'literal').toUpperCase() as keyof typeof PATTERN;
  if (!(t in PATTERN)) throw new UsageError(`unknown --resource-pattern-type ${opts.resourcePatternType}`);
  if (forAdd && t !== 'LITERAL' && t !== 'PREFIXED')
    throw new UsageError(`A '--resource-pattern-type' value of '${t}' is not valid when adding acls.`);
  return PATTERN[t];
}

function operationCode(name: string): number {
  const i = OPERATIONS.findIndex((o) => o.toLowerCase() === name.replace(/[-_]/g, '').toLowerCase());
  if (i < 2) throw new UsageError(`unknown --operation ${name}; one of ${OPERATIONS.slice(2).join(', ')}`);
  return i;
}

/** The (resource, operations) pairs asked for: --operation, --producer, --consumer. */
function resourceOperations(opts: AclOptions, rs: Resource[]): Array<[Resource, number[]]> {
  if (opts.producer || opts.consumer) {
    if (opts.consumer && !opts.group?.length) throw new UsageError('--consumer needs --group');
    const out: Array<[Resource, number[]]> = [];
    for (const r of rs) {
      const ops: string[] = [];
      if (r.type === RESOURCE.TOPIC) {
        if (opts.producer) ops.push('Write', 'Describe', 'Create');
        if (opts.consumer) ops.push('Read', 'Describe');
      } else if (r.type === RESOURCE.GROUP && opts.consumer) ops.push('Read');
      else if (r.type === RESOURCE.TRANSACTIONAL_ID && opts.producer) ops.push('Write', 'Describe');
      if (ops.length) out.push([r, [...new Set(ops)].map(OP)]);
    }
    if (opts.producer && opts.idempotent)
      out.push([{ type: RESOURCE.CLUSTER, name: 'kafka-cluster' }, [OP('IdempotentWrite')]]);
    return out;
  }
  const ops = (opts.operation?.length ? opts.operation : ['All']).map(operationCode);
  for (const r of rs) {
    const bad = ops.filter((o) => !SUPPORTED[r.type].includes(OPERATIONS[o]));
    if (bad.length)
      throw new UsageError(
        `ResourceType ${RESOURCE_NAMES[r.type]} only supports operations ${SUPPORTED[r.type].join(',')}`,
      );
  }
  return rs.map((r) => [r, ops]);
}

/** Principal, host and permission of each entry: allow ones then deny ones. */
function entries(opts: AclOptions): Array<{ principal: string; host: string; permissionType: number }> {
  const out: Array<{ principal: string; host: string; permissionType: number }> = [];
  const add = (principals: string[] | undefined, hosts: string[] | undefined, permissionType: number): void => {
    for (const principal of principals ?? [])
      for (const host of hosts?.length ? hosts : ['*']) out.push({ principal, host, permissionType });
  };
  add(opts.allowPrincipal, opts.allowHost, ALLOW);
  add(opts.denyPrincipal, opts.denyHost, DENY);
  return out;
}

function bindings(opts: AclOptions, pattern: number): AclBinding[] {
  const rs = resources(opts);
  if (rs.length === 0 && !opts.idempotent) throw new UsageError('give at least one resource (--topic, --group, ...)');
  const es = entries(opts);
  if (es.length === 0) throw new UsageError('give --allow-principal or --deny-principal');
  return resourceOperations(opts, rs).flatMap(([r, ops]) =>
    ops.flatMap((operation) =>
      es.map((e) => ({ resourceType: r.type, resourceName: r.name, patternType: pattern, operation, ...e })),
    ),
  );
}

function patternText(b: { resourceType: number; resourceName: string; patternType: number }): string {
  const pattern = PATTERN_NAMES[b.patternType] ?? String(b.patternType);
  const type = RESOURCE_NAMES[b.resourceType] ?? b.resourceType;
  return `ResourcePattern(resourceType=${type}, name=${b.resourceName}, patternType=${pattern})`;
}

function entryText(b: AclBinding): string {
  const permission = b.permissionType === ALLOW ? 'ALLOW' : b.permissionType === DENY ? 'DENY' : b.permissionType;
  const op = (OPERATIONS[b.operation] ?? String(b.operation)).replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
  return `(principal=${b.principal}, host=${b.host}, operation=${op}, permissionType=${permission})`;
}

/** kafka-acls' listing: one block per resource pattern. */
function printByResource(title: string, acls: AclBinding[]): void {
  const groups = new Map<string, AclBinding[]>();
  for (const a of acls) {
    const k = patternText(a);
    groups.set(k, [...(groups.get(k) ?? []), a]);
  }
  for (const [k, list] of groups) out(`${title} \`${k}\`: \n${list.map((a) => ` \t${entryText(a)} \n`).join('')}\n`);
}

async function withAclAdmin<T>(opts: CommonOptions, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin(clientOptions(opts));
  try {
    return await fn(admin);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

export async function aclAdd(opts: AclOptions): Promise<number> {
  const list = bindings(opts, patternType(opts, true));
  return withAclAdmin(opts, async (admin) => {
    await admin.createAcls(list);
    printByResource('Adding ACLs for resource', list);
    return 0;
  });
}

export async function aclRemove(opts: AclOptions): Promise<number> {
  const pattern = patternType(opts, false);
  const rs = resources(opts);
  if (rs.length === 0) throw new UsageError('give at least one resource (--topic, --group, ...)');
  const hasEntries = (opts.allowPrincipal?.length ?? 0) + (opts.denyPrincipal?.length ?? 0) > 0;
  const filters: AclBindingFilter[] = hasEntries
    ? bindings(opts, pattern)
    : rs.map((r) => ({
        resourceType: r.type,
        resourceName: r.name,
        patternType: pattern,
        principal: null,
        host: null,
        operation: ANY,
        permissionType: ANY,
      }));
  return withAclAdmin(opts, async (admin) => {
    const deleted = (await admin.deleteAcls(filters)).flat();
    printByResource('Removed ACLs for resource', deleted);
    if (deleted.length === 0) out('no ACLs matched\n');
    return 0;
  });
}

export async function aclList(opts: AclOptions): Promise<number> {
  const pattern = patternType(opts, false);
  const rs = resources(opts);
  const principals = opts.principal?.length ? opts.principal : [null];
  const filters: AclBindingFilter[] = (rs.length ? rs : [null]).flatMap((r) =>
    principals.map((principal) => ({
      resourceType: r?.type ?? ANY,
      resourceName: r?.name ?? null,
      patternType: r ? pattern : opts.resourcePatternType ? pattern : PATTERN.ANY,
      principal,
      host: null,
      operation: ANY,
      permissionType: ANY,
    })),
  );
  return withAclAdmin(opts, async (admin) => {
    const found: AclBinding[] = [];
    for (const f of filters) found.push(...(await admin.describeAcls(f)));
    printByResource('Current ACLs for resource', found);
    return 0;
  });
}
