/**
 * In-memory `FileSystem` for tests, with fault injection and a power-loss model.
 *
 * Durability model (the strict POSIX one, chosen so tests catch missing directory fsyncs):
 * - File contents: every file keeps its current bytes and a durable copy. `sync()`/`datasync()` of a
 *   handle copies the bytes as they are *when the call starts* into the durable copy (writes racing with
 *   an in-flight sync are not covered by it). Durable copies are updated incrementally from the lowest
 *   position touched since the last sync, so syncing an append-only file costs O(new bytes).
 * - Directory entries: every directory keeps its current name -> inode map and a durable snapshot of it.
 *   Creating a file or directory, `rename`, `unlink` and `rmrf` change only the current map; the
 *   snapshot is replaced by the current map on `syncDir(dir)`. Syncing a file does NOT make its name
 *   durable: a file created and synced but whose parent was never fsynced vanishes on power loss.
 *   A rename is atomic: after power loss each directory shows exactly its last synced snapshot.
 * - `powerLoss()` resets every reachable directory to its snapshot and every file to its durable bytes
 *   (optionally keeping up to `keepUnsyncedBytes` of an unsynced *append* to simulate a torn write), and
 *   invalidates every open handle (later calls on them fail with EIO). The root '/' always exists.
 *
 * Fault injection: `failNextWrite` (optionally after writing a prefix), `failNextSync` (the sync fails
 * and makes nothing durable). Both can be restricted to paths matching a substring or RegExp.
 * Counters in `stats` (fileSyncs, dirSyncs, writes, bytesWritten) let tests count fsyncs.
 */

import path from 'node:path';
import { FileSystemError } from './fs.js';
import type { FileHandle, FileStat, FileSystem, OpenOptions } from './fs.js';

interface FileNode {
  kind: 'file';
  data: Buffer;
  len: number;
  durable: Buffer;
  durableLen: number;
  /** Lowest byte position changed since the last sync (Infinity if clean). */
  dirtyLow: number;
}

interface DirNode {
  kind: 'dir';
  entries: Map<string, Node>;
  durable: Map<string, Node>;
}

type Node = FileNode | DirNode;

type PathMatch = string | RegExp;

export interface FailWriteOptions {
  path?: PathMatch;
  /** Bytes of the write that reach the file before the failure (default 0). */
  partialBytes?: number;
  errno?: string;
}

export interface FailSyncOptions {
  path?: PathMatch;
  errno?: string;
}

export interface PowerLossOptions {
  /** Keep up to this many bytes of each file's unsynced appended tail (torn write). Default 0. */
  keepUnsyncedBytes?: number;
}

export interface MemoryFsStats {
  fileSyncs: number;
  dirSyncs: number;
  writes: number;
  bytesWritten: number;
}

export interface MemoryFileSystemOptions {
  /** Simulated fsync latency: 'immediate' = one macrotask turn (default), or milliseconds. */
  syncLatency?: 'immediate' | number;
}

function matches(m: PathMatch | undefined, p: string): boolean {
  if (m === undefined) return true;
  return typeof m === 'string' ? p.includes(m) : m.test(p);
}

function newFile(): FileNode {
  return { kind: 'file', data: Buffer.alloc(0), len: 0, durable: Buffer.alloc(0), durableLen: 0, dirtyLow: Infinity };
}

function newDir(): DirNode {
  return { kind: 'dir', entries: new Map(), durable: new Map() };
}

function ensureCapacity(buf: Buffer, need: number): Buffer {
  if (buf.length >= need) return buf;
  const grown = Buffer.alloc(Math.max(need, buf.length * 2, 64));
  buf.copy(grown);
  return grown;
}

export class MemoryFileSystem implements FileSystem {
  readonly stats: MemoryFsStats = { fileSyncs: 0, dirSyncs: 0, writes: 0, bytesWritten: 0 };
  private root: DirNode = newDir();
  private generation = 0;
  private writeFaults: FailWriteOptions[] = [];
  private syncFaults: FailSyncOptions[] = [];
  private readonly syncLatency: 'immediate' | number;

  constructor(options: MemoryFileSystemOptions = {}) {
    this.syncLatency = options.syncLatency ?? 'immediate';
  }

  // ---- fault injection -------------------------------------------------------------------------

  failNextWrite(options: FailWriteOptions = {}): void {
    this.writeFaults.push(options);
  }

  failNextSync(options: FailSyncOptions = {}): void {
    this.syncFaults.push(options);
  }

