/**
 * Record formats of the internal `__consumer_offsets` topic, using Kafka's own schemas (non-flexible
 * versions, as the classic coordinator writes them), so the topic reads like Kafka's:
 *
 *   OffsetCommitKey   (key version 1):   version int16 = 1, group string, topic string, partition int32
 *   OffsetCommitValue (value version 3): version int16 = 3, offset int64, leader_epoch int32,
 *                                        metadata string, commit_timestamp int64
 *   GroupMetadataKey  (key version 2):   version int16 = 2, group string
 *   GroupMetadataValue (value version 3): version int16 = 3, protocol_type string, generation int32,
 *                                        protocol nullable string, leader nullable string,
 *                                        current_state_timestamp int64,
 *                                        members [int32 count] of: member_id string,
 *                                          group_instance_id nullable string, client_id string,
 *                                          client_host string, rebalance_timeout int32,
 *                                          session_timeout int32, subscription bytes, assignment bytes
 *
 * Strings are int16 length + UTF-8 (-1 = null), bytes int32 length + data. A null record value is a
 * tombstone (offset deleted / group deleted). Decoding also accepts offset value versions 0-1 (offset,
 * metadata, commit timestamp[, expire timestamp]) and group value versions 0-2, which Kafka wrote before.
 * Unknown key versions (e.g. Kafka's transaction or share-group records) decode to undefined and are skipped.
 */

export interface OffsetKey {
  kind: 'offset';
  group: string;
  topic: string;
  partition: number;
}

export interface GroupKey {
  kind: 'group';
  group: string;
}

export interface OffsetValue {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
}

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: number;
  members: StoredMember[];
}

class Out {
  private parts: Buffer[] = [];
  i16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  i64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(Math.trunc(v)));
    this.parts.push(b);
    return this;
  }
  str(v: string | null): this {
    if (v === null) return this.i16(-1);
    const s = Buffer.from(v, 'utf8');
    this.i16(s.length);
    this.parts.push(s);
    return this;
  }
  bytes(v: Buffer): this {
    this.i32(v.length);
    this.parts.push(v);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class In {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  i16(): number {
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  i64(): number {
    const v = this.buf.readInt32BE(this.pos) * 0x1_0000_0000 + this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return v;
  }
  str(): string | null {
    const n = this.i16();
    if (n < 0) return null;
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  bytes(): Buffer {
    const n = this.i32();
    if (n < 0) return Buffer.alloc(0);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }
}

/** int16 length + UTF-8 bytes of a (non-null) string, written at `pos`; returns the position after it. */
function putStr(buf: Buffer, pos: number, s: string, len: number): number {
  buf.writeInt16BE(len, pos);
  if (len > 0) buf.write(s, pos + 2, len, 'utf8');
  return pos + 2 + len;
}

/** A 64-bit integer (a safe-integer number) as two 32-bit halves: no BigInt on the commit path. */
function putI64(buf: Buffer, pos: number, v: number): number {
  const t = Math.trunc(v);
  const hi = Math.floor(t / 0x1_0000_0000);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(t - hi * 0x1_0000_0000, pos + 4);
  return pos + 8;
}

// Offset keys and values are written on every commit: each is one allocation, sized first (no part buffers).
export function offsetKey(group: string, topic: string, partition: number): Buffer {
  const g = Buffer.byteLength(group, 'utf8');
  const t = Buffer.byteLength(topic, 'utf8');
  const buf = Buffer.allocUnsafe(2 + 2 + g + 2 + t + 4);
  buf.writeInt16BE(1, 0);
  let pos = putStr(buf, 2, group, g);
  pos = putStr(buf, pos, topic, t);
  buf.writeInt32BE(partition, pos);
  return buf;
}

export function groupKey(group: string): Buffer {
  return new Out().i16(2).str(group).done();
}

export function offsetValue(v: OffsetValue): Buffer {
  const m = Buffer.byteLength(v.metadata, 'utf8');
  const buf = Buffer.allocUnsafe(2 + 8 + 4 + 2 + m + 8);
  buf.writeInt16BE(3, 0);
  let pos = putI64(buf, 2, v.offset);
  buf.writeInt32BE(v.leaderEpoch, pos);
  pos = putStr(buf, pos + 4, v.metadata, m);
  putI64(buf, pos, v.commitTimestamp);
  return buf;
}

export function groupValue(v: GroupValue): Buffer {
  const o = new Out()
    .i16(3)
    .str(v.protocolType)
    .i32(v.generation)
    .str(v.protocol)
    .str(v.leader)
    .i64(v.currentStateTimestamp);
  o.i32(v.members.length);
  for (const m of v.members) {
    o.str(m.memberId)
      .str(m.groupInstanceId)
      .str(m.clientId)
      .str(m.clientHost)
      .i32(m.rebalanceTimeoutMs)
      .i32(m.sessionTimeoutMs);
    o.bytes(m.subscription).bytes(m.assignment);
  }
  return o.done();
}

export function decodeKey(buf: Buffer): OffsetKey | GroupKey | undefined {
  const r = new In(buf);
  const version = r.i16();
  if (version === 0 || version === 1) {
    return { kind: 'offset', group: r.str() ?? '', topic: r.str() ?? '', partition: r.i32() };
  }
  if (version === 2) return { kind: 'group', group: r.str() ?? '' };
  return undefined;
}

export function decodeOffsetValue(buf: Buffer): OffsetValue {
  const r = new In(buf);
  const version = r.i16();
  const offset = r.i64();
  const leaderEpoch = version >= 3 ? r.i32() : -1;
  const metadata = r.str() ?? '';
  const commitTimestamp = r.i64();
  return { offset, leaderEpoch, metadata, commitTimestamp };
}

export function decodeGroupValue(buf: Buffer): GroupValue {
  const r = new In(buf);
  const version = r.i16();
  const protocolType = r.str() ?? '';
  const generation = r.i32();
  const protocol = r.str();
  const leader = r.str();
  const currentStateTimestamp = version >= 2 ? r.i64() : -1;
  const n = r.i32();
  const members: StoredMember[] = [];
  for (let i = 0; i < n; i++) {
    const memberId = r.str() ?? '';
    const groupInstanceId = version >= 3 ? r.str() : null;
    const clientId = r.str() ?? '';
    const clientHost = r.str() ?? '';
    const rebalanceTimeoutMs = version >= 1 ? r.i32() : 0;
    const sessionTimeoutMs = r.i32();
    if (version === 0)
      members.push({
        memberId,
        groupInstanceId,
        clientId,
        clientHost,
        rebalanceTimeoutMs: sessionTimeoutMs,
        sessionTimeoutMs,
        subscription: r.bytes(),
        assignment: r.bytes(),
      });
    else
      members.push({
        memberId,
        groupInstanceId,
        clientId,
        clientHost,
        rebalanceTimeoutMs,
        sessionTimeoutMs,
        subscription: r.bytes(),
        assignment: r.bytes(),
      });
  }
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}

/** Java's String.hashCode over UTF-16 code units, as a signed 32-bit int. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's partitionFor(groupId): Utils.abs(hashCode) % partitions (Utils.abs maps MIN_VALUE to 0). */
export function offsetsPartitionFor(groupId: string, partitions: number): number {
  const h = javaStringHashCode(groupId);
  const abs = h === -2147483648 ? 0 : Math.abs(h);
  return abs % partitions;
}
