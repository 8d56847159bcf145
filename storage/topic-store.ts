/**
 * Topic metadata of one data directory: names, topic ids, partition counts, per-topic config overrides.
 *
 * On-disk format: `topics.msgpack` in the data directory, one msgpack document
 *   { version: 1, topics: [{ name: string, topicId: string, partitions: number,
 *                            configs: { [kafkaName]: string } }] }
 * replaced atomically (tmp + fsync + rename + directory fsync, see checkpoint.ts) on every change.
 * Topic ids are 16 random bytes (a v4 UUID) as unpadded base64url (Kafka's Uuid.toString), never
 * starting with '-'. A missing file means no topics; an unreadable one is a StorageError (starting
 * with an empty topic list would orphan every partition directory).
 *
 * Invariants: names unique and valid Kafka topic names; ids unique; partitions >= 1.
 */

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { FileSystem } from './fs.js';
import { isNotFound } from './fs.js';
import { writeFileAtomically } from './checkpoint.js';

// msgpackr is loaded on the first read or write of the store, not at import (start-up budget, issue 5); its
// plain-JS build: the native string extractor and generated decoders only pay off for large inputs.
let msgpackr: { pack(v: unknown): Buffer; unpack(b: Buffer): unknown } | undefined;
const codec = () =>
  (msgpackr ??= createRequire(import.meta.url)('msgpackr/index-no-eval') as {
    pack(v: unknown): Buffer;
    unpack(b: Buffer): unknown;
  });
const pack = (v: unknown): Buffer => codec().pack(v);
const unpack = (b: Buffer): unknown => codec().unpack(b);
import { StorageError } from '../protocol/errors.js';

export const TOPICS_FILE = 'topics.msgpack';
const VERSION = 1;

export interface TopicMetadata {
  name: string;
  /** 16-byte UUID as base64url (22 characters). */
  topicId: string;
  partitions: number;
  /** Per-topic overrides, Kafka property names to string values. */
  configs: Record<string, string>;
}

export function newTopicId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Why `name` is not a legal Kafka topic name, or undefined. */
export function invalidTopicName(name: string): string | undefined {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`;
  if (name.length > 249) return 'topic name is longer than 249 characters';
  if (!/^[a-zA-Z0-9._-]+$/.test(name))
    return `topic name "${name}" contains characters other than ASCII alphanumerics, '.', '_' and '-'`;
  return undefined;
}

function isTopic(x: unknown): x is TopicMetadata {
  const t = x as TopicMetadata;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.name === 'string' &&
    typeof t.topicId === 'string' &&
    Number.isInteger(t.partitions) &&
    t.partitions >= 1 &&
    typeof t.configs === 'object' &&
    t.configs !== null
  );
}

export class TopicStore {
  private readonly byName = new Map<string, TopicMetadata>();
  private readonly byId = new Map<string, TopicMetadata>();
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly fs: FileSystem,
    readonly path: string,
  ) {}

  static async load(fs: FileSystem, dataDir: string): Promise<TopicStore> {
    const store = new TopicStore(fs, path.join(dataDir, TOPICS_FILE));
    let data: Buffer;
    try {
      data = await fs.readFile(store.path);
    } catch (err) {
      if (isNotFound(err)) return store;
      throw err;
    }
    let doc: { version?: unknown; topics?: unknown };
    try {
      doc = unpack(data) as typeof doc;
    } catch (err) {
      throw new StorageError(`unreadable ${store.path}: ${(err as Error).message}`);
    }
    if (doc?.version !== VERSION || !Array.isArray(doc.topics) || !doc.topics.every(isTopic)) {
      throw new StorageError(`unsupported or malformed ${store.path}`);
    }
    for (const t of doc.topics as TopicMetadata[]) store.index({ ...t, configs: { ...t.configs } });
    return store;
  }

  private index(t: TopicMetadata): void {
    this.byName.set(t.name, t);
    this.byId.set(t.topicId, t);
  }

  get(name: string): TopicMetadata | undefined {
    return this.byName.get(name);
  }

  getById(topicId: string): TopicMetadata | undefined {
    return this.byId.get(topicId);
  }

  list(): TopicMetadata[] {
    return [...this.byName.values()];
  }

  /** Insert or replace a topic and persist. */
  async put(topic: TopicMetadata): Promise<void> {
    const prev = this.byName.get(topic.name);
    if (prev) this.byId.delete(prev.topicId);
    this.index(topic);
    try {
      await this.save();
    } catch (err) {
      this.byName.delete(topic.name);
      this.byId.delete(topic.topicId);
      if (prev) this.index(prev);
      throw err;
    }
  }

  /** Remove a topic and persist. Returns false if unknown. */
  async remove(name: string): Promise<boolean> {
    const t = this.byName.get(name);
    if (!t) return false;
    this.byName.delete(name);
    this.byId.delete(t.topicId);
    try {
      await this.save();
    } catch (err) {
      this.index(t);
      throw err;
    }
    return true;
  }

  /** Saves are chained so two never share the tmp file; each writes the state current when it runs. */
  private save(): Promise<void> {
    const run = this.saving.then(() =>
      writeFileAtomically(this.fs, this.path, pack({ version: VERSION, topics: this.list() })),
    );
    this.saving = run.catch(() => undefined);
    return run;
  }
}
