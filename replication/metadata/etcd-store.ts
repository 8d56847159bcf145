/**
 * EtcdMetadataStore: the MetadataStore (store.ts) of a node in a replicated cluster, on the keys of
 * etcd-image.ts under `/runnel/<cluster.name>/`.
 *
 * - Reading (etcd-feed.ts): the image of the prefix, then one delta per etcd revision from a watch, delivered
 *   to subscribers one at a time in revision order (the same order on every node, none twice).
 * - Writes are etcd transactions that compare before they write, so any node may make them: createTopic is a
 *   create-if-absent of the topic key putting every partition key in the same txn (replicas assigned by
 *   assignor.ts from the live brokers unless given); deleteTopic deletes the topic key and its partition keys
 *   together; createPartitions / alterTopicConfigs compare the topic key's mod revision; alterPartition
 *   checks the partition epoch against the image and compares the partition key's mod revision (a lost race
 *   is re-checked against the newer image: INVALID_UPDATE_VERSION once the epoch moved); the controller's
 *   writes add its leadership guard (`alterPartitionGuarded`); allocateProducerIdBlock compares the
 *   `producer-ids` key's mod revision; updateRecords puts/deletes the record keys of its changes comparing
 *   each one's mod revision (a lost race: the image catches up with those keys, then `update` runs again);
 *   registerBroker goes through BrokerRegistration (the key bound to the session's lease).
 * - A write resolves once committed and its revision delivered to every subscriber here (a caller reading
 *   `image` after it sees the change); it rejects with REQUEST_TIMED_OUT when the watch does not deliver it
 *   within `writeTimeoutMs` (the change may still be committed, as with Kafka's timed-out admin requests).
 * - A write about a topic this node has not seen yet first waits until it has seen the topic key as etcd
 *   has it now (a write right after another node created the topic finds it).
 * - `catchUpTopic(name)`: waits until this node has applied the topic key as etcd has it now (the replica
 *   manager asks before answering that a partition is unknown or not hosted here).
 * - `catchUpIfStale()`: after the session lost its lease (say the process was stopped past the session timeout,
 *   and the other nodes moved its leaderships meanwhile), once per loss: waits until this node has applied every
 *   key under the prefix as etcd has it now (the newest mod revision there), so that the requests it handles
 *   next (Metadata, Produce) see the leaders of now, not those of before the loss. One attempt per loss, given
 *   up after CATCH_UP_AFTER_LOSS_MS (catch-up-after-loss.ts; etcd unreachable: the node serves on with what it knows).
 * - The store uses the caller's started EtcdSession and does not close it.
 */
import { CoordinationError, StorageError } from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { Clock } from '../../storage/clock.js';
import { coordinationError, type EtcdLog } from '../etcd/connection.js';
import { get, txn, type Compare, type KeyValue, type Op } from '../etcd/kv.js';
import { BrokerRegistration as EtcdBrokerRegistration } from '../etcd/registration.js';
import type { EtcdSession } from '../etcd/session.js';
import { assignReplicas } from './assignor.js';
import { EtcdMetadataFeed } from './etcd-feed.js';
import { CatchUpAfterLoss } from './catch-up-after-loss.js';
import {
  type EtcdKeys,
  PRODUCER_IDS_KEY,
  partitionKey,
  partitionRecord,
  partitionsPrefix,
  topicKey,
  type TopicRecord,
} from './etcd-image.js';
import {
  type MetadataImage,
  invalidTopicName,
  newPartition,
  newTopicId,
  type BrokerRegistration,
  type PartitionRegistration,
  type TopicImage,
} from './image.js';
import type { CreateTopicOptions, MetadataListener, MetadataStore, PartitionChange, ProducerIdBlock } from './store.js';
import type { RecordSection, RecordUpdate } from './records.js';
import { updateEtcdRecords } from './etcd-records.js';
import { changedPartition, planBatch, type PartitionWrite } from './partition-change.js';

export interface EtcdMetadataStoreOptions {
  /** This node's started session (its lease binds the broker registration). */
  session: EtcdSession;
  nodeId: number;
  /** Throws for topic config overrides that must not be stored (default: accept all). */
  validateConfigs?: (configs: Readonly<Record<string, string>>) => void;
  /** How long a committed write waits to be delivered back through the watch. Default 30000 ms. */
  writeTimeoutMs?: number;
  /** Randomness for replica assignment start indexes (tests). */
  random?: () => number;
  clock?: Clock;
  log?: EtcdLog;
}

