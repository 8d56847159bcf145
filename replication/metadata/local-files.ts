/**
 * The files a single node keeps its cluster metadata in (local-store.ts), in the data directory. Formats are
 * those Runnel has always written, so existing data dirs open unchanged.
 *
 * `topics.msgpack`: one msgpack document
 *   { version: 1, topics: [{ name: string, topicId: string, partitions: number,
 *                            configs: { [kafkaName]: string }, states?: PartitionState[] }] }
 * replaced atomically (tmp + fsync + rename + directory fsync, see storage/checkpoint.ts) on every change.
 * `states` (optional, [{ partition, replicas, isr, leader, leaderEpoch, partitionEpoch }]) lists only the
 * partitions whose registration differs from a fresh one on this node (replicas = ISR = [node], leader =
 * node, epochs 0), so a single node writes exactly the version-1 documents of before. A missing file means
 * no topics; an unreadable one is a StorageError (starting with an empty topic list would orphan every
 * partition directory). Invariants: names unique and valid Kafka topic names; ids unique; partitions >= 1.
 *
 * `meta.properties`: UTF-8 `version=1\ncluster.id=<id>\nnode.id=<n>\n`, as Kafka's; written once (the
 * cluster id is generated on first start) and refused when it names another node id.
 *
 * `producer-id-block`: UTF-8 `version=1\nnext.block.start=<N>\n`, the first producer id no block has
 * claimed yet; a missing file means 0. A file that does not parse refuses start-up (StorageError) rather
 * than risk handing out ids twice.
 */

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { FileSystem } from '../../storage/fs.js';
import { isNotFound } from '../../storage/fs.js';
import { writeFileAtomically } from '../../storage/checkpoint.js';
import { IllegalStateError, StorageError } from '../../protocol/errors.js';
import type { PartitionRegistration, TopicMetadata } from './image.js';

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

export const TOPICS_FILE = 'topics.msgpack';
export const META_PROPERTIES_FILE = 'meta.properties';
export const PRODUCER_ID_BLOCK_FILE = 'producer-id-block';
const VERSION = 1;

/** One topic as `topics.msgpack` holds it. */
export interface TopicRecord extends TopicMetadata {
  /** Partitions whose registration is not the single-node default (absent when none). */
  states?: PartitionRegistration[];
}

const isIds = (x: unknown): x is number[] => Array.isArray(x) && x.every((n) => Number.isInteger(n));

function isState(x: unknown): x is PartitionRegistration {
  const s = x as PartitionRegistration;
  return (
    typeof s === 'object' &&
    s !== null &&
    Number.isInteger(s.partition) &&
    isIds(s.replicas) &&
    isIds(s.isr) &&
    Number.isInteger(s.leader) &&
    Number.isInteger(s.leaderEpoch) &&
    Number.isInteger(s.partitionEpoch)
  );
}

function isTopic(x: unknown): x is TopicRecord {
  const t = x as TopicRecord;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.name === 'string' &&
    typeof t.topicId === 'string' &&
    Number.isInteger(t.partitions) &&
    t.partitions >= 1 &&
    typeof t.configs === 'object' &&
    t.configs !== null &&
    (t.states === undefined || (Array.isArray(t.states) && t.states.every(isState)))
  );
}

/** The topics of `topics.msgpack` in file order; none when the file is missing. */
export async function readTopicsFile(fs: FileSystem, dataDir: string): Promise<TopicRecord[]> {
  const file = path.join(dataDir, TOPICS_FILE);
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  let doc: { version?: unknown; topics?: unknown };
  try {
    doc = unpack(data) as typeof doc;
  } catch (err) {
    throw new StorageError(`unreadable ${file}: ${(err as Error).message}`);
  }
  if (doc?.version !== VERSION || !Array.isArray(doc.topics) || !doc.topics.every(isTopic)) {
    throw new StorageError(`unsupported or malformed ${file}`);
  }
  const names = new Set<string>();
  const ids = new Set<string>();
  for (const t of doc.topics as TopicRecord[]) {
    if (names.has(t.name) || ids.has(t.topicId)) throw new StorageError(`duplicate topic ${t.name} in ${file}`);
    names.add(t.name);
    ids.add(t.topicId);
  }
  return doc.topics as TopicRecord[];
}

export function writeTopicsFile(fs: FileSystem, dataDir: string, topics: readonly TopicRecord[]): Promise<void> {
  return writeFileAtomically(fs, path.join(dataDir, TOPICS_FILE), pack({ version: VERSION, topics }));
}

/**
 * The cluster id of `meta.properties`, written with a new random one (16 bytes, base64url) when the file
 * is missing or names none. Refuses a data dir that belongs to another node id.
 */
export async function loadClusterId(fs: FileSystem, dataDir: string, nodeId: number): Promise<string> {
  const file = path.join(dataDir, META_PROPERTIES_FILE);
  try {
    const text = (await fs.readFile(file)).toString('utf8');
    const props = new Map(
      text
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
    );
    const stored = Number(props.get('node.id'));
    if (props.has('node.id') && stored !== nodeId) {
      throw new IllegalStateError(`data dir ${dataDir} belongs to node ${stored}, not node ${nodeId}`);
    }
    const id = props.get('cluster.id');
    if (id) return id;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const clusterId = randomBytes(16).toString('base64url');
  await writeFileAtomically(fs, file, Buffer.from(`version=1\ncluster.id=${clusterId}\nnode.id=${nodeId}\n`));
  return clusterId;
}

/** The first producer id not yet reserved (0 without a file). */
export async function readProducerIdBlock(fs: FileSystem, dataDir: string): Promise<number> {
  const file = path.join(dataDir, PRODUCER_ID_BLOCK_FILE);
  let text: string;
  try {
    text = (await fs.readFile(file)).toString('utf8');
  } catch (err) {
    if (isNotFound(err)) return 0;
    throw err;
  }
  const match = /^version=1\nnext\.block\.start=(\d+)\n$/.exec(text);
  if (!match) throw new StorageError(`${file} is not a producer id block file`);
  return Number(match[1]);
}

export function writeProducerIdBlock(fs: FileSystem, dataDir: string, nextBlockStart: number): Promise<void> {
  const text = `version=1\nnext.block.start=${nextBlockStart}\n`;
  return writeFileAtomically(fs, path.join(dataDir, PRODUCER_ID_BLOCK_FILE), Buffer.from(text));
}
