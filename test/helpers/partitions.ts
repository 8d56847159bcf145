/**
 * A broker's partition for tests that write to it directly: through the replica manager's Partition,
 * as every broker write path does, so the high watermark moves and waiting fetches wake.
 */
import type { Broker } from '../../broker/broker.js';
import type { Partition } from '../../replication/partition.js';

export function partitionOf(broker: Broker, topic: string, partition: number): Partition {
  const p = broker.replicaManager.getPartition(topic, partition);
  if (typeof p === 'number') throw new Error(`${topic}-${partition} is not hosted (error ${p})`);
  return p;
}
