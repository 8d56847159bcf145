/**
 * The CLI's view of the Admin client: the few shapes the commands print (topics with partitions, configs,
 * offsets per partition, groups with members and decoded assignments), built from client/index.ts's
 * Admin so that the commands do not depend on its exact result types. Offsets are plain numbers here
 * (exact up to 2^53).
 */
import { Admin } from '../admin.js';
import type { ScramAlteration, UserScramCredentials } from '../admin-scram.js';
import { type CommonOptions, OperationError, clientOptions } from './common.js';

export interface PartitionView {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface TopicView {
  name: string;
  topicId?: string;
  internal: boolean;
  partitions: PartitionView[];
}

export interface ConfigView {
  name: string;
  value: string | null;
  isDefault: boolean;
  sensitive: boolean;
}

export interface MemberView {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  assignment: Array<{ topic: string; partitions: number[] }>;
}

export interface GroupView {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: MemberView[];
}

export interface GroupListing {
  groupId: string;
  state: string;
  protocolType: string;
}

export interface ClusterView {
  clusterId: string | null;
  controllerId: number;
  brokers: Array<{ nodeId: number; host: string; port: number; rack: string | null }>;
}

export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number };

export interface AdminView {
  describeCluster(): Promise<ClusterView>;
  listTopics(opts?: { includeInternal?: boolean }): Promise<string[]>;
  describeTopics(names: string[]): Promise<TopicView[]>;
  /** One topic; "topic X does not exist" when it does not. */
  describeTopic(name: string): Promise<TopicView>;
  createTopic(spec: {
    name: string;
    partitions?: number;
    replicationFactor?: number;
    configs?: Record<string, string>;
  }): Promise<void>;
  deleteTopics(names: string[]): Promise<void>;
  createPartitions(name: string, total: number): Promise<void>;
  describeTopicConfigs(name: string): Promise<ConfigView[]>;
  alterTopicConfigs(name: string, changes: Record<string, string | null>): Promise<void>;
  /** partition → offset (-1 when there is none, e.g. no record at or after a timestamp). */
  listOffsets(topic: string, spec: OffsetSpec): Promise<Map<number, number>>;
  listGroups(): Promise<GroupListing[]>;
  describeGroup(id: string): Promise<GroupView>;
  /** Committed offsets of a group: "topic\0partition" keys are avoided; topic → partition → offset. */
  fetchOffsets(groupId: string, topics?: string[]): Promise<Map<string, Map<number, number>>>;
  commitOffsets(groupId: string, offsets: Array<{ topic: string; partition: number; offset: number }>): Promise<void>;
  deleteGroups(ids: string[]): Promise<void>;
  /** SCRAM users with their mechanisms and iterations (all when `users` is empty). */
  describeUserScramCredentials(users: string[]): Promise<UserScramCredentials[]>;
  alterUserScramCredentials(alterations: ScramAlteration[]): Promise<void>;
}

/** True when `e` is a KafkaError with this name (e.g. TOPIC_ALREADY_EXISTS). */
export function isKafkaError(e: unknown, name: string): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === name;
}

export function num(v: unknown): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '') return Number(v);
  return -1;
}

export async function withAdmin<T>(opts: CommonOptions, fn: (admin: AdminView) => Promise<T>): Promise<T> {
  const admin = new Admin(clientOptions(opts));
  try {
    return await fn(adminView(admin));
  } finally {
    await Promise.resolve(admin.close()).catch(() => undefined);
  }
}

export function adminView(admin: Admin): AdminView {
  const byPartition = (rows: Array<{ partition: number; offset: number }>): Map<number, number> =>
    new Map(rows.map((r) => [r.partition, num(r.offset)]));
  return {
    describeCluster: () => admin.describeCluster(),
    listTopics: (o) => admin.listTopics(o),
    describeTopics: (names) => admin.describeTopics(names),
    describeTopic: async (name) => {
      const [t] = await admin.describeTopics([name]).catch((e: unknown) => {
        throw isKafkaError(e, 'UNKNOWN_TOPIC_OR_PARTITION') ? new OperationError(`topic ${name} does not exist`) : e;
      });
      if (!t) throw new OperationError(`topic ${name} does not exist`);
      return t;
    },
    createTopic: (spec) => admin.createTopic(spec),
    deleteTopics: (names) => admin.deleteTopics(names),
    createPartitions: (name, total) => admin.createPartitions(name, total),
    describeTopicConfigs: (name) => admin.describeTopicConfigs(name),
    alterTopicConfigs: (name, changes) => admin.alterTopicConfigs(name, changes),
    listOffsets: async (topic, spec) => byPartition(await admin.listOffsets(topic, spec)),
    listGroups: () => admin.listGroups(),
    describeGroup: async (id) => {
      const [g] = await admin.describeGroups([id]);
      if (!g) throw new OperationError(`consumer group ${id} does not exist`);
      return g;
    },
    fetchOffsets: async (groupId, topics) => {
      const out = new Map<string, Map<number, number>>();
      for (const o of await admin.fetchOffsets(groupId, topics)) {
        let m = out.get(o.topic);
        if (!m) {
          m = new Map();
          out.set(o.topic, m);
        }
        m.set(o.partition, num(o.offset));
      }
      return out;
    },
    commitOffsets: (groupId, offsets) => admin.commitOffsets(groupId, offsets),
    deleteGroups: (ids) => admin.deleteGroups(ids),
    describeUserScramCredentials: (users) => admin.describeUserScramCredentials(users),
    alterUserScramCredentials: (alterations) => admin.alterUserScramCredentials(alterations),
  };
}
