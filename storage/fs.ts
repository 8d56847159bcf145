/**
 * The file-system seam of the storage layer.
 *
 * Storage code never touches node:fs directly: it goes through `FileSystem`/`FileHandle`, implemented by
 * `NodeFileSystem` (node:fs/promises, and node:fs callbacks where cheaper; used in production) and
 * `MemoryFileSystem` (storage/memory-fs.ts, fault injection and power-loss simulation for tests).
 *
 * Contract (both implementations):
 * - All I/O is asynchronous, with one exception: in start-up mode (`setStartupMode(true)`, LogManager's initial
 *   load, before the broker serves anything) NodeFileSystem runs readdir, stat, exists and readFile as blocking
 *   calls on the calling thread, and `readNow` reads a range of a file that way. Loading 10,000 partitions makes tens
 * of thousands of them; each is a few
 *   microseconds of syscalls, while the callback API pays two thread-pool hand-offs and a promise per call
 *   (about 3x the CPU, and far more wall time on a loaded machine). Promises are still returned.
 * - `FileHandle.writev(buffers, position)` is positional and writes every byte or throws (short writes
 *   are retried). Callers track their own append position, so files are never opened O_APPEND.
 * - `read` may return fewer bytes than asked only at end of file.
 * - Durability: data written to a file is durable after `sync()`/`datasync()` of that file; a directory
 *   entry created, renamed or removed is durable after `syncDir()` of its parent directory. `rename` is
 *   atomic (the destination shows either the old or the new file, never a mix).
 * - Every failure is thrown as `FileSystemError` (a coded `StorageError`), carrying the errno string
 *   (`ENOENT`, `EEXIST`, `EIO`, ...) so callers can tell "missing" from "broken".
 */

