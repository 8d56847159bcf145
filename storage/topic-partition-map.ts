/**
 * TopicPartitionMap: values by topic, then partition number — for lookups on hot paths (one per partition of
 * every Produce and Fetch request) that would otherwise build a `topic-partition` string key per call (a new
 * string to flatten and hash each time). Invariant: no topic maps to an empty inner map.
 */
export class TopicPartitionMap<V> {
  private readonly topics = new Map<string, Map<number, V>>();
  private count = 0;

  get(topic: string, partition: number): V | undefined {
    return this.topics.get(topic)?.get(partition);
  }

  set(topic: string, partition: number, value: V): void {
    let parts = this.topics.get(topic);
    if (!parts) {
      parts = new Map();
      this.topics.set(topic, parts);
    }
    if (!parts.has(partition)) this.count++;
    parts.set(partition, value);
  }

  delete(topic: string, partition: number): boolean {
    const parts = this.topics.get(topic);
    if (!parts?.delete(partition)) return false;
    this.count--;
    if (parts.size === 0) this.topics.delete(topic);
    return true;
  }

  get size(): number {
    return this.count;
  }

  *values(): IterableIterator<V> {
    for (const parts of this.topics.values()) yield* parts.values();
  }
}
