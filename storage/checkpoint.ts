/**
 * Checkpoint files: small text files replaced atomically.
 *
 * On-disk format (Kafka's CheckpointFile): UTF-8 lines separated by '\n':
 *   <version>\n<entry count>\n<entry>\n...<entry>\n
 * with entries formatted per file type, fields separated by single spaces:
 *   - offset checkpoints (`recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`, version 0):
 *     `<topic> <partition> <offset>`
 *   - `leader-epoch-checkpoint` (version 0): `<epoch> <startOffset>`
 *
 * Atomic replacement: write `<name>.tmp`, fsync it, rename over `<name>`, fsync the directory. A crash
 * leaves either the old or the new file; a stray `.tmp` is ignored and overwritten by the next write.
 * A file that does not parse (wrong version, count mismatch, malformed line) raises StorageError.
 */

import path from 'node:path';
import type { FileSystem } from './fs.js';
import { isNotFound } from './fs.js';
import { StorageError } from '../protocol/errors.js';

/**
 * Write `data` to `filePath` atomically and durably (tmp + fsync + rename + dir fsync). `syncDir` false leaves
 * the directory fsync (the rename's durability) to the caller, who shares one among several files.
 */
export async function writeFileAtomically(
  fs: FileSystem,
  filePath: string,
  data: Buffer,
  syncDir = true,
): Promise<void> {
  const tmp = `${filePath}.tmp`;
  const h = await fs.open(tmp, { create: true, truncate: true });
  try {
    await h.writev([data], 0);
    await h.sync();
  } finally {
    await h.close();
  }
  await fs.rename(tmp, filePath);
  if (syncDir) await fs.syncDir(path.dirname(filePath));
}

export interface CheckpointFormat<T> {
  version: number;
  toLine(entry: T): string;
  /** Parse one line; undefined if malformed. */
  fromLine(line: string): T | undefined;
}

export class CheckpointFile<T> {
  constructor(
    private readonly fs: FileSystem,
    readonly path: string,
    private readonly format: CheckpointFormat<T>,
  ) {}

  /** Replace the file (see writeFileAtomically for `syncDir`). */
  async write(entries: readonly T[], syncDir = true): Promise<void> {
    let text = `${this.format.version}\n${entries.length}\n`;
    for (const e of entries) text += `${this.format.toLine(e)}\n`;
    await writeFileAtomically(this.fs, this.path, Buffer.from(text, 'utf8'), syncDir);
  }

  /** Entries, or undefined if the file does not exist. */
  async read(): Promise<T[] | undefined> {
    let data: Buffer;
    try {
      data = await this.fs.readFile(this.path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const lines = data.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const bad = (why: string): StorageError => new StorageError(`malformed checkpoint ${this.path}: ${why}`);
    if (lines.length < 2) throw bad('missing header');
    if (lines[0] !== String(this.format.version)) throw bad(`unsupported version ${JSON.stringify(lines[0])}`);
    if (!/^\d+$/.test(lines[1]!)) throw bad(`bad count ${JSON.stringify(lines[1])}`);
    const count = Number(lines[1]);
    if (lines.length - 2 !== count) throw bad(`expected ${count} entries, found ${lines.length - 2}`);
    const out: T[] = [];
    for (let i = 2; i < lines.length; i++) {
      const e = this.format.fromLine(lines[i]!);
      if (e === undefined) throw bad(`line ${i + 1}: ${JSON.stringify(lines[i])}`);
      out.push(e);
    }
    return out;
  }
}

const INT_RE = /^-?\d+$/;

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

export const OFFSET_CHECKPOINT_FORMAT: CheckpointFormat<TopicPartitionOffset> = {
  version: 0,
  toLine: (e) => `${e.topic} ${e.partition} ${e.offset}`,
  fromLine: (line) => {
    const parts = line.split(' ');
    if (parts.length !== 3 || parts[0]!.length === 0 || !INT_RE.test(parts[1]!) || !INT_RE.test(parts[2]!))
      return undefined;
    return { topic: parts[0]!, partition: Number(parts[1]), offset: Number(parts[2]) };
  },
};

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export const LEADER_EPOCH_CHECKPOINT_FORMAT: CheckpointFormat<EpochEntry> = {
  version: 0,
  toLine: (e) => `${e.epoch} ${e.startOffset}`,
  fromLine: (line) => {
    const parts = line.split(' ');
    if (parts.length !== 2 || !INT_RE.test(parts[0]!) || !INT_RE.test(parts[1]!)) return undefined;
    return { epoch: Number(parts[0]), startOffset: Number(parts[1]) };
  },
};

/** `topic-partition` key used by the offset checkpoint maps. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** An offset checkpoint (recovery points or log start offsets) read/written as a map. */
export class OffsetCheckpointFile {
  private readonly file: CheckpointFile<TopicPartitionOffset>;

  constructor(fs: FileSystem, filePath: string) {
    this.file = new CheckpointFile(fs, filePath, OFFSET_CHECKPOINT_FORMAT);
  }

  get path(): string {
    return this.file.path;
  }

  async write(entries: readonly TopicPartitionOffset[]): Promise<void> {
    await this.file.write(entries);
  }

  /** Map keyed by `topic-partition`; empty if the file is missing. */
  async read(): Promise<Map<string, number>> {
    const entries = (await this.file.read()) ?? [];
    const map = new Map<string, number>();
    for (const e of entries) map.set(tpKey(e.topic, e.partition), e.offset);
    return map;
  }
}