  /** Lose everything not made durable, and invalidate all open handles. */
  powerLoss(options: PowerLossOptions = {}): void {
    this.generation++;
    this.writeFaults = [];
    this.syncFaults = [];
    const keep = options.keepUnsyncedBytes ?? 0;
    const seen = new Set<Node>();
    const restore = (node: Node): void => {
      if (seen.has(node)) return;
      seen.add(node);
      if (node.kind === 'dir') {
        node.entries = new Map(node.durable);
        for (const child of node.entries.values()) restore(child);
        return;
      }
      let len = node.durableLen;
      const extra = node.dirtyLow >= node.durableLen ? Math.min(keep, Math.max(0, node.len - node.durableLen)) : 0;
      const data = Buffer.alloc(len + extra);
      node.durable.copy(data, 0, 0, len);
      if (extra > 0) node.data.copy(data, len, len, len + extra);
      len += extra;
      node.data = data;
      node.len = len;
      node.durable = Buffer.from(data);
      node.durableLen = len;
      node.dirtyLow = Infinity;
    };
    this.root.durable = new Map(this.root.durable);
    restore(this.root);
  }

  /**
   * A view of this file system for one simulated process: once `powerLoss()` happens, every call made
   * through the view fails with EIO, as if the process had died with the machine. Pass a fresh
   * session to the code under test after each power loss so stale objects cannot keep writing.
   */
  session(): FileSystem {
    const gen = this.generation;
    const guard = <T>(op: string, p: string, fn: () => Promise<T>): Promise<T> => {
      try {
        this.checkGeneration(gen, op, p);
      } catch (err) {
        return Promise.reject(err);
      }
      return fn();
    };
    return {
      open: (p, o) => guard('open', p, () => this.open(p, o)),
      mkdirp: (p) => guard('mkdir', p, () => this.mkdirp(p)),
      readdir: (p) => guard('readdir', p, () => this.readdir(p)),
      stat: (p) => guard('stat', p, () => this.stat(p)),
      rename: (a, b) => guard('rename', a, () => this.rename(a, b)),
      unlink: (p) => guard('unlink', p, () => this.unlink(p)),
      rmrf: (p) => guard('rm', p, () => this.rmrf(p)),
      exists: (p) => guard('stat', p, () => this.exists(p)),
      readFile: (p) => guard('readFile', p, () => this.readFile(p)),
      writeFile: (p, d) => guard('writeFile', p, () => this.writeFile(p, d)),
      syncDir: (p) => guard('fsync dir', p, () => this.syncDir(p)),
    };
  }

  /** Bytes currently in a file (test inspection), or undefined if missing. */
  peek(filePath: string): Buffer | undefined {
    const n = this.lookup(filePath);
    return n?.kind === 'file' ? Buffer.from(n.data.subarray(0, n.len)) : undefined;
  }

  // ---- path helpers ----------------------------------------------------------------------------

  private parts(p: string): string[] {
    return path.posix
      .resolve('/', p)
      .split('/')
      .filter((s) => s.length > 0);
  }

  private lookup(p: string): Node | undefined {
    let node: Node = this.root;
    for (const part of this.parts(p)) {
      if (node.kind !== 'dir') return undefined;
      const next: Node | undefined = node.entries.get(part);
      if (next === undefined) return undefined;
      node = next;
    }
    return node;
  }

  private parentOf(op: string, p: string): { dir: DirNode; name: string } {
    const parts = this.parts(p);
    const name = parts.pop();
    if (name === undefined) throw new FileSystemError(op, p, 'EISDIR');
    const dir = this.lookup(`/${parts.join('/')}`);
    if (dir === undefined) throw new FileSystemError(op, p, 'ENOENT');
    if (dir.kind !== 'dir') throw new FileSystemError(op, p, 'ENOTDIR');
    return { dir, name };
  }

  private async tick(): Promise<void> {
    await Promise.resolve();
  }

  private async syncWait(): Promise<void> {
    if (this.syncLatency === 'immediate') await new Promise<void>((r) => setImmediate(r));
    else await new Promise<void>((r) => setTimeout(r, this.syncLatency as number));
  }

  private takeSyncFault(p: string): FailSyncOptions | undefined {
    const i = this.syncFaults.findIndex((f) => matches(f.path, p));
    return i < 0 ? undefined : this.syncFaults.splice(i, 1)[0];
  }

  // ---- file data operations (used by handles) --------------------------------------------------

