/**
 * Admin client: cluster, topics, partitions, configs, offsets and consumer groups, each call mapped onto the
 * Kafka API a Java AdminClient uses for it (Metadata, DescribeCluster, CreateTopics, DeleteTopics,
 * CreatePartitions, DescribeConfigs, IncrementalAlterConfigs, ListOffsets, ListGroups, DescribeGroups,
 * OffsetFetch, OffsetCommit, DeleteGroups; SCRAM credentials: DescribeUserScramCredentials and
 * AlterUserScramCredentials, ./admin-scram.ts), at the highest version both sides support. Per-topic or per-group
 * error codes become KafkaError; group calls go to the group's coordinator and find it again on
 * NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE.
 */
import { decodeDescribeClusterResponse } from '../protocol/generated/describe-cluster-response.js';
import { encodeDescribeClusterRequest } from '../protocol/generated/describe-cluster-request.js';
import { decodeCreateTopicsResponse } from '../protocol/generated/create-topics-response.js';
import { encodeCreateTopicsRequest } from '../protocol/generated/create-topics-request.js';
import { decodeDeleteTopicsResponse } from '../protocol/generated/delete-topics-response.js';
import { encodeDeleteTopicsRequest } from '../protocol/generated/delete-topics-request.js';
import { decodeCreatePartitionsResponse } from '../protocol/generated/create-partitions-response.js';
import { encodeCreatePartitionsRequest } from '../protocol/generated/create-partitions-request.js';
import { decodeDescribeConfigsResponse } from '../protocol/generated/describe-configs-response.js';
import { encodeDescribeConfigsRequest } from '../protocol/generated/describe-configs-request.js';
import { decodeIncrementalAlterConfigsResponse } from '../protocol/generated/incremental-alter-configs-response.js';
import { encodeIncrementalAlterConfigsRequest } from '../protocol/generated/incremental-alter-configs-request.js';
import { decodeListGroupsResponse } from '../protocol/generated/list-groups-response.js';
import { encodeListGroupsRequest } from '../protocol/generated/list-groups-request.js';
import { decodeDescribeGroupsResponse } from '../protocol/generated/describe-groups-response.js';
import { encodeDescribeGroupsRequest } from '../protocol/generated/describe-groups-request.js';
import { decodeDeleteGroupsResponse } from '../protocol/generated/delete-groups-response.js';
import { encodeDeleteGroupsRequest } from '../protocol/generated/delete-groups-request.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import {
  type ScramAlteration,
  type UserScramCredentials,
  alterUserScramCredentials,
  describeUserScramCredentials,
} from './admin-scram.js';
import type { Connection } from './connection.js';
import * as acls from './admin-acls.js';
import type { AclBinding, AclBindingFilter } from './admin-acls.js';
import { CoordinatorCache } from './coordinator.js';
import { KafkaError, check, isCoordinatorError } from './errors.js';
import { decodeAssignment } from './group-protocol.js';
import { Metadata } from './metadata.js';
import { commitOffsets, fetchOffsets, listOffsets, type CommitEntry, type OffsetSpec } from './offsets.js';
import { ConnectionPool, resolveOptions, type ClientOptions, type ResolvedOptions } from './pool.js';

const CONFIG_SOURCES = [
  'UNKNOWN',
  'DYNAMIC_TOPIC_CONFIG',
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
  'DYNAMIC_BROKER_LOGGER_CONFIG',
  'CLIENT_METRICS_CONFIG',
  'GROUP_CONFIG',
];
const RESOURCE_TOPIC = 2;

export interface TopicDescription {
  name: string;
  topicId: string;
  internal: boolean;
  partitions: Array<{ partition: number; leader: number; replicas: number[]; isr: number[] }>;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  isDefault: boolean;
  readOnly: boolean;
  sensitive: boolean;
  source: string;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: Array<{
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    assignment: Array<{ topic: string; partitions: number[] }>;
  }>;
}

export class Admin {
  readonly options: ResolvedOptions;
  readonly pool: ConnectionPool;
  readonly metadata: Metadata;
  private readonly coordinators: CoordinatorCache;

