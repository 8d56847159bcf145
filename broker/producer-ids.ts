/**
 * ProducerIdManager: hands out producer ids (InitProducerId) that are never reused, across restarts.
 *
 * Ids are reserved in blocks (default 1000, like Kafka's controller-allocated blocks): before the first
 * id of a block is handed out, the end of the block is written to `<data dir>/producer-id-block`
 * atomically and durably (tmp, fsync, rename, dir fsync). After a restart allocation resumes at the
 * stored end, so ids of a block not fully used are skipped, never repeated.
 *
 * File format: UTF-8 text, `version=1\nnext.block.start=<N>\n`; a missing file means 0. A file that
 * does not parse refuses start-up (StorageError) rather than risk handing out ids twice.
 */

import path from 'node:path';
import type { FileSystem } from '../storage/fs.js';
import { isNotFound } from '../storage/fs.js';
import { writeFileAtomically } from '../storage/checkpoint.js';
import { StorageError } from '../protocol/errors.js';

export const PRODUCER_ID_BLOCK_FILE = 'producer-id-block';

export class ProducerIdManager {
  private next = 0;
  private blockEnd = 0;
  private reserving: Promise<void> | undefined;

  private constructor(
    private readonly fs: FileSystem,
    private readonly file: string,
    private readonly blockSize: number,
  ) {}

  static async open(fs: FileSystem, dataDir: string, blockSize = 1000): Promise<ProducerIdManager> {
    const m = new ProducerIdManager(fs, path.join(dataDir, PRODUCER_ID_BLOCK_FILE), blockSize);
    let text: string | undefined;
    try {
      text = (await fs.readFile(m.file)).toString('utf8');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (text !== undefined) {
      const match = /^version=1\nnext\.block\.start=(\d+)\n$/.exec(text);
      if (!match) throw new StorageError(`${m.file} is not a producer id block file`);
      m.next = m.blockEnd = Number(match[1]);
    }
    return m;
  }

  /** A producer id never handed out before (in this data directory). */
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
    const end = this.blockEnd + this.blockSize;
    await writeFileAtomically(this.fs, this.file, Buffer.from(`version=1\nnext.block.start=${end}\n`));
    this.next = this.blockEnd;
    this.blockEnd = end;
  }
}
