/**
 * Reads and compare-and-swap writes on etcd keys (full keys: callers build them with EtcdConnection.key).
 *
 * - get / rangePrefix: a key or every key under a prefix, with the store revision they were read at (watch from
 *   `revision + 1` to see every later change exactly once). lastModRevision: the newest mod revision of a key
 *   under a prefix (the last put there; a later delete is not seen).
 * - txn: etcd's multi-key transaction: every compare holds -> the success ops, else the failure ops, atomically.
 * - putIfModRevision / createIfAbsent / deleteIfModRevision: single-key CAS; a lost race is a result
 *   (`ok: false`, with the key as it now is), not an exception. modRevision 0 means "the key does not exist".
 * Revisions are numbers (etcd's int64 stays far below 2^53 in practice). Failed calls throw CoordinationError
 * (ERR_ETCD_UNAVAILABLE).
 */
import type { ICompare, IKeyValue, IRequestOp, IResponseOp } from 'etcd3';
import { coordinationError, type EtcdConnection } from './connection.js';

export interface KeyValue {
  key: string;
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  /** Lease id (decimal string), '0' when none. */
  lease: string;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** Store revision the read saw. */
  revision: number;
}

export type Compare =
  | { key: string; modRevision: number }
  | { key: string; createRevision: number }
  | { key: string; version: number }
  | { key: string; value: string | Buffer }
  | { key: string; lease: string };

export type Op =
  | { put: string; value: string | Buffer; lease?: string }
  | { delete: string; prefix?: boolean }
  | { get: string; prefix?: boolean };

export interface TxnResult {
  succeeded: boolean;
  revision: number;
  /** For each op run (success or failure branch): the keys a get read, else an empty list. */
  results: KeyValue[][];
}

export interface CasResult {
  ok: boolean;
  /** Store revision after the txn (the written key's new modRevision when ok). */
  revision: number;
  /** On conflict: the key as it is now (undefined when absent). */
  current?: KeyValue;
}

export function toKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value,
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    lease: String(kv.lease ?? '0'),
  };
}

/** range_end for every key starting with `prefix`. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i]++;
      return end;
    }
  }
  return Buffer.from([0]);
}

export async function rangePrefix(conn: EtcdConnection, prefix: string): Promise<RangeResult> {
  try {
    const res = await conn.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) });
    return { kvs: res.kvs.map(toKeyValue), revision: Number(res.header.revision) };
  } catch (err) {
    throw coordinationError(err, `range ${prefix}`);
  }
}

/** The largest mod revision of the keys under `prefix` (0 when there are none): one key read, keys only. */
export async function lastModRevision(conn: EtcdConnection, prefix: string): Promise<number> {
  try {
    const res = await conn.client.kv.range({
      key: Buffer.from(prefix),
      range_end: prefixEnd(prefix),
      sort_order: 'Descend',
      sort_target: 'Mod',
      limit: 1,
      keys_only: true,
    });
    return res.kvs.length ? Number(res.kvs[0].mod_revision) : 0;
  } catch (err) {
    throw coordinationError(err, `last revision of ${prefix}`);
  }
}

export async function get(conn: EtcdConnection, key: string): Promise<KeyValue | undefined> {
  try {
    const res = await conn.client.kv.range({ key: Buffer.from(key) });
    return res.kvs.length ? toKeyValue(res.kvs[0]) : undefined;
  } catch (err) {
    throw coordinationError(err, `get ${key}`);
  }
}

function toCompare(c: Compare): ICompare {
  const key = Buffer.from(c.key);
  if ('modRevision' in c) return { key, target: 'Mod', result: 'Equal', mod_revision: c.modRevision };
  if ('createRevision' in c) return { key, target: 'Create', result: 'Equal', create_revision: c.createRevision };
  if ('version' in c) return { key, target: 'Version', result: 'Equal', version: c.version };
  if ('value' in c) return { key, target: 'Value', result: 'Equal', value: Buffer.from(c.value) };
  return { key, target: 'Lease', result: 'Equal', lease: c.lease };
}

function toOp(op: Op): IRequestOp {
  if ('put' in op)
    return { request_put: { key: Buffer.from(op.put), value: Buffer.from(op.value), lease: op.lease ?? 0 } };
  if ('delete' in op) {
    const k = Buffer.from(op.delete);
    return { request_delete_range: op.prefix ? { key: k, range_end: prefixEnd(op.delete) } : { key: k } };
  }
  const k = Buffer.from(op.get);
  return { request_range: op.prefix ? { key: k, range_end: prefixEnd(op.get) } : { key: k } };
}

function opResult(r: IResponseOp): KeyValue[] {
  return r.response_range ? r.response_range.kvs.map(toKeyValue) : [];
}

export async function txn(
  conn: EtcdConnection,
  t: { compare: Compare[]; success: Op[]; failure?: Op[] },
): Promise<TxnResult> {
  try {
    const res = await conn.client.kv.txn({
      compare: t.compare.map(toCompare),
      success: t.success.map(toOp),
      failure: (t.failure ?? []).map(toOp),
    });
    return { succeeded: res.succeeded, revision: Number(res.header.revision), results: res.responses.map(opResult) };
  } catch (err) {
    throw coordinationError(err, 'txn');
  }
}

/** Put `value` at `key` if its modRevision is `modRevision` (0: if it does not exist). */
export async function putIfModRevision(
  conn: EtcdConnection,
  key: string,
  value: string | Buffer,
  modRevision: number,
  lease?: string,
): Promise<CasResult> {
  const r = await txn(conn, {
    compare: [{ key, modRevision }],
    success: [{ put: key, value, lease }],
    failure: [{ get: key }],
  });
  return r.succeeded
    ? { ok: true, revision: r.revision }
    : { ok: false, revision: r.revision, current: r.results[0][0] };
}

/** Create `key` only if it does not exist (bound to `lease` if given). */
export function createIfAbsent(
  conn: EtcdConnection,
  key: string,
  value: string | Buffer,
  lease?: string,
): Promise<CasResult> {
  return putIfModRevision(conn, key, value, 0, lease);
}

/** Delete `key` if its modRevision is `modRevision`. */
export async function deleteIfModRevision(conn: EtcdConnection, key: string, modRevision: number): Promise<CasResult> {
  const r = await txn(conn, { compare: [{ key, modRevision }], success: [{ delete: key }], failure: [{ get: key }] });
  return r.succeeded
    ? { ok: true, revision: r.revision }
    : { ok: false, revision: r.revision, current: r.results[0][0] };
}
