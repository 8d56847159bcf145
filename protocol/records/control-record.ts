/**
 * Control records: the single record of a control batch (attributes bit 5, batch.ts), as Kafka writes them for
 * transaction markers and KRaft. Key: int16 version (>= 0), int16 type (ControlRecordType). Value of an ABORT or
 * COMMIT marker (EndTxnMarker): int16 version (>= 0), int32 coordinatorEpoch; other types' values are not read.
 * Keys or values too short, or with a negative version, throw CorruptRecordError.
 */
import { CorruptRecordError } from '../errors.js';

export enum ControlRecordType {
  Abort = 0,
  Commit = 1,
  LeaderChange = 2,
  SnapshotHeader = 3,
  SnapshotFooter = 4,
  KraftVersion = 5,
  KraftVoters = 6,
}

export interface ControlRecord {
  version: number;
  type: number;
  /** For ABORT/COMMIT markers: the EndTxnMarker's coordinatorEpoch; else null. */
  coordinatorEpoch: number | null;
}

/** Parse a control record's key: int16 version, int16 type. */
export function parseControlRecordKey(key: Buffer | null): { version: number; type: number } {
  if (key === null || key.length < 4) throw new CorruptRecordError('control record key is shorter than 4 bytes');
  const version = key.readInt16BE(0);
  if (version < 0) throw new CorruptRecordError(`invalid control record key version ${version}`);
  return { version, type: key.readInt16BE(2) };
}

/** Parse an EndTxnMarker value: int16 version (0), int32 coordinatorEpoch. */
export function parseEndTxnMarker(value: Buffer | null): { version: number; coordinatorEpoch: number } {
  if (value === null || value.length < 6)
    throw new CorruptRecordError('end transaction marker value is shorter than 6 bytes');
  const version = value.readInt16BE(0);
  if (version < 0) throw new CorruptRecordError(`invalid end transaction marker version ${version}`);
  return { version, coordinatorEpoch: value.readInt32BE(2) };
}

/** Interpret a record of a control batch. */
export function parseControlRecord(record: { key: Buffer | null; value: Buffer | null }): ControlRecord {
  const { version, type } = parseControlRecordKey(record.key);
  const coordinatorEpoch =
    type === ControlRecordType.Abort || type === ControlRecordType.Commit
      ? parseEndTxnMarker(record.value).coordinatorEpoch
      : null;
  return { version, type, coordinatorEpoch };
}
