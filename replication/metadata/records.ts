/**
 * Keyed-record sections of the metadata image: cluster state that is a set of independent records by key (SCRAM
 * credentials by user and mechanism, client quotas by entity, dynamic broker configs by entity; ACLs can join the
 * same way). A section is declared once (`RecordSection`) and every store carries it without knowing its content:
 *
 * - In the image (image.ts): `image.records(section)` (key -> decoded record, frozen) and `image.record(...)`.
 * - Changes: a store's `updateRecords(section, update)` (store.ts) runs `update` against the section as it is
 *   now; the records it returns (a value to put, null to delete) are written atomically and published as one
 *   `record-changed` change per record (with the record before and after), so subscribers on every node can act
 *   (apply dynamic configs, re-index ACLs, ...).
 * - Local store (local-store.ts): the section's own file in the data dir (`file`: its name and document format,
 *   so existing data dirs open unchanged), rewritten atomically after every change.
 * - Etcd store (etcd-store.ts / etcd-image.ts): one key per record, `<section name>/<key>` under the cluster
 *   prefix, the value `JSON.stringify(toJson(record))`; written in one transaction comparing the mod revision of
 *   every key it changes (so an update must depend only on the records it changes), applied from the watch.
 *
 * Invariants: section names are path-free (`[a-z-]+`) and distinct from the store's other key kinds (`topics`,
 * `partitions`, `brokers`, ...); keys are non-empty strings (any characters, '/' included); records are JSON
 * values once encoded; `fromJson(toJson(r))` equals r. To add a section: declare it next to its facade and list
 * it in record-sections.ts.
 */

import type { MetadataStore } from './store.js';
import { IllegalStateError } from '../../protocol/errors.js';

export interface RecordSection<T> {
  /** The section's name: its etcd key segment and the `section` of its changes. */
  readonly name: string;
  /** A record as JSON (the etcd value). */
  toJson(record: T): unknown;
  /** A record from JSON; undefined when the value is not one (ignored, as any unknown key). */
  fromJson(json: unknown): T | undefined;
  /** The local store's file of this section. */
  readonly file: {
    /** File name in the data dir. */
    readonly name: string;
    /** Every record of the file's text (key -> record, in file order); throws StorageError for a bad file. */
    read(text: string, path: string): Map<string, T>;
    /** The document written for these records (as one line of JSON). */
    write(records: ReadonlyMap<string, T>): unknown;
  };
}

/** What an update makes of a section: records to put (a value) or delete (null), and the caller's result. */
export interface RecordUpdate<T, R> {
  changes: ReadonlyMap<string, T | null>;
  result: R;
}

/** The relative etcd key of a record. */
export const recordKey = (section: string, key: string): string => `${section}/${key}`;

/** Records are compared by their JSON form. */
export function sameRecord<T>(section: RecordSection<T>, a: T | undefined, b: T | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(section.toJson(a)) === JSON.stringify(section.toJson(b));
}

/**
 * The changes of an update that change something, against the current records: deletions of absent keys and
 * puts of an equal record are dropped.
 */
export function effectiveChanges<T>(
  section: RecordSection<T>,
  current: ReadonlyMap<string, T>,
  changes: ReadonlyMap<string, T | null>,
): Map<string, T | null> {
  const out = new Map<string, T | null>();
  for (const [key, value] of changes) {
    if (key === '') throw new IllegalStateError(`empty record key in section ${section.name}`);
    const before = current.get(key);
    if (value === null ? before === undefined : sameRecord(section, before, value)) continue;
    out.set(key, value);
  }
  return out;
}

/** `current` with `changes` applied (a new map; a put of a new key goes last). */
export function applyChanges<T>(
  current: ReadonlyMap<string, T>,
  changes: ReadonlyMap<string, T | null>,
): Map<string, T> {
  const next = new Map(current);
  for (const [key, value] of changes) {
    if (value === null) next.delete(key);
    else next.set(key, Object.freeze(value));
  }
  return next;
}

/** The change a store publishes for one record (`record` undefined: deleted). */
export function recordChange(section: string, key: string, previous: unknown, record: unknown) {
  return {
    type: 'record-changed' as const,
    section,
    key,
    ...(record === undefined || record === null ? {} : { record }),
    ...(previous === undefined ? {} : { previous }),
  };
}

/**
 * Calls `fn` for every later change of a record of `section` (on a node of a cluster: whichever node made it),
 * in the store's order, with the record after (undefined: deleted) and before; returns the unsubscribe function.
 * What e.g. quota enforcement or an ACL index follows.
 */
export function onRecordChanges<T>(
  store: Pick<MetadataStore, 'subscribe'>,
  section: RecordSection<T>,
  fn: (key: string, record: T | undefined, previous: T | undefined) => void | Promise<void>,
): () => void {
  return store.subscribe(async (delta) => {
    for (const c of delta.changes)
      if (c.type === 'record-changed' && c.section === section.name)
        await fn(c.key, c.record as T | undefined, c.previous as T | undefined);
  });
}
