/**
 * Record formats of the internal `__transaction_state` topic, with Kafka's own schemas (so the topic reads
 * like Kafka's):
 *
 *   TransactionLogKey   (version 0): version int16 = 0, transactional_id string
 *   TransactionLogValue (version 0, written): version int16 = 0, producer_id int64, producer_epoch int16,
 *       transaction_timeout_ms int32, transaction_status int8,
 *       transaction_partitions nullable [int32 count] of { topic string, partition_ids [int32 count] int32 },
 *       last_update_timestamp_ms int64, start_timestamp_ms int64
 *
 * Version 1 of the value (flexible: compact strings/arrays, tagged fields; tags 0 PreviousProducerId,
 * 1 NextProducerId, 2 ClientTransactionVersion) is decoded too, so a topic written by a newer Kafka loads.
 * A null value is a tombstone (the transactional id expired). Status bytes are Kafka's TransactionState
 * ids. The partition of a transactional id is Kafka's: abs(Java String.hashCode) % partitions.
 */
import { Reader } from '../../protocol/wire/reader.js';
import { Writer } from '../../protocol/wire/writer.js';
import { offsetsPartitionFor } from '../groups/records.js';
import { stateFromId, stateId, type TxnState } from './state.js';
import { UnsupportedVersionError } from '../../protocol/errors.js';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

export interface TxnLogValue {
  producerId: number;
  /** Only in value version 1 (tagged); -1 otherwise. */
  previousProducerId: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  /** topic → partition ids */
  partitions: Map<string, number[]>;
  lastUpdateTimestamp: number;
  startTimestamp: number;
}

export function txnStatePartitionFor(transactionalId: string, partitions: number): number {
  return offsetsPartitionFor(transactionalId, partitions);
}

export function txnLogKey(transactionalId: string): Buffer {
  const w = new Writer(64);
  w.writeInt16(0);
  w.writeString(transactionalId);
  return w.toBuffer();
}

/** The transactional id of a key, or undefined for an unknown key version. */
export function decodeTxnLogKey(buf: Buffer): string | undefined {
  const r = new Reader(buf);
  if (r.readInt16() !== 0) return undefined;
  return r.readString() ?? undefined;
}

export function txnLogValue(v: TxnLogValue): Buffer {
  const w = new Writer(128);
  w.writeInt16(0);
  w.writeInt64(BigInt(v.producerId));
  w.writeInt16(v.producerEpoch);
  w.writeInt32(v.timeoutMs);
  w.writeInt8(stateId(v.state));
  w.writeArrayLength(v.partitions.size);
  for (const [topic, ids] of v.partitions) {
    w.writeString(topic);
    w.writeArrayLength(ids.length);
    for (const p of ids) w.writeInt32(p);
  }
  w.writeInt64(BigInt(v.lastUpdateTimestamp));
  w.writeInt64(BigInt(v.startTimestamp));
  return w.toBuffer();
}

export function decodeTxnLogValue(buf: Buffer): TxnLogValue {
  const r = new Reader(buf);
  const version = r.readInt16();
  if (version > 1) throw new UnsupportedVersionError(`unknown TransactionLogValue version ${version}`);
  const flexible = version >= 1;
  const str = (): string => (flexible ? r.readCompactString() : r.readString()) ?? '';
  const arr = (): number => (flexible ? r.readCompactArrayLength() : r.readArrayLength());
  const producerId = Number(r.readInt64());
  const producerEpoch = r.readInt16();
  const timeoutMs = r.readInt32();
  const state = stateFromId(r.readInt8());
  const partitions = new Map<string, number[]>();
  const n = arr();
  for (let i = 0; i < n; i++) {
    const topic = str();
    const m = arr();
    const ids: number[] = [];
    for (let j = 0; j < m; j++) ids.push(r.readInt32());
    if (flexible) r.skipTaggedFields();
    partitions.set(topic, ids);
  }
  const lastUpdateTimestamp = Number(r.readInt64());
  const startTimestamp = Number(r.readInt64());
  let previousProducerId = -1;
  if (flexible) {
    const tags = r.readUVarint();
    for (let i = 0; i < tags; i++) {
      const tag = r.readUVarint();
      const end = r.taggedFieldEnd();
      if (tag === 0) previousProducerId = Number(r.readInt64());
      else r.skip(end - (buf.length - r.remaining()));
      r.checkTaggedFieldEnd(end, tag);
    }
  }
  return {
    producerId,
    previousProducerId,
    producerEpoch,
    timeoutMs,
    state,
    partitions,
    lastUpdateTimestamp,
    startTimestamp,
  };
}
