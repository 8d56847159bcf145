/**
 * The published side of a metadata store or feed: the newest image and its subscribers. publish() makes a new
 * image current and hands the delta to every listener in subscription order, one after another; a listener
 * that fails does not stop the others, and the first failure is returned for the caller's contract (the local
 * store rethrows it, the etcd feed settles the waiters of that revision with it).
 */
import type { MetadataImage } from './image.js';
import type { MetadataChange, MetadataDelta, MetadataListener } from './store.js';

export class ImagePublisher {
  private readonly listeners: MetadataListener[] = [];

  constructor(private current: MetadataImage) {}

  get image(): MetadataImage {
    return this.current;
  }

  subscribe(listener: MetadataListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Make `image` current and deliver the delta; resolves to the first listener error (undefined: none). */
  async publish(image: MetadataImage, changes: readonly MetadataChange[]): Promise<unknown> {
    const delta: MetadataDelta = { previous: this.current, image, changes };
    this.current = image;
    let failure: unknown;
    for (const l of [...this.listeners]) {
      try {
        await l(delta);
      } catch (err) {
        failure ??= err;
      }
    }
    return failure;
  }
}
