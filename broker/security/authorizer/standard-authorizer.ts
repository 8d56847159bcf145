/**
 * Runnel's StandardAuthorizer (`authorizer.class.name` = org.apache.kafka.metadata.authorizer.StandardAuthorizer,
 * or kafka.security.authorizer.AclAuthorizer, which Kafka 4 removed and Runnel takes as the same): decides
 * every action from an in-memory index of the ACLs (acl-index.ts) kept in the metadata image's ACL section
 * (replication/metadata/acls.ts; on every node of a cluster, the index following its changes), with Kafka's
 * semantics:
 * - a principal in `super.users` (`User:a;User:b`) may do anything;
 * - the ACLs that apply to a resource are its literal ones, the wildcard `*` ones and the prefixed ones whose
 *   prefix starts its name; when there are none at all (whoever they are for), the action is allowed only
 *   with `allow.everyone.if.no.acl.found` (default false);
 * - otherwise a matching DENY wins over any ALLOW; an ALLOW allows; nothing matching denies.
 * Matching rules (principal, host, ALL, implied operations): acl-match.ts.
 *
 * Logging (namespace 'authorizer', Kafka's kafka.authorizer.logger lines): a denied action at info when the
 * action asks for it (logIfDenied, the default), else trace; an allowed one at debug when logIfAllowed, else
 * trace: `Principal = User:a is Denied operation = READ from host = 127.0.0.1 on resource = Topic:LITERAL:t
 * for request = Fetch with resourceRefCount = 1 based on rule DefaultRule(DENIED)`.
 *
 * authorizeByResourceType (KIP-679, Kafka's default Authorizer.authorizeByResourceType): allowed when
 * `authorize` allows the operation on a resource of that type named `hardcode` (super users, and
 * allow.everyone.if.no.acl.found when no ACL applies to it); else, over the ACLs of that type for the principal
 * (or User:*) and host (or *) whose operation is exactly it or ALL (no implied operations): a literal `*` DENY
 * denies; a literal `*` ALLOW allows; else some literal ALLOW not denied by a literal DENY of the same name nor
 * a prefixed DENY of one of its prefixes, or some prefixed ALLOW none of whose prefixes has a prefixed DENY,
 * allows; anything else denies.
 *
 * ACL changes (createAcls, deleteAcls) are durable before they resolve and seen by authorize from then on, on
 * the node that made them; every other node of a cluster applies them as its metadata image receives them.
 */
import {
  type AclBinding,
  type AclBindingFilter,
  type AclDeleteResult,
  type AclError,
  type Action,
  type AuthorizableRequestContext,
  type Authorizer,
  AclOperation,
  AclPatternType,
  AclPermissionType,
} from '../../authorizer.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { RunnelError } from '../../../protocol/errors.js';
import { aclKey, type AclStore } from '../../../replication/metadata/acls.js';
import type { Logger } from '../../logger.js';
import { handlerFor } from '../../handlers/registry.js';
import { AclIndex } from './acl-index.js';
import {
  describeAcl,
  entryResult,
  filterMatches,
  invalidBinding,
  invalidFilter,
  normalizeBinding,
  operationName,
  resourceTypeLabel,
  WILDCARD_HOST,
  WILDCARD_PRINCIPAL,
  WILDCARD_RESOURCE,
} from './acl-match.js';

/** The authorizer class names Runnel serves (both are its StandardAuthorizer). */
export const AUTHORIZER_CLASS_NAMES = [
  'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'kafka.security.authorizer.AclAuthorizer',
] as const;

export interface StandardAuthorizerOptions {
  store: AclStore;
  /** `super.users`: KafkaPrincipal strings separated by `;`. */
  superUsers: string;
  allowEveryoneIfNoAclFound: boolean;
  log: Logger;
}

/** An invalid ACL filter (DescribeAcls): INVALID_REQUEST. */
export class InvalidAclFilterError extends RunnelError {
  constructor(message: string) {
    super('ERR_INVALID_ACL_FILTER', message, ErrorCode.INVALID_REQUEST);
  }
}