  /** @internal */
  checkGeneration(gen: number, op: string, p: string): void {
    if (gen !== this.generation) throw new FileSystemError(op, p, 'EIO', 'handle invalidated by power loss');
  }

  /** @internal */
  writeData(node: FileNode, p: string, buffers: readonly Buffer[], position: number): void {
    let total = 0;
    for (const b of buffers) total += b.length;
    const fi = this.writeFaults.findIndex((f) => matches(f.path, p));
    let limit = total;
    let fault: FailWriteOptions | undefined;
    if (fi >= 0) {
      fault = this.writeFaults.splice(fi, 1)[0]!;
      limit = Math.min(total, Math.max(0, fault.partialBytes ?? 0));
    }
    if (limit > 0) {
      node.data = ensureCapacity(node.data, position + limit);
      if (position > node.len) node.data.fill(0, node.len, position);
      let pos = position;
      let left = limit;
      for (const b of buffers) {
        if (left <= 0) break;
        const n = Math.min(b.length, left);
        b.copy(node.data, pos, 0, n);
        pos += n;
        left -= n;
      }
      node.len = Math.max(node.len, position + limit);
      node.dirtyLow = Math.min(node.dirtyLow, position);
      this.stats.bytesWritten += limit;
    }
    this.stats.writes++;
    if (fault) throw new FileSystemError('writev', p, fault.errno ?? 'EIO', 'injected write failure');
  }

  /** @internal */
  async syncData(node: FileNode, p: string, gen: number): Promise<void> {
    this.checkGeneration(gen, 'fsync', p);
    const fault = this.takeSyncFault(p);
    // Capture what this sync covers before yielding: later writes are not included.
    const len = node.len;
    const low = node.dirtyLow;
    const snapshot = low < len ? Buffer.from(node.data.subarray(low, len)) : undefined;
    node.dirtyLow = Infinity; // from here on, track only changes made during/after this sync
    try {
      await this.syncWait();
      this.checkGeneration(gen, 'fsync', p);
      if (fault) throw new FileSystemError('fsync', p, fault.errno ?? 'EIO', 'injected sync failure');
    } catch (err) {
      node.dirtyLow = Math.min(node.dirtyLow, low);
      throw err;
    }
    this.stats.fileSyncs++;
    node.durable = ensureCapacity(node.durable, len);
    if (snapshot) snapshot.copy(node.durable, low);
    node.durableLen = len;
  }

  // ---- FileSystem ------------------------------------------------------------------------------

  async open(filePath: string, options: OpenOptions = {}): Promise<FileHandle> {
    await this.tick();
    let node = this.lookup(filePath);
    if (node === undefined) {
      if (!options.create) throw new FileSystemError('open', filePath, 'ENOENT');
      const { dir, name } = this.parentOf('open', filePath);
      node = newFile();
      dir.entries.set(name, node);
    } else if (node.kind === 'dir') {
      throw new FileSystemError('open', filePath, 'EISDIR');
    }
    if (options.truncate) {
      node.len = 0;
      node.dirtyLow = 0;
    }
    return new MemoryFileHandle(this, node, path.posix.resolve('/', filePath), this.generation);
  }

  async mkdirp(dirPath: string): Promise<void> {
    await this.tick();
    let node: DirNode = this.root;
    for (const part of this.parts(dirPath)) {
      const next = node.entries.get(part);
      if (next === undefined) {
        const d = newDir();
        node.entries.set(part, d);
        node = d;
      } else if (next.kind !== 'dir') {
        throw new FileSystemError('mkdir', dirPath, 'ENOTDIR');
      } else {
        node = next;
      }
    }
  }

  async readdir(dirPath: string): Promise<string[]> {
    await this.tick();
    const n = this.lookup(dirPath);
    if (n === undefined) throw new FileSystemError('readdir', dirPath, 'ENOENT');
    if (n.kind !== 'dir') throw new FileSystemError('readdir', dirPath, 'ENOTDIR');
    return [...n.entries.keys()];
  }

  async stat(filePath: string): Promise<FileStat> {
    await this.tick();
    const n = this.lookup(filePath);
    if (n === undefined) throw new FileSystemError('stat', filePath, 'ENOENT');
    return { size: n.kind === 'file' ? n.len : 0, isDirectory: n.kind === 'dir' };
  }