/** How often a write re-reads and retries after losing a compare to a concurrent writer. */
const MAX_ATTEMPTS = 8;
/** Partitions per batched transaction: their compares plus the guard stay within etcd's --max-txn-ops (128). */
const MAX_BATCH = 100;

export class EtcdMetadataStore implements MetadataStore {
  readonly nodeId: number;
  private registration: EtcdBrokerRegistration | undefined;
  private readonly running = new Set<Promise<unknown>>();
  private readonly topicCatchUps = new Map<string, Promise<void>>();
  private closed = false;
  private readonly session: EtcdSession;
  private readonly afterLoss: CatchUpAfterLoss;

  private constructor(
    private readonly o: EtcdMetadataStoreOptions,
    private readonly feed: EtcdMetadataFeed,
  ) {
    this.nodeId = o.nodeId;
    this.session = o.session;
    this.afterLoss = new CatchUpAfterLoss(o.session, (rev) => this.delivery(rev), o.clock, o.log);
  }

  static async open(o: EtcdMetadataStoreOptions): Promise<EtcdMetadataStore> {
    return new EtcdMetadataStore(o, await EtcdMetadataFeed.open(o));
  }

  get image(): MetadataImage {
    return this.feed.image;
  }

  private get current(): MetadataImage {
    return this.feed.image;
  }

  private get keys(): EtcdKeys {
    return this.feed.keys;
  }

  subscribe(listener: MetadataListener): () => void {
    return this.feed.subscribe(listener);
  }

  private delivery(revision: number): Promise<void> {
    return this.feed.delivery(revision);
  }

  private catchUp(kv: KeyValue | undefined): Promise<void> {
    return this.feed.catchUp(kv);
  }

  /** See the header: undefined while current, else one shared catch-up after the latest lost lease. */
  catchUpIfStale(): Promise<void> | undefined {
    return this.closed ? undefined : this.afterLoss.catchUpIfStale();
  }

  // ---- writes ------------------------------------------------------------------------------------

