/**
 * The etcd store's writes of keyed-record sections (records.ts; EtcdMetadataStore.updateRecords): `update`
 * runs against the section as this node's image has it; the records it changes are put (JSON of the section)
 * or deleted under `<section>/<key>` in one transaction comparing each key's mod revision with the one the
 * image was built from. It resolves once the watch delivered that revision here. When another node changed one
 * of the keys first, the image catches up with those keys as etcd has them now (a deleted one: until the image
 * drops it) and `update` runs again, `maxAttempts` times at most (then REQUEST_TIMED_OUT).
 */
import { StorageError } from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { EtcdConnection } from '../etcd/connection.js';
import { txn, type Op } from '../etcd/kv.js';
import type { EtcdMetadataFeed } from './etcd-feed.js';
import { effectiveChanges, recordKey, type RecordSection, type RecordUpdate } from './records.js';

export async function updateEtcdRecords<T, R>(
  conn: EtcdConnection,
  feed: EtcdMetadataFeed,
  section: RecordSection<T>,
  update: (records: ReadonlyMap<string, T>) => RecordUpdate<T, R>,
  maxAttempts: number,
): Promise<R> {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const current = feed.image.records(section);
    const { changes, result } = update(current);
    const effective = effectiveChanges(section, current, changes);
    if (effective.size === 0) return result;
    const keys = [...effective.keys()];
    const rels = keys.map((k) => recordKey(section.name, k));
    const r = await txn(conn, {
      compare: rels.map((rel) => ({ key: conn.key(rel), modRevision: feed.keys.modRevision(rel) })),
      success: [...effective.values()].map((v, i): Op => {
        const key = conn.key(rels[i]);
        return v === null ? { delete: key } : { put: key, value: JSON.stringify(section.toJson(v)) };
      }),
      failure: rels.map((rel) => ({ get: conn.key(rel) })),
    });
    if (r.succeeded) {
      await feed.delivery(r.revision);
      return result;
    }
    // Another node changed one of these records first: wait until the image has them as etcd has them now.
    const now = r.results.map((kvs) => kvs[0]);
    for (const kv of now) await feed.catchUp(kv);
    await feed.until(() => now.every((kv, i) => kv !== undefined || feed.image.record(section, keys[i]) === undefined));
  }
  throw new StorageError(`${section.name} records kept changing`, ErrorCode.REQUEST_TIMED_OUT);
}