  constructor(opts: ClientOptions) {
    this.options = resolveOptions(opts);
    this.pool = new ConnectionPool(this.options);
    this.metadata = new Metadata(this.pool);
    this.coordinators = new CoordinatorCache(this.metadata, 'default');
  }

  async close(): Promise<void> {
    this.pool.close();
  }

  private async controller(): Promise<Connection> {
    if (this.metadata.controllerId < 0 || !this.metadata.brokers.has(this.metadata.controllerId))
      await this.metadata.fetch([]);
    const id = this.metadata.controllerId;
    return id >= 0 && this.metadata.brokers.has(id) ? this.metadata.connection(id) : this.pool.any();
  }

  async describeCluster(): Promise<{
    clusterId: string | null;
    controllerId: number;
    brokers: Array<{ nodeId: number; host: string; port: number; rack: string | null }>;
  }> {
    const conn = await this.pool.any();
    if (conn.supports(60)) {
      const v = conn.versionFor(60, 0, 2);
      const res = await conn.send(
        60,
        v,
        (w) =>
          encodeDescribeClusterRequest(w, v, {
            includeClusterAuthorizedOperations: false,
            endpointType: 1,
            includeFencedBrokers: false,
          }),
        decodeDescribeClusterResponse,
      );
      check(res.errorCode, res.errorMessage);
      return {
        clusterId: res.clusterId,
        controllerId: res.controllerId,
        brokers: res.brokers
          .map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack }))
          .sort((a, b) => a.nodeId - b.nodeId),
      };
    }
    const md = await this.metadata.fetch([]);
    return {
      clusterId: md.clusterId,
      controllerId: md.controllerId,
      brokers: md.brokers
        .map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }))
        .sort((a, b) => a.nodeId - b.nodeId),
    };
  }

  async listTopics(opts: { includeInternal?: boolean } = {}): Promise<string[]> {
    const md = await this.metadata.fetch(null);
    return md.topics
      .filter((t) => t.errorCode === ErrorCode.NONE && t.name !== null && (opts.includeInternal || !t.isInternal))
      .map((t) => t.name as string)
      .sort();
  }

  /** Topics by name (all topics, internal ones included, when `names` is omitted). */
  async describeTopics(names?: string[]): Promise<TopicDescription[]> {
    const md = await this.metadata.fetch(names ?? null);
    const out: TopicDescription[] = [];
    for (const t of md.topics) {
      if (t.name === null) continue;
      check(t.errorCode, `topic ${t.name}`);
      out.push({
        name: t.name,
        topicId: t.topicId,
        internal: t.isInternal,
        partitions: t.partitions
          .map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, replicas: p.replicaNodes, isr: p.isrNodes }))
          .sort((a, b) => a.partition - b.partition),
      });
    }
    if (names) out.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name));
    else out.sort((a, b) => (a.name < b.name ? -1 : 1));
    return out;
  }

  async createTopic(t: {
    name: string;
    partitions?: number;
    replicationFactor?: number;
    configs?: Record<string, string>;
  }): Promise<void> {
    const conn = await this.controller();
    const v = conn.versionFor(19, 0, 7);
    const res = await conn.send(
      19,
      v,
      (w) =>
        encodeCreateTopicsRequest(w, v, {
          topics: [
            {
              name: t.name,
              numPartitions: t.partitions ?? (v >= 4 ? -1 : 1),
              replicationFactor: t.replicationFactor ?? (v >= 4 ? -1 : 1),
              assignments: [],
              configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
            },
          ],
          timeoutMs: this.options.requestTimeoutMs,
          validateOnly: false,
        }),
      decodeCreateTopicsResponse,
    );
    for (const r of res.topics) check(r.errorCode, r.errorMessage ?? `topic ${r.name}`);
    this.metadata.invalidate(t.name);
  }

  async deleteTopics(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const conn = await this.controller();
    const v = conn.versionFor(20, 0, 6);
    const res = await conn.send(
      20,
      v,
      (w) =>
        encodeDeleteTopicsRequest(w, v, {
          topics: names.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })),
          topicNames: names,
          timeoutMs: this.options.requestTimeoutMs,
        }),
      decodeDeleteTopicsResponse,
    );
    for (const r of res.responses) check(r.errorCode, r.errorMessage ?? `topic ${r.name}`);
    for (const n of names) this.metadata.invalidate(n);
  }

  /** Grow `name` to `totalCount` partitions. */
  async createPartitions(name: string, totalCount: number): Promise<void> {
    const conn = await this.controller();
    const v = conn.versionFor(37, 0, 3);
    const res = await conn.send(
      37,
      v,
      (w) =>
        encodeCreatePartitionsRequest(w, v, {
          topics: [{ name, count: totalCount, assignments: null }],
          timeoutMs: this.options.requestTimeoutMs,
          validateOnly: false,
        }),
      decodeCreatePartitionsResponse,
    );
    for (const r of res.results) check(r.errorCode, r.errorMessage ?? `topic ${r.name}`);
    this.metadata.invalidate(name);
  }

  async describeTopicConfigs(name: string): Promise<ConfigEntry[]> {
    const conn = await this.pool.any();
    const v = conn.versionFor(32, 0, 4);
    const res = await conn.send(
      32,
      v,
      (w) =>
        encodeDescribeConfigsRequest(w, v, {
          resources: [{ resourceType: RESOURCE_TOPIC, resourceName: name, configurationKeys: null }],
          includeSynonyms: false,
          includeDocumentation: false,
        }),
      decodeDescribeConfigsResponse,
    );
    const r = res.results[0];
    if (!r) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'DescribeConfigs returned no result');
    check(r.errorCode, r.errorMessage ?? `topic ${name}`);
    return r.configs
      .map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        sensitive: c.isSensitive,
        isDefault: v === 0 ? c.isDefault : c.configSource === 5,
        source: v === 0 ? (c.isDefault ? 'DEFAULT_CONFIG' : 'UNKNOWN') : (CONFIG_SOURCES[c.configSource] ?? 'UNKNOWN'),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** IncrementalAlterConfigs: a string sets the config on the topic, null deletes it (back to the default). */
  async alterTopicConfigs(name: string, set: Record<string, string | null>): Promise<void> {
    const conn = await this.pool.any();
    const v = conn.versionFor(44, 0, 1);
    const res = await conn.send(
      44,
      v,
      (w) =>
        encodeIncrementalAlterConfigsRequest(w, v, {
          resources: [
            {
              resourceType: RESOURCE_TOPIC,
              resourceName: name,
              configs: Object.entries(set).map(([k, val]) => ({
                name: k,
                configOperation: val === null ? 1 : 0,
                value: val,
              })),
            },
          ],
          validateOnly: false,
        }),
      decodeIncrementalAlterConfigsResponse,
    );
    for (const r of res.responses) check(r.errorCode, r.errorMessage ?? `topic ${name}`);
  }

  /** Offsets of every partition of `topic`: earliest, latest, or the first offset at or after a timestamp. */
  async listOffsets(
    topic: string,
    spec: OffsetSpec,
    opts: { isolation?: 'read_committed' | 'read_uncommitted' } = {},
  ): Promise<Array<{ partition: number; offset: number; timestamp: number }>> {
    const info = await this.metadata.topic(topic);
    const res = await listOffsets(
      this.metadata,
      topic,
      info.partitions.map((p) => p.partition),
      spec,
      opts.isolation === 'read_committed',
    );
    return res.sort((a, b) => a.partition - b.partition);
  }

  /** Groups known to every broker of the cluster. */
  async listGroups(): Promise<Array<{ groupId: string; protocolType: string; state: string; type: string }>> {
    await this.metadata.fetch([]);
    const out = new Map<string, { groupId: string; protocolType: string; state: string; type: string }>();
    for (const id of this.metadata.brokers.keys()) {
      const conn = await this.metadata.connection(id);
      const v = conn.versionFor(16, 0, 5);
      const res = await conn.send(
        16,
        v,
        (w) => encodeListGroupsRequest(w, v, { statesFilter: [], typesFilter: [] }),
        decodeListGroupsResponse,
      );
      check(res.errorCode);
      for (const g of res.groups) {
        out.set(g.groupId, {
          groupId: g.groupId,
          protocolType: g.protocolType,
          state: g.groupState,
          type: g.groupType || 'classic',
        });
      }
    }
    return [...out.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
  }

  /** Run `fn` against the group's coordinator, finding it again when it moved. */
  private async onCoordinator<T>(groupId: string, fn: (c: Connection) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(await this.coordinators.connection(groupId));
      } catch (e) {
        if (
          attempt < 5 &&
          e instanceof KafkaError &&
          (isCoordinatorError(e.code) ||
            e.code === ErrorCode.NETWORK_EXCEPTION ||
            e.code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
        ) {
          this.coordinators.invalidate(groupId);
          await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
          continue;
        }
        throw e;
      }
    }
  }

  async describeGroups(ids: string[]): Promise<GroupDescription[]> {
    const out: GroupDescription[] = [];
    for (const groupId of ids) {
      const g = await this.onCoordinator(groupId, async (conn) => {
        const v = conn.versionFor(15, 0, 6);
        const res = await conn.send(
          15,
          v,
          (w) => encodeDescribeGroupsRequest(w, v, { groups: [groupId], includeAuthorizedOperations: false }),
          decodeDescribeGroupsResponse,
        );
        const d = res.groups[0];
        if (!d) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'DescribeGroups returned no group');
        check(d.errorCode, d.errorMessage ?? `group ${groupId}`);
        return d;
      });
      out.push({
        groupId: g.groupId,
        state: g.groupState,
        protocolType: g.protocolType,
        protocol: g.protocolData,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          assignment:
            g.protocolType === 'consumer' && m.memberAssignment.length > 0
              ? decodeAssignmentSafe(m.memberAssignment)
              : [],
        })),
      });
    }
    return out;
  }

  /** Committed offsets of a group (only partitions with a committed offset), optionally for some topics. */
  async fetchOffsets(
    groupId: string,
    topics?: string[],
  ): Promise<Array<{ topic: string; partition: number; offset: number; metadata: string | null }>> {
    const all = await this.onCoordinator(groupId, (conn) => fetchOffsets(conn, groupId, null));
    return all
      .filter((o) => o.offset >= 0 && (!topics || topics.includes(o.topic)))
      .map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata }))
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /** Commit offsets outside any generation (memberId "", generation -1), as kafka-consumer-groups does. */
  async commitOffsets(groupId: string, offsets: CommitEntry[]): Promise<void> {
    await this.onCoordinator(groupId, (conn) =>
      commitOffsets(conn, groupId, offsets, { generationId: -1, memberId: '', groupInstanceId: null }),
    );
  }

  /** Users' SCRAM mechanisms and iteration counts (every user with a credential when `users` is omitted). */
  async describeUserScramCredentials(users?: string[]): Promise<UserScramCredentials[]> {
    return describeUserScramCredentials(await this.pool.any(), users ?? null);
  }

  /** Upsert (salted here: the password never leaves the client) and delete SCRAM credentials. */
  async alterUserScramCredentials(alterations: ScramAlteration[]): Promise<void> {
    await alterUserScramCredentials(await this.controller(), alterations);
  }

  async deleteGroups(ids: string[]): Promise<void> {
    for (const groupId of ids) {
      await this.onCoordinator(groupId, async (conn) => {
        const v = conn.versionFor(42, 0, 2);
        const res = await conn.send(
          42,
          v,
          (w) => encodeDeleteGroupsRequest(w, v, { groupsNames: [groupId] }),
          decodeDeleteGroupsResponse,
        );
        for (const r of res.results) check(r.errorCode, `group ${r.groupId}`);
      });
    }
  }

  /** CreateAcls (client/admin-acls.ts). */
  async createAcls(bindings: readonly AclBinding[]): Promise<void> {
    return acls.createAcls(await this.controller(), bindings);
  }

  /** DescribeAcls: the ACLs matching the filter. */
  async describeAcls(filter: AclBindingFilter): Promise<AclBinding[]> {
    return acls.describeAcls(await this.controller(), filter);
  }

  /** DeleteAcls: the ACLs each filter deleted. */
  async deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclBinding[][]> {
    return acls.deleteAcls(await this.controller(), filters);
  }
}

function decodeAssignmentSafe(b: Buffer): Array<{ topic: string; partitions: number[] }> {
  try {
    return decodeAssignment(b).assignedPartitions.map((t) => ({
      topic: t.topic,
      partitions: [...t.partitions].sort((x, y) => x - y),
    }));
  } catch {
    return [];
  }
}
