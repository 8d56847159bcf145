/**
 * The StandardAuthorizer's in-memory index of ACLs, so that authorizing an action costs a few map lookups
 * however many ACLs exist: per resource type, literal ACLs by name (the wildcard `*` is one more name),
 * and prefixed ACLs by prefix together with the set of prefix lengths present, so the prefixed ACLs that
 * apply to a name are found by one lookup per distinct prefix length (at most the name's length).
 *
 * Invariant: holds exactly the ACLs added and not removed since construction; buckets are never empty.
 */
import { type AclBinding, AclPatternType } from '../../authorizer.js';
import { bindingKey, WILDCARD_RESOURCE } from './acl-match.js';

class TypeIndex {
  readonly literal = new Map<string, AclBinding[]>();
  readonly prefixed = new Map<string, AclBinding[]>();
  /** Prefix length → how many prefixes of that length have ACLs; `lengths` is its sorted key list. */
  private readonly lengthCount = new Map<number, number>();
  lengths: number[] = [];

  add(b: AclBinding): void {
    const prefixed = b.patternType === AclPatternType.PREFIXED;
    const map = prefixed ? this.prefixed : this.literal;
    const bucket = map.get(b.resourceName);
    if (bucket) {
      bucket.push(b);
      return;
    }
    map.set(b.resourceName, [b]);
    if (prefixed) this.countLength(b.resourceName.length, 1);
  }

  remove(b: AclBinding): void {
    const prefixed = b.patternType === AclPatternType.PREFIXED;
    const map = prefixed ? this.prefixed : this.literal;
    const bucket = map.get(b.resourceName);
    if (!bucket) return;
    const key = bindingKey(b);
    const i = bucket.findIndex((x) => bindingKey(x) === key);
    if (i < 0) return;
    bucket.splice(i, 1);
    if (bucket.length > 0) return;
    map.delete(b.resourceName);
    if (prefixed) this.countLength(b.resourceName.length, -1);
  }

  private countLength(len: number, delta: number): void {
    const n = (this.lengthCount.get(len) ?? 0) + delta;
    if (n > 0) this.lengthCount.set(len, n);
    else this.lengthCount.delete(len);
    if (n === 1 || n === 0) this.lengths = [...this.lengthCount.keys()].sort((a, b) => a - b);
  }

  get empty(): boolean {
    return this.literal.size === 0 && this.prefixed.size === 0;
  }
}

export class AclIndex {
  private readonly byType = new Map<number, TypeIndex>();

  add(b: AclBinding): void {
    let t = this.byType.get(b.resourceType);
    if (!t) {
      t = new TypeIndex();
      this.byType.set(b.resourceType, t);
    }
    t.add(b);
  }

  remove(b: AclBinding): void {
    const t = this.byType.get(b.resourceType);
    if (!t) return;
    t.remove(b);
    if (t.empty) this.byType.delete(b.resourceType);
  }

  /**
   * The buckets of ACLs whose resource pattern applies to the resource `name` of `resourceType`: its literal
   * ACLs, the wildcard ones, and the prefixed ones whose prefix starts `name`. Empty when none apply.
   */
  matching(resourceType: number, name: string): AclBinding[][] {
    const t = this.byType.get(resourceType);
    if (!t) return [];
    const out: AclBinding[][] = [];
    const literal = t.literal.get(name);
    if (literal) out.push(literal);
    if (name !== WILDCARD_RESOURCE) {
      const wildcard = t.literal.get(WILDCARD_RESOURCE);
      if (wildcard) out.push(wildcard);
    }
    for (const len of t.lengths) {
      if (len > name.length) break;
      const bucket = t.prefixed.get(len === name.length ? name : name.slice(0, len));
      if (bucket) out.push(bucket);
    }
    return out;
  }
}