import { noteRead } from './read-prefetch.js';
import { open as fsOpen, mkdir, rename, unlink, rm, writeFile } from 'node:fs/promises';
import { closeSync, constants, openSync, readFile, readFileSync, readSync } from 'node:fs';
import { readdir, readdirSync, stat, statSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { StorageError } from '../protocol/errors.js';

// readFile, readdir and stat (start-up does one or more per partition) through the callback API: about half
// the CPU of node:fs/promises' (no FileHandle objects; measured with 10,000 partitions).
const readFileCb = promisify(readFile);
const readdirCb = promisify(readdir);
const statCb = promisify(stat);

export class FileSystemError extends StorageError {
  /** errno-style code: ENOENT, EEXIST, ENOTDIR, EIO, EBADF, ... */
  readonly errno: string;
  constructor(op: string, filePath: string, errno: string, detail?: string) {
    super(`${op} ${filePath}: ${errno}${detail ? ` (${detail})` : ''}`);
    this.errno = errno;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof FileSystemError && err.errno === 'ENOENT';
}

export interface OpenOptions {
  /** Create the file if it does not exist (default false: ENOENT). */
  create?: boolean;
  /** Truncate to zero length on open. */
  truncate?: boolean;
  /**
   * The file is known to exist (just listed) and may be opened on first use: an implementation that
   * can (CachingFileSystem) takes no descriptor until the first operation, which then reports a missing
   * file (ENOENT). Ignored with `create` or `truncate`; others open at once.
   */
  lazy?: boolean;
  /** Open for reading only (O_RDONLY; the log cleaner's sources). Implementations may ignore it. */
  readOnly?: boolean;
}

export interface FileStat {
  size: number;
  isDirectory: boolean;
}

export interface FileHandle {
  readonly path: string;
  /** Read up to `length` bytes at `position` into `buffer[offset..]`; returns bytes read (short only at EOF). */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Write all of `buffers` contiguously starting at `position` (one writev when possible). */
  writev(buffers: readonly Buffer[], position: number): Promise<void>;
  /** fsync: data and metadata. */
  sync(): Promise<void>;
  /** fdatasync: data and the metadata needed to read it back (size). */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface FileSystem {
  open(filePath: string, options?: OpenOptions): Promise<FileHandle>;
  /** mkdir -p. */
  mkdirp(dirPath: string): Promise<void>;
  /** Entry names of a directory (unsorted). */
  readdir(dirPath: string): Promise<string[]>;
  stat(filePath: string): Promise<FileStat>;
  /** Atomic rename, replacing `to` if it exists. */
  rename(from: string, to: string): Promise<void>;
  unlink(filePath: string): Promise<void>;
  /** rm -rf (no error if missing). */
  rmrf(filePath: string): Promise<void>;
  exists(filePath: string): Promise<boolean>;
  readFile(filePath: string): Promise<Buffer>;
  /** Create/replace a file's content. Not durable by itself (see writeFileDurably in checkpoint.ts). */
  writeFile(filePath: string, data: Buffer): Promise<void>;
  /** fsync a directory, making entry creations/renames/removals in it durable. */
  syncDir(dirPath: string): Promise<void>;
  /** Start-up mode on or off (see the header); optional, a no-op where absent. */
  setStartupMode?(on: boolean): void;
  /**
   * In start-up mode: `length` bytes (fewer at end of file) of the file at `position`, read by blocking calls
   * (open, read, close: no descriptor is kept). Otherwise, or where not implemented: undefined.
   */
  readNow?(filePath: string, position: number, length: number): Buffer | undefined;
  /** True if the files are the OS's at their paths, so another thread may open them (the log cleaner's worker). */
  readonly osFiles?: boolean;
}

/** Read exactly up to `length` bytes at `position` (looping on short reads); returns the filled slice. */
export async function readAt(handle: FileHandle, position: number, length: number, into?: Buffer): Promise<Buffer> {
  const buf = into && into.length >= length ? into : Buffer.allocUnsafe(length);
  const t0 = into ? performance.now() : 0;
  let got = 0;
  while (got < length) {
    const n = await handle.read(buf, got, length - got, position + got);
    if (n <= 0) break;
    got += n;
  }
  // Reads into caller memory are consumer fetches' (read-buffers.ts): cold files get read ahead.
  if (into) noteRead(handle, position, got, performance.now() - t0);
  return buf.subarray(0, got);
}

/**
 * mkdir -p that makes each newly created level durable by fsyncing its parent directory.
 * Returns true if anything was created.
 */
export async function ensureDirDurable(fs: FileSystem, dirPath: string): Promise<boolean> {
  if (await fs.exists(dirPath)) return false;
  const missing: string[] = [];
  let p = dirPath;
  while (!(await fs.exists(p))) {
    missing.push(p);
    const parent = path.dirname(p);
    if (parent === p) break;
    p = parent;
  }
  await fs.mkdirp(dirPath);
  for (let i = missing.length - 1; i >= 0; i--) {
    const parent = path.dirname(missing[i]!);
    if (parent !== missing[i]) await fs.syncDir(parent);
  }
  return true;
}

function wrap(op: string, p: string, err: unknown): FileSystemError {
  if (err instanceof FileSystemError) return err;
  const e = err as NodeJS.ErrnoException;
  return new FileSystemError(op, p, typeof e?.code === 'string' ? e.code : 'EIO', e?.message);
}

class NodeFileHandle implements FileHandle {
  constructor(
    readonly path: string,
    private readonly fh: import('node:fs/promises').FileHandle,
  ) {}

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    try {
      const { bytesRead } = await this.fh.read(buffer, offset, length, position);
      return bytesRead;
    } catch (err) {
      throw wrap('read', this.path, err);
    }
  }

  async writev(buffers: readonly Buffer[], position: number): Promise<void> {
    let total = 0;
    for (const b of buffers) total += b.length;
    if (total === 0) return;
    try {
      let bufs = buffers as Buffer[];
      let pos = position;
      let remaining = total;
      for (;;) {
        const { bytesWritten } = await this.fh.writev(bufs, pos);
        remaining -= bytesWritten;
        if (remaining <= 0) return;
        if (bytesWritten <= 0) throw new FileSystemError('writev', this.path, 'EIO', 'no progress');
        pos += bytesWritten;
        // Drop the fully written buffers and slice the partially written one.
        let skip = bytesWritten;
        const rest: Buffer[] = [];
        for (const b of bufs) {
          if (skip >= b.length) {
            skip -= b.length;
            continue;
          }
          rest.push(skip > 0 ? b.subarray(skip) : b);
          skip = 0;
        }
        bufs = rest;
      }
    } catch (err) {
      throw wrap('writev', this.path, err);
    }
  }

  async sync(): Promise<void> {
    try {
      await this.fh.sync();
    } catch (err) {
      throw wrap('fsync', this.path, err);
    }
  }

  async datasync(): Promise<void> {
    try {
      await this.fh.datasync();
    } catch (err) {
      throw wrap('fdatasync', this.path, err);
    }
  }

  async truncate(length: number): Promise<void> {
    try {
      await this.fh.truncate(length);
    } catch (err) {
      throw wrap('truncate', this.path, err);
    }
  }

  async size(): Promise<number> {
    try {
      return (await this.fh.stat()).size;
    } catch (err) {
      throw wrap('fstat', this.path, err);
    }
  }

  async close(): Promise<void> {
    try {
      await this.fh.close();
    } catch (err) {
      throw wrap('close', this.path, err);
    }
  }
}

/** Production implementation over node:fs/promises. */
export class NodeFileSystem implements FileSystem {
  readonly osFiles = true;
  /** Start-up mode: readdir, stat, exists and readFile block (see the header). */
  private blocking = false;

  setStartupMode(on: boolean): void {
    this.blocking = on;
  }

  readNow(filePath: string, position: number, length: number): Buffer | undefined {
    if (!this.blocking) return undefined;
    let fd: number | undefined;
    try {
      fd = openSync(filePath, 'r');
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, position + got);
        if (n <= 0) break;
        got += n;
      }
      return buf.subarray(0, got);
    } catch (err) {
      throw wrap('read', filePath, err);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  async open(filePath: string, options: OpenOptions = {}): Promise<FileHandle> {
    let flags = options.readOnly ? constants.O_RDONLY : constants.O_RDWR;
    if (options.create) flags |= constants.O_CREAT;
    if (options.truncate) flags |= constants.O_TRUNC;
    try {
      return new NodeFileHandle(filePath, await fsOpen(filePath, flags, 0o644));
    } catch (err) {
      throw wrap('open', filePath, err);
    }
  }

  async mkdirp(dirPath: string): Promise<void> {
    try {
      await mkdir(dirPath, { recursive: true });
    } catch (err) {
      throw wrap('mkdir', dirPath, err);
    }
  }

  async readdir(dirPath: string): Promise<string[]> {
    try {
      return this.blocking ? readdirSync(dirPath) : await readdirCb(dirPath);
    } catch (err) {
      throw wrap('readdir', dirPath, err);
    }
  }

  async stat(filePath: string): Promise<FileStat> {
    try {
      const s = this.blocking ? statSync(filePath) : await statCb(filePath);
      return { size: s.size, isDirectory: s.isDirectory() };
    } catch (err) {
      throw wrap('stat', filePath, err);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    try {
      await rename(from, to);
    } catch (err) {
      throw wrap('rename', `${from} -> ${to}`, err);
    }
  }

  async unlink(filePath: string): Promise<void> {
    try {
      await unlink(filePath);
    } catch (err) {
      throw wrap('unlink', filePath, err);
    }
  }

  async rmrf(filePath: string): Promise<void> {
    try {
      await rm(filePath, { recursive: true, force: true });
    } catch (err) {
      throw wrap('rm', filePath, err);
    }
  }

  async exists(filePath: string): Promise<boolean> {
    try {
      if (this.blocking) statSync(filePath);
      else await statCb(filePath);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw wrap('stat', filePath, err);
    }
  }

  async readFile(filePath: string): Promise<Buffer> {
    try {
      return this.blocking ? readFileSync(filePath) : await readFileCb(filePath);
    } catch (err) {
      throw wrap('readFile', filePath, err);
    }
  }

  async writeFile(filePath: string, data: Buffer): Promise<void> {
    try {
      await writeFile(filePath, data);
    } catch (err) {
      throw wrap('writeFile', filePath, err);
    }
  }

  async syncDir(dirPath: string): Promise<void> {
    if (process.platform === 'win32') return; // directories cannot be fsynced there
    let fh: import('node:fs/promises').FileHandle | undefined;
    try {
      fh = await fsOpen(dirPath, constants.O_RDONLY);
      await fh.sync();
    } catch (err) {
      throw wrap('fsync dir', dirPath, err);
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }
}
