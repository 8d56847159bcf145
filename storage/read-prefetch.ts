/**
 * Sequential read-ahead for cold log files (issue #16: consume from files not in the page cache). A consumer
 * fetch reads a partition's next range, sends it, and only then is asked for the range after it: when the file
 * is not cached, every fetch waits for the disk. Node has no posix_fadvise(WILLNEED), so after a slow
 * sequential read of a file this starts a read of the range that follows it into a scratch buffer (discarded:
 * the point is the page cache), overlapping the disk with the send and the client's next request.
 *
 * - `noteRead(handle, position, length, ms, diskBytes)` is called after a read into caller memory of at least
 *   MIN_READ bytes. A read that took at least SLOW_MS while the process read at least COLD_DISK_BYTES from the
 *   storage device (`diskBytes`, from fs.ts processDiskReadBytes; undefined: not known, the time alone
 *   decides) marks the handle cold for the next KEEP reads; while cold, each read continuing the previous
 *   one (within SLACK) has up to AHEAD bytes after it read ahead, in reads of at most CHUNK bytes. A warm file is
 *   never read twice: a read slowed by a busy CPU (the thread pool's queue, an event loop busy sending) but
 *   served from the page cache read nothing from the device (issue #16: on a loaded machine the time alone
 *   called most warm reads cold, and every byte a consumer fetched was read from the page cache twice).
 * - Bounded: at most MAX_IN_FLIGHT read-ahead reads at once in the process, each in its own scratch buffer
 *   (kept for reuse, so at most MAX_IN_FLIGHT x CHUNK bytes = 8 MiB); a failed read-ahead (file closed or deleted) is
 *   ignored. Reads ahead never change what a fetch returns: they only warm the cache.
 */
import type { FileHandle } from './fs.js';

/** Reads smaller than this are not looked at. */
export const MIN_READ = 256 * 1024;
/** A read taking this long (ms) may be a cold one. */
export const SLOW_MS = 2;
/** Device bytes read during a slow read that make it a cold one (less: another file's metadata, say). */
const COLD_DISK_BYTES = 64 * 1024;
const KEEP = 64;
const SLACK = 64 * 1024;
const CHUNK = 1 << 20;
const AHEAD = 8 * CHUNK;
const MAX_IN_FLIGHT = 8;

interface FileState {
  /** End of the last read. */
  end: number;
  /** Read ahead up to here. */
  ahead: number;
  /** Reads left that may read ahead (set by a slow read). */
  cold: number;
}

const files = new WeakMap<FileHandle, FileState>();
const scratch: Buffer[] = [];
let inFlight = 0;

/** Read-ahead reads running now (tests). */
export function readAheadInFlight(): number {
  return inFlight;
}

export function noteRead(handle: FileHandle, position: number, length: number, ms: number, diskBytes?: number): void {
  if (length < MIN_READ) return;
  let s = files.get(handle);
  if (!s) {
    s = { end: 0, ahead: 0, cold: 0 };
    files.set(handle, s);
  }
  const sequential = position >= s.end - SLACK && position <= s.end + SLACK;
  s.end = position + length;
  if (ms >= SLOW_MS && (diskBytes === undefined || diskBytes >= COLD_DISK_BYTES)) s.cold = KEEP;
  else if (s.cold > 0) s.cold--;
  if (s.cold === 0 || !sequential) return;
  if (s.ahead < s.end) s.ahead = s.end;
  while (inFlight < MAX_IN_FLIGHT && s.ahead < s.end + AHEAD) {
    const from = s.ahead;
    const n = Math.min(CHUNK, s.end + AHEAD - from);
    s.ahead = from + n;
    const buf = scratch.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
    inFlight++;
    handle
      .read(buf, 0, n, from)
      .catch(() => 0)
      .finally(() => {
        inFlight--;
        scratch.push(buf);
      });
  }
}
