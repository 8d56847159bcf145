/**
 * ProducerIdManager: hands out producer ids (InitProducerId) that are never reused, across restarts.
 *
 * Ids are reserved in blocks (default 1000, like Kafka's controller-allocated blocks) from the metadata
 * store (`allocateProducerIdBlock`, durable before it resolves: the local store writes
 * `<data dir>/producer-id-block`). After a restart allocation resumes past the last reserved block, so ids
 * of a block not fully used are skipped, never repeated.
 */
import type { MetadataStore } from '../replication/metadata/store.js';

export class ProducerIdManager {
  private next = 0;
  private blockEnd = 0;
  private reserving: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<MetadataStore, 'allocateProducerIdBlock'>,
    private readonly brokerId: number,
    private readonly blockSize = 1000,
  ) {}

  /** A producer id never handed out before (in this cluster). */
  async allocate(): Promise<number> {
    while (this.next >= this.blockEnd) {
      this.reserving ??= this.reserve().finally(() => {
        this.reserving = undefined;
      });
      await this.reserving;
    }
    return this.next++;
  }

  private async reserve(): Promise<void> {
    const block = await this.store.allocateProducerIdBlock(this.brokerId, this.blockSize);
    this.next = block.firstProducerId;
    this.blockEnd = block.firstProducerId + block.size;
  }
}
