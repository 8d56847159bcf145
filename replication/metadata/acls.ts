/**
 * The ACLs of the StandardAuthorizer (CreateAcls / DeleteAcls), kept in the metadata image as Kafka's controller
 * keeps them in the metadata log (AclControlManager, one AccessControlEntryRecord per ACL): the ACL section of
 * the keyed-record sections (records.ts), so every node of a cluster sees the same ACLs. An ACL is a binding of
 * a resource pattern (type, name, LITERAL or PREFIXED) and an entry (principal, host, operation, ALLOW or DENY);
 * equal bindings are one ACL (one record, keyed by the binding itself).
 *
 * - Local store: `<data dir>/acls.json` (the format of before, so existing data dirs open unchanged), replaced
 *   atomically after every change, enums by name: `{"version":1,"acls":[{"resourceType":"TOPIC","name":"t",
 *   "patternType":"LITERAL","principal":"User:a","host":"*","operation":"READ","permissionType":"ALLOW"}]}`.
 *   A file that does not parse, or names an enum value Kafka does not allow in an ACL, refuses start-up
 *   (StorageError).
 * - Etcd store: one key per ACL, `acls/<key>` where the key is the JSON array of the binding's fields by name
 *   (`["TOPIC","LITERAL","t","User:a","*","READ","ALLOW"]`), the value one entry of the file's `acls`. Creating
 *   an ACL puts its own key and deleting one deletes its own key, so a change depends only on the records it
 *   changes (a DeleteAcls racing a CreateAcls on another node deletes what it matched, as in Kafka).
 *
 * Invariants: a change is durable and delivered to every subscriber (the authorizer's index, on every node)
 * before `change` resolves; `bindings` reads the image (creation order on a single node).
 */
import { StorageError } from '../../protocol/errors.js';
import {
  type AclBinding,
  AclOperation,
  AclPatternType,
  AclPermissionType,
  AclResourceType,
} from '../../broker/authorizer.js';
import {
  enumCode,
  invalidBinding,
  operationName,
  patternTypeName,
  permissionName,
  resourceTypeName,
} from '../../broker/security/authorizer/acl-match.js';
import { parseJson } from './json-file.js';
import { onRecordChanges, type RecordSection } from './records.js';
import type { MetadataStore } from './store.js';

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

function toStored(b: AclBinding): StoredAcl {
  return {
    resourceType: resourceTypeName(b.resourceType),
    name: b.resourceName,
    patternType: patternTypeName(b.patternType),
    principal: b.principal,
    host: b.host,
    operation: operationName(b.operation),
    permissionType: permissionName(b.permissionType),
  };
}

/** The binding of a stored entry, or why it is not a valid ACL. */
function fromStored(e: Partial<StoredAcl> | null | undefined): AclBinding | string {
  const code = (table: Record<string, number>, v: unknown): number =>
    (typeof v === 'string' ? enumCode(table, v) : undefined) ?? -1;
  const b: AclBinding = {
    resourceType: code(AclResourceType, e?.resourceType),
    resourceName: e?.name as string,
    patternType: code(AclPatternType, e?.patternType),
    principal: e?.principal as string,
    host: e?.host as string,
    operation: code(AclOperation, e?.operation),
    permissionType: code(AclPermissionType, e?.permissionType),
  };
  const strings = [b.resourceName, b.principal, b.host].every((s) => typeof s === 'string');
  const why = strings ? invalidBinding(b) : 'an ACL without name, principal or host';
  if (why !== undefined || Object.values(b).includes(-1)) return why ?? `unknown value in ${JSON.stringify(e)}`;
  return Object.freeze(b);
}

/** A frozen copy of exactly a binding's fields. */
function binding(b: AclBinding): AclBinding {
  const { resourceType, resourceName, patternType, principal, host, operation, permissionType } = b;
  return Object.freeze({ resourceType, resourceName, patternType, principal, host, operation, permissionType });
}

/** The record key of an ACL: its fields by name, as a JSON array (equal bindings, equal keys). */
export function aclKey(b: AclBinding): string {
  const s = toStored(b);
  return JSON.stringify([s.resourceType, s.patternType, s.name, s.principal, s.host, s.operation, s.permissionType]);
}

/** The ACL section of the metadata image (records.ts); see the header for its etcd keys and local file. */
export const ACL_SECTION: RecordSection<AclBinding> = {
  name: 'acls',
  toJson: toStored,
  fromJson: (json) => {
    const b = fromStored(json as Partial<StoredAcl>);
    return typeof b === 'string' ? undefined : b;
  },
  file: {
    name: ACLS_FILE,
    read(text, file) {
      const bad = (why: string): StorageError => new StorageError(`${file} is not an ACL file: ${why}`);
      const doc = parseJson(text, (e) => bad(e.message)) as { version?: unknown; acls?: unknown } | null;
      if (doc?.version !== 1 || !Array.isArray(doc.acls)) throw bad('expected {"version":1,"acls":[...]}');
      const out = new Map<string, AclBinding>();
      for (const e of doc.acls as StoredAcl[]) {
        const b = fromStored(e);
        if (typeof b === 'string') throw bad(b);
        out.set(aclKey(b), b);
      }
      return out;
    },
    write: (records) => ({ version: 1, acls: [...records.values()].map(toStored) }),
  },
};

/** What one change does: the ACLs to add and to remove (each by value), and what `change` resolves to. */
export interface AclChange<T> {
  add: readonly AclBinding[];
  remove: readonly AclBinding[];
  result: T;
}

/** The ACLs as the authorizer uses them, over the metadata store's ACL section (on every node of a cluster). */
export class AclStore {
  constructor(private readonly store: Pick<MetadataStore, 'image' | 'updateRecords' | 'subscribe'>) {}

  /** Every ACL (on a single node in creation order). */
  bindings(): AclBinding[] {
    return [...this.store.image.records(ACL_SECTION).values()];
  }

  /**
   * Runs `plan` on the current ACLs (removals apply before additions) and makes its change durable; resolves
   * to the plan's result once every subscriber saw it (adding an existing ACL or removing a missing one
   * changes nothing).
   */
  change<T>(plan: (current: readonly AclBinding[]) => AclChange<T>): Promise<T> {
    return this.store.updateRecords(ACL_SECTION, (records) => {
      const { add, remove, result } = plan([...records.values()]);
      const changes = new Map<string, AclBinding | null>();
      for (const b of remove) changes.set(aclKey(b), null);
      for (const b of add) {
        const key = aclKey(b);
        changes.set(key, records.get(key) ?? binding(b));
      }
      return { changes, result };
    });
  }

  /**
   * Calls `fn` for every later change of an ACL, whichever node made it: the ACL added (`record`) or removed
   * (`previous`); returns the unsubscribe function.
   */
  follow(fn: (key: string, record: AclBinding | undefined, previous: AclBinding | undefined) => void): () => void {
    return onRecordChanges(this.store, ACL_SECTION, fn);
  }
}
