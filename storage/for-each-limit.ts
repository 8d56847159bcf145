/**
 * Bounded concurrency: `forEachLimit(items, limit, fn)` runs `fn` over `items` with at most `limit` calls in
 * flight, items taken in order. Used by the log manager (recovery, creation, close), the epoch writer and the
 * scale benchmark's clients.
 */

/** Run `fn` over `items`, at most `limit` at a time; `fn` gets each item and its index. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