  private write<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StorageError('metadata store is closed'));
    const p = fn();
    this.running.add(p);
    const forget = (): void => void this.running.delete(p);
    p.then(forget, forget);
    return p;
  }

  private key(rel: string): string {
    return this.session.conn.key(rel);
  }

  /**
   * When this node has not seen topic `name` (yet), waits until it has seen the topic key as etcd has it now,
   * so a write made right after another node created the topic finds it (as Kafka's controller would).
   */
  private async sync(name: string): Promise<void> {
    if (this.current.topic(name)) return;
    await this.catchUp(await get(this.session.conn, this.key(topicKey(name))));
  }

  /**
   * Waits until this node has applied the topic key as etcd has it now (whether or not the image knows the
   * topic yet: its logs may still be being created). Concurrent calls for one topic share one read.
   */
  catchUpTopic(name: string): Promise<void> {
    let p = this.topicCatchUps.get(name);
    if (!p) {
      p = get(this.session.conn, this.key(topicKey(name))).then((kv) => this.catchUp(kv));
      const done = (): void => void this.topicCatchUps.delete(name);
      p.then(done, done);
      this.topicCatchUps.set(name, p);
    }
    return p;
  }

  private known(name: string): TopicImage {
    const t = this.current.topic(name);
    if (!t) throw new StorageError(`unknown topic ${name}`, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    return t;
  }

  private validateAssignment(count: number, replicas: ReadonlyArray<readonly number[]>): void {
    if (replicas.length !== count)
      throw new StorageError(
        `${replicas.length} replica assignments for ${count} partitions`,
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      );
    for (const r of replicas) {
      if (r.length === 0 || new Set(r).size !== r.length || r.some((id) => !this.current.broker(id)))
        throw new StorageError(`invalid replica assignment [${r.join(',')}]`, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
      if (r.length !== replicas[0].length)
        throw new StorageError(
          'all partitions must have the same number of replicas',
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        );
    }
  }

  private assign(partitions: number, replicationFactor: number, start?: { partition: number; broker: number }) {
    const active = this.current.activeBrokerIds();
    return assignReplicas(
      this.current.liveBrokers().filter((b) => active.has(b.nodeId)),
      {
        partitions,
        replicationFactor,
        startPartition: start?.partition,
        startBroker: start?.broker,
        random: this.o.random,
      },
    );
  }

  private topicValue(t: TopicRecord): string {
    return JSON.stringify(t);
  }

  private partitionOps(name: string, states: readonly PartitionRegistration[]): Op[] {
    return states.map((s) => ({
      put: this.key(partitionKey(name, s.partition)),
      value: JSON.stringify(partitionRecord(s)),
    }));
  }

  createTopic(name: string, options: CreateTopicOptions): Promise<TopicImage> {
    return this.write(async () => {
      const bad = invalidTopicName(name);
      if (bad) throw new StorageError(bad, ErrorCode.INVALID_TOPIC_EXCEPTION);
      if (this.current.topic(name))
        throw new StorageError(`topic ${name} already exists`, ErrorCode.TOPIC_ALREADY_EXISTS);
      if (!Number.isInteger(options.partitions) || options.partitions < 1)
        throw new StorageError(`invalid partition count ${options.partitions}`, ErrorCode.INVALID_PARTITIONS);
      const configs = { ...(options.configs ?? {}) };
      this.o.validateConfigs?.(configs);
      const topicId = options.topicId ?? newTopicId();
      if (this.current.topicById(topicId))
        throw new StorageError(`topic id ${topicId} already in use`, ErrorCode.TOPIC_ALREADY_EXISTS);
      let replicas = options.replicas;
      if (replicas) this.validateAssignment(options.partitions, replicas);
      else replicas = this.assign(options.partitions, options.replicationFactor ?? 1);
      const states = replicas.map((r, p) => newPartition(p, r));
      const rec: TopicRecord = { topicId, partitions: states.length, configs };
      const r = await txn(this.session.conn, {
        compare: [{ key: this.key(topicKey(name)), createRevision: 0 }],
        success: [{ put: this.key(topicKey(name)), value: this.topicValue(rec) }, ...this.partitionOps(name, states)],
        failure: [{ get: this.key(topicKey(name)) }],
      });
      if (!r.succeeded) {
        await this.catchUp(r.results[0][0]);
        throw new StorageError(`topic ${name} already exists`, ErrorCode.TOPIC_ALREADY_EXISTS);
      }
      await this.delivery(r.revision);
      return this.current.topic(name) ?? this.known(name);
    });
  }

  deleteTopic(name: string): Promise<boolean> {
    return this.write(async () => {
      await this.sync(name);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (!this.current.topic(name)) return false;
        const key = this.key(topicKey(name));
        const r = await txn(this.session.conn, {
          compare: [{ key, createRevision: this.keys.createRevision(topicKey(name)) }],
          success: [{ delete: key }, { delete: this.key(partitionsPrefix(name)), prefix: true }],
          failure: [{ get: key }],
        });
        if (r.succeeded) {
          await this.delivery(r.revision);
          return true;
        }
        if (!r.results[0][0]) return false; // deleted by another node meanwhile
        await this.catchUp(r.results[0][0]);
      }
      throw new StorageError(`topic ${name} kept changing while deleting it`, ErrorCode.REQUEST_TIMED_OUT);
    });
  }

  /** Replaces the topic record (and adds partition keys) if the topic key is as the image knows it. */
  private async updateTopic(
    name: string,
    make: (t: TopicImage) => { rec: TopicRecord; ops: Op[] },
  ): Promise<TopicImage> {
    await this.sync(name);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const t = this.known(name);
      const { rec, ops } = make(t);
      const key = this.key(topicKey(name));
      const r = await txn(this.session.conn, {
        compare: [{ key, modRevision: this.keys.modRevision(topicKey(name)) }],
        success: [{ put: key, value: this.topicValue(rec) }, ...ops],
        failure: [{ get: key }],
      });
      if (r.succeeded) {
        await this.delivery(r.revision);
        return this.known(name);
      }
      const now = r.results[0][0];
      if (!now) throw new StorageError(`unknown topic ${name}`, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      await this.catchUp(now);
    }
    throw new StorageError(`topic ${name} kept changing`, ErrorCode.REQUEST_TIMED_OUT);
  }

  createPartitions(name: string, total: number, replicas?: ReadonlyArray<readonly number[]>): Promise<TopicImage> {
    return this.write(() =>
      this.updateTopic(name, (t) => {
        if (!Number.isInteger(total) || total <= t.partitions)
          throw new StorageError(
            `topic ${name} has ${t.partitions} partitions; cannot change to ${total}`,
            ErrorCode.INVALID_PARTITIONS,
          );
        const count = total - t.partitions;
        if (replicas) this.validateAssignment(count, replicas);
        const first = t.partitionStates[0];
        const assigned =
          replicas ??
          this.assign(count, first?.replicas.length || 1, {
            partition: t.partitions,
            broker: first?.replicas[0] ?? -1,
          });
        const added = assigned.map((r, i) => newPartition(t.partitions + i, r));
        return {
          rec: { topicId: t.topicId, partitions: total, configs: { ...t.configs } },
          ops: this.partitionOps(name, added),
        };
      }),
    );
  }

  alterTopicConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<TopicImage> {
    return this.write(() => {
      this.o.validateConfigs?.(configs);
      return this.updateTopic(name, (t) => ({
        rec: { topicId: t.topicId, partitions: t.partitions, configs: { ...configs } },
        ops: [],
      }));
    });
  }

  alterPartition(
    topic: string,
    partition: number,
    expectedPartitionEpoch: number,
    change: PartitionChange,
  ): Promise<PartitionRegistration> {
    return this.alterPartitionGuarded(topic, partition, expectedPartitionEpoch, change);
  }

  alterPartitions(writes: readonly PartitionWrite[]): Promise<PromiseSettledResult<PartitionRegistration>[]> {
    return this.alterPartitionsGuarded(writes);
  }

  /**
   * alterPartition with an extra compare (the controller's leadership guard): when the guard fails the write
   * rejects with CoordinationError ERR_NOT_CONTROLLER (Kafka's NOT_CONTROLLER) and changes nothing.
   */
  alterPartitionGuarded(
    topic: string,
    partition: number,
    expectedPartitionEpoch: number,
    change: PartitionChange,
    guard?: Compare,
  ): Promise<PartitionRegistration> {
    return this.write(async () => {
      await this.sync(topic);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const cur = this.known(topic).partitionStates[partition];
        if (!cur)
          throw new StorageError(`unknown partition ${topic}-${partition}`, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        const updated = changedPartition(topic, cur, expectedPartitionEpoch, change, (id) => !!this.current.broker(id));
        if (!updated) return cur;
        const rel = partitionKey(topic, partition);
        const key = this.key(rel);
        const r = await txn(this.session.conn, {
          compare: [{ key, modRevision: this.keys.modRevision(rel) }, ...(guard ? [guard] : [])],
          success: [{ put: key, value: JSON.stringify(partitionRecord(updated)) }],
          failure: [{ get: key }, ...(guard ? [{ get: guard.key }] : [])],
        });
        if (r.succeeded) {
          await this.delivery(r.revision);
          return this.current.partition(topic, partition) ?? updated;
        }
        if (guard && 'createRevision' in guard && r.results[1][0]?.createRevision !== guard.createRevision)
          throw new CoordinationError('ERR_NOT_CONTROLLER', `not the controller any more (${guard.key})`, 41);
        if (!r.results[0][0])
          throw new StorageError(`unknown partition ${topic}-${partition}`, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        await this.catchUp(r.results[0][0]);
      }
      throw new StorageError(`${topic}-${partition} kept changing`, ErrorCode.INVALID_UPDATE_VERSION);
    });
  }

  /**
   * Many partitions' changes as one etcd transaction (the controller's pass, e.g. a broker's fencing), so every
   * node applies them as one delta: compares every changed partition key's mod revision (and `guard`), puts all,
   * or nothing. Changes that are refused (unknown partition, wrong epoch, invalid) or change nothing settle on
   * their own. When a compare fails each change is retried as alterPartitionGuarded (re-read, re-checked).
   * Over MAX_BATCH partitions the changes go in several transactions (etcd's per-txn op limit).
   */
  alterPartitionsGuarded(
    writes: readonly PartitionWrite[],
    guard?: Compare,
  ): Promise<PromiseSettledResult<PartitionRegistration>[]> {
    return this.write(async () => {
      const out: PromiseSettledResult<PartitionRegistration>[] = [];
      for (let i = 0; i < writes.length; i += MAX_BATCH)
        out.push(...(await this.batch(writes.slice(i, i + MAX_BATCH), guard)));
      return out;
    });
  }

  private async batch(writes: readonly PartitionWrite[], guard?: Compare) {
    for (const topic of new Set(writes.map((w) => w.topic))) await this.sync(topic).catch(() => undefined);
    const { out, changed } = planBatch(writes, this.current);
    const puts = changed.map(({ i, updated }) => ({
      i,
      updated,
      rel: partitionKey(writes[i].topic, updated.partition),
    }));
    if (!puts.length) return out;
    const r = await txn(this.session.conn, {
      compare: [
        ...puts.map((p) => ({ key: this.key(p.rel), modRevision: this.keys.modRevision(p.rel) })),
        ...(guard ? [guard] : []),
      ],
      success: puts.map((p) => ({ put: this.key(p.rel), value: JSON.stringify(partitionRecord(p.updated)) })),
      failure: guard ? [{ get: guard.key }] : [],
    });
    if (r.succeeded) {
      await this.delivery(r.revision);
      for (const { i, updated } of puts)
        out[i] = { status: 'fulfilled', value: this.current.partition(writes[i].topic, updated.partition) ?? updated };
      return out;
    }
    if (guard && 'createRevision' in guard && r.results[0][0]?.createRevision !== guard.createRevision) {
      const reason = new CoordinationError('ERR_NOT_CONTROLLER', `not the controller any more (${guard.key})`, 41);
      for (const { i } of puts) out[i] = { status: 'rejected', reason };
      return out;
    }
    const retried = await Promise.allSettled(
      puts.map(({ i }) => {
        const w = writes[i];
        return this.alterPartitionGuarded(w.topic, w.partition, w.partitionEpoch, w.change, guard);
      }),
    );
    puts.forEach(({ i }, k) => {
      out[i] = retried[k];
    });
    return out;
  }

  registerBroker(registration: BrokerRegistration): Promise<void> {
    return this.write(async () => {
      if (registration.nodeId !== this.nodeId)
        throw new StorageError(
          `node ${this.nodeId} cannot register node ${registration.nodeId}`,
          ErrorCode.INVALID_REQUEST,
        );
      const info = {
        nodeId: registration.nodeId,
        rack: registration.rack,
        listeners: registration.listeners.map((l) => ({ ...l })),
        ...(registration.inControlledShutdown ? { inControlledShutdown: true } : {}),
      };
      try {
        let revision: number;
        if (!this.registration) {
          this.registration = await EtcdBrokerRegistration.register(this.session, info);
          revision = this.registration.state.epoch ?? 0;
        } else {
          revision = await this.registration.update(info);
        }
        await this.delivery(revision);
      } catch (err) {
        throw err instanceof StorageError ? err : coordinationError(err, `registration of node ${this.nodeId}`);
      }
    });
  }

  allocateProducerIdBlock(brokerId: number, size: number): Promise<ProducerIdBlock> {
    return this.write(async () => {
      if (!Number.isInteger(size) || size < 1)
        throw new StorageError(`invalid producer id block size ${size}`, ErrorCode.INVALID_REQUEST);
      const key = this.key(PRODUCER_IDS_KEY);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const block: ProducerIdBlock = { brokerId, firstProducerId: this.current.nextProducerId, size };
        const r = await txn(this.session.conn, {
          compare: [{ key, modRevision: this.keys.modRevision(PRODUCER_IDS_KEY) }],
          success: [{ put: key, value: JSON.stringify(block) }],
          failure: [{ get: key }],
        });
        if (r.succeeded) {
          await this.delivery(r.revision);
          return block;
        }
        await this.catchUp(r.results[0][0]);
      }
      throw new StorageError('producer id blocks kept being taken', ErrorCode.REQUEST_TIMED_OUT);
    });
  }

  updateRecords<T, R>(
    section: RecordSection<T>,
    update: (records: ReadonlyMap<string, T>) => RecordUpdate<T, R>,
  ): Promise<R> {
    return this.write(() => updateEtcdRecords(this.session.conn, this.feed, section, update, MAX_ATTEMPTS));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.running]);
    this.feed.close();
    this.registration?.close();
  }
}
