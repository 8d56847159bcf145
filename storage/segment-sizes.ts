/**
 * The sizes of a segment's files for LogSegment.open, learned without opening them: with the partition
 * directory just listed (`files`), each listed file is sized by one stat (it is then opened lazily, see
 * OpenOptions.lazy). With the segment's clean-shutdown tail (segment-types.ts) and a log file of exactly the
 * recorded size, the index sizes are the recorded ones and only the log is stated.
 * A file not listed gets no size: the caller opens it as before (creating a missing index to rebuild it).
 */
import type { FileSystem } from './fs.js';
import { INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, segmentFileName, segmentPath } from './segment-types.js';
import type { SegmentTail } from './segment-types.js';

export interface SegmentSizes {
  log?: number;
  index?: number;
  time?: number;
  /** The clean-shutdown tail, when it matches the log file (see the header). */
  tail?: SegmentTail;
}

export async function segmentSizes(
  fs: FileSystem,
  dir: string,
  baseOffset: number,
  files: ReadonlySet<string> | undefined,
  tail: SegmentTail | undefined,
): Promise<SegmentSizes> {
  if (!files) return {};
  const name = (sfx: string): string => segmentFileName(baseOffset, sfx);
  const size = async (sfx: string): Promise<number | undefined> =>
    files.has(name(sfx)) ? (await fs.stat(segmentPath(dir, name(sfx)))).size : undefined;
  const log = await size(LOG_SUFFIX);
  if (log === undefined) return {};
  if (
    tail?.baseOffset === baseOffset &&
    tail.size === log &&
    files.has(name(INDEX_SUFFIX)) &&
    files.has(name(TIME_INDEX_SUFFIX))
  )
    return { log, index: tail.offsetIndexBytes, time: tail.timeIndexBytes, tail };
  const out: SegmentSizes = { log };
  const index = await size(INDEX_SUFFIX);
  const time = await size(TIME_INDEX_SUFFIX);
  if (index !== undefined) out.index = index;
  if (time !== undefined) out.time = time;
  return out;
}
