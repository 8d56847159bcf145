/**
 * Record → partition, as the Java client's default partitioner does (Kafka 3.3+, KIP-794):
 * - an explicit partition wins;
 * - a record with a key goes to toPositive(murmur2(keyBytes)) % numPartitions, over all partitions
 *   (Utils.murmur2 with seed 0x9747b28c, Utils.toPositive = n & 0x7fffffff);
 * - a keyless record goes to the topic's "sticky" partition, picked at random among partitions whose leader
 *   is available and kept until batchBytes bytes have been produced to it (BuiltInPartitioner without the
 *   adaptive queue weighting), then another one is picked.
 */

const M = 0x5bd1e995;
const SEED = 0x9747b28c;

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2): a signed 32-bit hash. */
export function murmur2(key: Buffer): number {
  const len = key.length;
  let h = (SEED ^ len) | 0;
  const whole = len & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const rest = len & 3;
  if (rest === 3) h ^= key[whole + 2] << 16;
  if (rest >= 2) h ^= key[whole + 1] << 8;
  if (rest >= 1) {
    h ^= key[whole];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Utils.toPositive: clears the sign bit (not Math.abs, which differs for negative numbers). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition the Java client's default partitioner picks for a keyed record. */
export function partitionForKey(key: Buffer, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions;
}

/** Sticky choice for keyless records, one per topic. */
export class StickyPartitioner {
  private readonly current = new Map<string, { partition: number; bytes: number }>();

  constructor(
    private readonly batchBytes: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The partition for a keyless record of about `size` bytes; `available` lists partitions with a leader. */
  partition(topic: string, numPartitions: number, available: number[], size: number): number {
    let s = this.current.get(topic);
    if (!s || s.partition >= numPartitions || s.bytes >= this.batchBytes) {
      s = { partition: this.pick(numPartitions, available, s?.partition), bytes: 0 };
      this.current.set(topic, s);
    }
    s.bytes += size;
    return s.partition;
  }

  private pick(numPartitions: number, available: number[], previous: number | undefined): number {
    const pool = available.length > 0 ? available : Array.from({ length: numPartitions }, (_, i) => i);
    if (pool.length === 1) return pool[0];
    for (let i = 0; i < 8; i++) {
      const p = pool[Math.floor(this.random() * pool.length)];
      if (p !== previous) return p;
    }
    return pool[0];
  }
}