/** Kafka's `super.users` value → the set of principals. */
export function parseSuperUsers(value: string): Set<string> {
  return new Set(
    value
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
}

/** Java's InetAddress.getHostAddress of an IPv4 client seen on a dual-stack socket (`::ffff:a.b.c.d`). */
export function clientAddress(host: string): string {
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}

type Rule = { allowed: boolean; text: string };

export class StandardAuthorizer implements Authorizer {
  private readonly index = new AclIndex();
  /** ACL record key -> the binding in the index. */
  private readonly indexed = new Map<string, AclBinding>();
  private readonly unfollow: () => void;
  private readonly superUsers: Set<string>;
  private readonly store: AclStore;
  private readonly log: Logger;
  private readonly noAclRule: Rule;

  constructor(opts: StandardAuthorizerOptions) {
    this.store = opts.store;
    this.log = opts.log;
    this.superUsers = parseSuperUsers(opts.superUsers);
    const allow = opts.allowEveryoneIfNoAclFound;
    this.noAclRule = { allowed: allow, text: `DefaultRule(${allow ? 'ALLOWED' : 'DENIED'})` };
    // The index follows the ACL section on every node: an ACL created through any node applies here at once.
    this.unfollow = this.store.follow((key, record) => this.reindex(key, record));
    for (const b of this.store.bindings()) this.reindex(aclKey(b), b);
  }

  /** Makes the index hold `record` under `key` (undefined: none); idempotent. */
  private reindex(key: string, record: AclBinding | undefined): void {
    const had = this.indexed.get(key);
    if (had) this.index.remove(had);
    this.indexed.delete(key);
    if (record) {
      this.index.add(record);
      this.indexed.set(key, record);
    }
  }

  /** Stops following ACL changes. */
  close(): void {
    this.unfollow();
  }

  authorize(ctx: AuthorizableRequestContext, actions: readonly Action[]): boolean[] {
    const host = clientAddress(ctx.clientHost);
    return actions.map((action) => {
      const rule = this.rule(ctx.principal, host, action);
      this.logResult(ctx, host, action, rule);
      return rule.allowed;
    });
  }

  authorizeByResourceType(ctx: AuthorizableRequestContext, operation: number, resourceType: number): boolean {
    const probe: Action = { operation, resourceType, resourceName: 'hardcode', logIfAllowed: true, logIfDenied: false };
    if (this.authorize(ctx, [probe])[0]) return true;
    const host = clientAddress(ctx.clientHost);
    const deny = { literal: new Set<string>(), prefixed: new Set<string>() };
    const allow = { literal: new Set<string>(), prefixed: new Set<string>() };
    let wildcardAllow = false;
    for (const b of this.store.bindings()) {
      if (b.resourceType !== resourceType) continue;
      if (b.host !== WILDCARD_HOST && b.host !== host) continue;
      if (b.principal !== WILDCARD_PRINCIPAL && b.principal !== ctx.principal) continue;
      if (b.operation !== operation && b.operation !== AclOperation.ALL) continue;
      const literal = b.patternType === AclPatternType.LITERAL;
      if (!literal && b.patternType !== AclPatternType.PREFIXED) continue;
      if (b.permissionType === AclPermissionType.DENY) {
        if (literal && b.resourceName === WILDCARD_RESOURCE) return false;
        (literal ? deny.literal : deny.prefixed).add(b.resourceName);
      } else if (b.permissionType === AclPermissionType.ALLOW) {
        if (literal && b.resourceName === WILDCARD_RESOURCE) wildcardAllow = true;
        else (literal ? allow.literal : allow.prefixed).add(b.resourceName);
      }
    }
    if (wildcardAllow) return true;
    const prefixDenied = (name: string): boolean => {
      for (let i = 1; i <= name.length; i++) if (deny.prefixed.has(name.slice(0, i))) return true;
      return false;
    };
    for (const name of allow.literal) if (!deny.literal.has(name) && !prefixDenied(name)) return true;
    for (const name of allow.prefixed) if (!prefixDenied(name)) return true;
    return false;
  }

  private rule(principal: string, host: string, action: Action): Rule {
    if (this.superUsers.has(principal)) return SUPER_USER;
    const buckets = this.index.matching(action.resourceType, action.resourceName);
    if (buckets.length === 0) return this.noAclRule;
    let allow: AclBinding | undefined;
    for (const bucket of buckets) {
      for (const acl of bucket) {
        const r = entryResult(acl, principal, host, action.operation);
        if (r === 'deny') return { allowed: false, text: `MatchingAcl(acl=${describeAcl(acl)}, result=DENIED)` };
        if (r === 'allow') allow ??= acl;
      }
    }
    if (allow) return { allowed: true, text: `MatchingAcl(acl=${describeAcl(allow)}, result=ALLOWED)` };
    return DENY_BY_DEFAULT;
  }

  private logResult(ctx: AuthorizableRequestContext, host: string, action: Action, rule: Rule): void {
    const loud = rule.allowed ? action.logIfAllowed === true : action.logIfDenied !== false;
    const level = loud ? (rule.allowed ? 'debug' : 'info') : 'trace';
    if (!this.log.isLevelEnabled(level)) return;
    const request = handlerFor(ctx.apiKey)?.name ?? String(ctx.apiKey);
    this.log[level](
      `Principal = ${ctx.principal} is ${rule.allowed ? 'Allowed' : 'Denied'} operation = ` +
        `${operationName(action.operation)} from host = ${host} on resource = ` +
        `${resourceTypeLabel(action.resourceType)}:LITERAL:${action.resourceName} for request = ${request} ` +
        `with resourceRefCount = 1 based on rule ${rule.text}`,
    );
  }

  acls(filter: AclBindingFilter): AclBinding[] {
    const f = normalizeBinding(filter);
    const why = invalidFilter(f);
    if (why !== undefined) throw new InvalidAclFilterError(why);
    return this.store.bindings().filter((b) => filterMatches(f, b));
  }

  createAcls(bindings: readonly AclBinding[]): Promise<AclError[]> {
    return this.store.change(() => {
      const add: AclBinding[] = [];
      const result = bindings.map((raw): AclError => {
        const b = normalizeBinding(raw);
        const why = invalidBinding(b);
        if (why !== undefined) return { code: ErrorCode.INVALID_REQUEST, message: why };
        add.push(b);
        return { code: ErrorCode.NONE, message: null };
      });
      return { add, remove: [], result };
    });
  }

  deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclDeleteResult[]> {
    return this.store.change((current) => {
      const remove: AclBinding[] = [];
      const result = filters.map((raw): AclDeleteResult => {
        const f = normalizeBinding(raw);
        const why = invalidFilter(f);
        if (why !== undefined) return { code: ErrorCode.INVALID_REQUEST, message: why, deleted: [] };
        const matched = current.filter((b) => filterMatches(f, b));
        remove.push(...matched);
        return {
          code: ErrorCode.NONE,
          message: null,
          deleted: matched.map((binding) => ({ binding, error: { code: ErrorCode.NONE, message: null } })),
        };
      });
      return { add: [], remove, result };
    });
  }
}

const SUPER_USER: Rule = { allowed: true, text: 'SuperUser' };
const DENY_BY_DEFAULT: Rule = { allowed: false, text: 'DefaultRule(DENIED)' };
