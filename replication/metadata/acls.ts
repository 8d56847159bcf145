/**
 * The ACLs of the StandardAuthorizer (CreateAcls / DeleteAcls), kept durably as Kafka's controller keeps
 * them in the metadata log (AclControlManager). An ACL is a binding of a resource pattern (type, name,
 * LITERAL or PREFIXED) and an entry (principal, host, operation, ALLOW or DENY); equal bindings are one ACL.
 *
 * Durable state: `<data dir>/acls.json`, replaced atomically after every change, enums by name:
 * `{"version":1,"acls":[{"resourceType":"TOPIC","name":"t","patternType":"LITERAL","principal":"User:a",
 * "host":"*","operation":"READ","permissionType":"ALLOW"}]}`. A file that does not parse, or names an enum
 * value Kafka does not allow in an ACL, refuses start-up (StorageError).
 *
 * Invariants: changes run one at a time (SerialQueue), each from the state the previous one left; a change
 * is on disk before `change` resolves, and only then do `bindings` and the listener see it.
 */
import path from 'node:path';
import { StorageError } from '../../protocol/errors.js';
import type { FileSystem } from '../../storage/fs.js';
import {
  type AclBinding,
  AclOperation,
  AclPatternType,
  AclPermissionType,
  AclResourceType,
} from '../../broker/authorizer.js';
import {
  bindingKey,
  enumCode,
  invalidBinding,
  operationName,
  patternTypeName,
  permissionName,
  resourceTypeName,
} from '../../broker/security/authorizer/acl-match.js';
import { parseJson, readOptionalText, SerialQueue, writeJsonFile } from './json-file.js';

export const ACLS_FILE = 'acls.json';

interface StoredAcl {
  resourceType: string;
  name: string;
  patternType: string;
  principal: string;
  host: string;
  operation: string;
  permissionType: string;
}

/** What one change does: the ACLs to add and to remove (each by value), and what `change` resolves to. */
export interface AclChange<T> {
  add: readonly AclBinding[];
  remove: readonly AclBinding[];
  result: T;
}

export class AclStore {
  /** bindingKey → binding, in creation order. */
  private acls = new Map<string, AclBinding>();
  private readonly queue = new SerialQueue();
  /** Told of every change once it is on disk (the authorizer's index). */
  onChange: ((added: readonly AclBinding[], removed: readonly AclBinding[]) => void) | undefined;

  private constructor(
    private readonly fs: FileSystem,
    private readonly file: string,
  ) {}

  static async open(fs: FileSystem, dataDir: string): Promise<AclStore> {
    const store = new AclStore(fs, path.join(dataDir, ACLS_FILE));
    const text = await readOptionalText(fs, store.file);
    if (text !== undefined) store.load(text);
    return store;
  }

  private load(text: string): void {
    const bad = (why: string): StorageError => new StorageError(`${this.file} is not an ACL file: ${why}`);
    const doc = parseJson(text, (e) => bad(e.message)) as { version?: unknown; acls?: unknown } | null;
    if (doc?.version !== 1 || !Array.isArray(doc.acls)) throw bad('expected {"version":1,"acls":[...]}');
    for (const e of doc.acls as StoredAcl[]) {
      const code = (table: Record<string, number>, v: unknown): number =>
        (typeof v === 'string' ? enumCode(table, v) : undefined) ?? -1;
      const b: AclBinding = {
        resourceType: code(AclResourceType, e?.resourceType),
        resourceName: e?.name,
        patternType: code(AclPatternType, e?.patternType),
        principal: e?.principal,
        host: e?.host,
        operation: code(AclOperation, e?.operation),
        permissionType: code(AclPermissionType, e?.permissionType),
      };
      const strings = [b.resourceName, b.principal, b.host].every((s) => typeof s === 'string');
      const why = strings ? invalidBinding(b) : 'an ACL without name, principal or host';
      if (why !== undefined || Object.values(b).includes(-1)) throw bad(why ?? `unknown value in ${JSON.stringify(e)}`);
      this.acls.set(bindingKey(b), b);
    }
  }

  /** Every ACL, in creation order. */
  bindings(): AclBinding[] {
    return [...this.acls.values()];
  }

  /**
   * Runs `plan` on the current ACLs and makes its change durable; resolves to the plan's result once the
   * change is on disk (adding an existing ACL or removing a missing one changes nothing).
   */
  change<T>(plan: (current: readonly AclBinding[]) => AclChange<T>): Promise<T> {
    return this.queue.run(async () => {
      const { add, remove, result } = plan(this.bindings());
      const next = new Map(this.acls);
      const added: AclBinding[] = [];
      const removed: AclBinding[] = [];
      for (const b of remove) {
        const key = bindingKey(b);
        const had = next.get(key);
        if (had && next.delete(key)) removed.push(had);
      }
      for (const b of add) {
        const key = bindingKey(b);
        if (next.has(key)) continue;
        const copy = { ...b };
        next.set(key, copy);
        added.push(copy);
      }
      if (added.length === 0 && removed.length === 0) return result;
      await this.persist(next);
      this.acls = next;
      this.onChange?.(added, removed);
      return result;
    });
  }

  private persist(acls: Map<string, AclBinding>): Promise<void> {
    const out: StoredAcl[] = [...acls.values()].map((b) => ({
      resourceType: resourceTypeName(b.resourceType),
      name: b.resourceName,
      patternType: patternTypeName(b.patternType),
      principal: b.principal,
      host: b.host,
      operation: operationName(b.operation),
      permissionType: permissionName(b.permissionType),
    }));
    return writeJsonFile(this.fs, this.file, { version: 1, acls: out });
  }
}