  async rename(from: string, to: string): Promise<void> {
    await this.tick();
    const src = this.parentOf('rename', from);
    const node = src.dir.entries.get(src.name);
    if (node === undefined) throw new FileSystemError('rename', from, 'ENOENT');
    const dst = this.parentOf('rename', to);
    const existing = dst.dir.entries.get(dst.name);
    if (existing?.kind === 'dir' && (node.kind !== 'dir' || existing.entries.size > 0)) {
      throw new FileSystemError('rename', to, node.kind === 'dir' ? 'ENOTEMPTY' : 'EISDIR');
    }
    src.dir.entries.delete(src.name);
    dst.dir.entries.set(dst.name, node);
  }

  async unlink(filePath: string): Promise<void> {
    await this.tick();
    const { dir, name } = this.parentOf('unlink', filePath);
    const n = dir.entries.get(name);
    if (n === undefined) throw new FileSystemError('unlink', filePath, 'ENOENT');
    if (n.kind === 'dir') throw new FileSystemError('unlink', filePath, 'EISDIR');
    dir.entries.delete(name);
  }

  async rmrf(filePath: string): Promise<void> {
    await this.tick();
    const parts = this.parts(filePath);
    if (parts.length === 0) {
      this.root.entries.clear();
      return;
    }
    const parent = this.lookup(`/${parts.slice(0, -1).join('/')}`);
    if (parent?.kind === 'dir') parent.entries.delete(parts[parts.length - 1]!);
  }

  async exists(filePath: string): Promise<boolean> {
    await this.tick();
    return this.lookup(filePath) !== undefined;
  }

  async readFile(filePath: string): Promise<Buffer> {
    await this.tick();
    const n = this.lookup(filePath);
    if (n === undefined) throw new FileSystemError('readFile', filePath, 'ENOENT');
    if (n.kind !== 'file') throw new FileSystemError('readFile', filePath, 'EISDIR');
    return Buffer.from(n.data.subarray(0, n.len));
  }

  async writeFile(filePath: string, data: Buffer): Promise<void> {
    const h = await this.open(filePath, { create: true, truncate: true });
    try {
      await h.writev([data], 0);
    } finally {
      await h.close();
    }
  }

  async syncDir(dirPath: string): Promise<void> {
    const gen = this.generation;
    const n = this.lookup(dirPath);
    if (n === undefined) throw new FileSystemError('fsync dir', dirPath, 'ENOENT');
    if (n.kind !== 'dir') throw new FileSystemError('fsync dir', dirPath, 'ENOTDIR');
    const fault = this.takeSyncFault(dirPath);
    const snapshot = new Map(n.entries);
    await this.syncWait();
    this.checkGeneration(gen, 'fsync dir', dirPath);
    if (fault) throw new FileSystemError('fsync dir', dirPath, fault.errno ?? 'EIO', 'injected sync failure');
    this.stats.dirSyncs++;
    n.durable = snapshot;
  }
}

class MemoryFileHandle implements FileHandle {
  private closed = false;

  constructor(
    private readonly fs: MemoryFileSystem,
    private readonly node: FileNode,
    readonly path: string,
    private readonly gen: number,
  ) {}

  private check(op: string): void {
    if (this.closed) throw new FileSystemError(op, this.path, 'EBADF');
    this.fs.checkGeneration(this.gen, op, this.path);
  }

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    await Promise.resolve();
    this.check('read');
    const n = Math.max(0, Math.min(length, this.node.len - position));
    if (n > 0) this.node.data.copy(buffer, offset, position, position + n);
    return n;
  }

  async writev(buffers: readonly Buffer[], position: number): Promise<void> {
    await Promise.resolve();
    this.writevNow(buffers, position);
  }

  writevNow(buffers: readonly Buffer[], position: number): boolean {
    this.check('writev');
    this.fs.writeData(this.node, this.path, buffers, position);
    return true;
  }

  async sync(): Promise<void> {
    this.check('fsync');
    await this.fs.syncData(this.node, this.path, this.gen);
  }

  async datasync(): Promise<void> {
    this.check('fdatasync');
    await this.fs.syncData(this.node, this.path, this.gen);
  }

  async truncate(length: number): Promise<void> {
    await Promise.resolve();
    this.check('truncate');
    const node = this.node;
    if (length > node.len) {
      node.data = ensureCapacity(node.data, length);
      node.data.fill(0, node.len, length);
    }
    node.dirtyLow = Math.min(node.dirtyLow, Math.min(length, node.len));
    node.len = length;
  }

  async size(): Promise<number> {
    await Promise.resolve();
    this.check('fstat');
    return this.node.len;
  }

  async close(): Promise<void> {
    await Promise.resolve();
    this.closed = true;
  }
}
