/**
 * A tiny Authorizer for authorization tests (the real StandardAuthorizer lives elsewhere): a list of allow
 * rules — principal, operation, resource type, and a resource name or name prefix — and everything else
 * denied; `superUsers` are allowed everything. Operations imply others as in Kafka (READ, WRITE, DELETE and
 * ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS; ALL implies every operation). Every decision is
 * recorded in `asked` so tests can see what a handler checked.
 */
import {
  type Action,
  type AclBinding,
  type AuthorizableRequestContext,
  type Authorizer,
  AclOperation,
} from '../../broker/authorizer.js';

export interface Rule {
  /** KafkaPrincipal string, `*` for any (default `User:ANONYMOUS`, what PLAINTEXT connections are). */
  principal?: string;
  operation: number;
  resourceType: number;
  /** Exact resource name (`*` matches any name). */
  name?: string;
  /** Name prefix (instead of `name`). */
  prefix?: string;
}

const { READ, WRITE, DELETE, ALTER, DESCRIBE, ALTER_CONFIGS, DESCRIBE_CONFIGS, ALL } = AclOperation;

function implies(granted: number, asked: number): boolean {
  if (granted === asked || granted === ALL) return true;
  if (asked === DESCRIBE) return granted === READ || granted === WRITE || granted === DELETE || granted === ALTER;
  if (asked === DESCRIBE_CONFIGS) return granted === ALTER_CONFIGS;
  return false;
}

export interface Decision {
  principal: string;
  apiKey: number;
  operation: number;
  resourceType: number;
  resourceName: string;
  allowed: boolean;
}

export class RuleAuthorizer implements Authorizer {
  rules: Rule[];
  superUsers: Set<string>;
  readonly asked: Decision[] = [];

  constructor(rules: Rule[] = [], superUsers: string[] = []) {
    this.rules = rules;
    this.superUsers = new Set(superUsers);
  }

  /** Replace the rules (and forget what was asked). */
  set(rules: Rule[]): this {
    this.rules = rules;
    this.asked.length = 0;
    return this;
  }

  allows(principal: string, a: Pick<Action, 'operation' | 'resourceType' | 'resourceName'>): boolean {
    if (this.superUsers.has(principal)) return true;
    return this.rules.some(
      (r) =>
        ((r.principal ?? 'User:ANONYMOUS') === '*' || (r.principal ?? 'User:ANONYMOUS') === principal) &&
        r.resourceType === a.resourceType &&
        implies(r.operation, a.operation) &&
        (r.prefix !== undefined
          ? a.resourceName.startsWith(r.prefix)
          : r.name === '*' || r.name === undefined || r.name === a.resourceName),
    );
  }

  authorize(ctx: AuthorizableRequestContext, actions: readonly Action[]): boolean[] {
    return actions.map((a) => {
      const allowed = this.allows(ctx.principal, a);
      this.asked.push({
        principal: ctx.principal,
        apiKey: ctx.apiKey,
        operation: a.operation,
        resourceType: a.resourceType,
        resourceName: a.resourceName,
        allowed,
      });
      return allowed;
    });
  }

  acls(): AclBinding[] {
    return [];
  }

  async createAcls(bindings: readonly AclBinding[]): Promise<{ code: number; message: string | null }[]> {
    return bindings.map(() => ({ code: 0, message: null }));
  }

  async deleteAcls(): Promise<never[]> {
    return [];
  }
}
