/**
 * Admin API routes that change topics and groups beyond create/delete (registered by app.ts):
 *   GET   /topics/:name/configs          every topic config with its value and whether it is an override
 *   PATCH /topics/:name/configs          { set?: {name: value}, delete?: [name] } (incremental, validated as
 *                                        IncrementalAlterConfigs validates)
 *   GET   /topics/:name/partitions       partitions with log start/end offsets, high watermark and size
 *   POST  /topics/:name/partitions       { count } — grow the topic to `count` partitions
 *   POST  /groups/:id/offsets/reset      { topic, partitions?, to: earliest | latest | offset | timestamp,
 *                                        offset?, timestamp? } — only for a group without members, as
 *                                        Kafka's kafka-consumer-groups --reset-offsets requires
 *   DELETE /groups/:id                   delete an empty group and its offsets
 * Errors are `{ error: { code, message } }` with Kafka's error name as the code where one fits.
 */
import type { FastifyInstance } from 'fastify';
import type { Broker } from '../broker.js';
import { ConfigSource, describeTopicConfigs, errorOf, replaceTopicConfigs, withConfigLock } from '../topic-configs.js';
import { isInternalTopic } from '../topics.js';
import { errorName } from '../../protocol/generated/error-codes.js';
import { commitOffsets, deleteGroups } from '../groups/offsets.js';
import { HttpError } from './records.js';
import type { Logger } from '../logger.js';
import type { AdminAuth } from './auth.js';
import { AclOperation, AclResourceType } from '../authorizer.js';

export interface ManageDeps {
  requireReady(): void;
  requireTopic(name: string): { name: string; partitions: number; configs: Record<string, string> };
  partitionsOf(name: string, partitions: number): unknown[];
  log: Logger;
  /** Authorization of each route (auth.ts). */
  auth: AdminAuth;
}

const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } };
const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } };
const configValue = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] };

export function registerManageRoutes(app: FastifyInstance, broker: Broker, d: ManageDeps): void {
  const { TOPIC, GROUP } = AclResourceType;
  const configsOf = (t: { configs: Record<string, string> }) =>
    describeTopicConfigs(broker, t.configs).map((c) => ({
      name: c.name,
      value: c.value,
      override: c.source === ConfigSource.DYNAMIC_TOPIC_CONFIG,
      readOnly: c.readOnly,
      sensitive: c.isSensitive,
    }));

  app.get<{ Params: { name: string } }>('/topics/:name/configs', { schema: { params: nameParam } }, async (req) => {
    d.auth.require(req, AclOperation.DESCRIBE_CONFIGS, TOPIC, req.params.name);
    const t = d.requireTopic(req.params.name);
    return { name: t.name, configs: configsOf(t) };
  });

  app.patch<{ Params: { name: string }; Body: { set?: Record<string, string | number | boolean>; delete?: string[] } }>(
    '/topics/:name/configs',
    {
      schema: {
        params: nameParam,
        body: {
          type: 'object',
          properties: {
            set: { type: 'object', additionalProperties: configValue },
            delete: { type: 'array', items: { type: 'string' } },
          },
          additionalProperties: false,
          minProperties: 1,
        },
      },
    },
    async (req) => {
      d.auth.require(req, AclOperation.ALTER_CONFIGS, TOPIC, req.params.name);
      const t0 = d.requireTopic(req.params.name);
      if (isInternalTopic(t0.name))
        throw new HttpError(400, 'INVALID_TOPIC_EXCEPTION', `${t0.name} is an internal topic`);
      await withConfigLock(broker, async () => {
        const t = d.requireTopic(req.params.name);
        const props: Record<string, string | null> = { ...t.configs };
        for (const k of req.body.delete ?? []) delete props[k];
        for (const [k, v] of Object.entries(req.body.set ?? {})) props[k] = String(v);
        const err = await replaceTopicConfigs(broker, t.name, props, false);
        if (err) {
          const code = errorName(err.code);
          throw new HttpError(code === 'UNKNOWN_TOPIC_OR_PARTITION' ? 404 : 400, code, err.message ?? code);
        }
      });
      const t = d.requireTopic(req.params.name);
      d.log.info({ topic: t.name, set: req.body.set, delete: req.body.delete }, 'topic configs altered over HTTP');
      return { name: t.name, overrides: t.configs, configs: configsOf(t) };
    },
  );

  app.get<{ Params: { name: string } }>('/topics/:name/partitions', { schema: { params: nameParam } }, async (req) => {
    d.auth.require(req, AclOperation.DESCRIBE, TOPIC, req.params.name);
    const t = d.requireTopic(req.params.name);
    return { name: t.name, partitions: d.partitionsOf(t.name, t.partitions) };
  });

  app.post<{ Params: { name: string }; Body: { count: number } }>(
    '/topics/:name/partitions',
    {
      schema: {
        params: nameParam,
        body: {
          type: 'object',
          required: ['count'],
          properties: { count: { type: 'integer', minimum: 1, maximum: 100000 } },
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      d.auth.require(req, AclOperation.ALTER, TOPIC, req.params.name);
      const t = d.requireTopic(req.params.name);
      if (isInternalTopic(t.name))
        throw new HttpError(400, 'INVALID_TOPIC_EXCEPTION', `${t.name} is an internal topic`);
      if (req.body.count <= t.partitions)
        throw new HttpError(
          400,
          'INVALID_PARTITIONS',
          `topic ${t.name} has ${t.partitions} partitions; count must be larger`,
        );
      try {
        const meta = await broker.metadata.createPartitions(t.name, req.body.count);
        d.log.info({ topic: t.name, partitions: meta.partitions }, 'partitions added over HTTP');
        return { name: meta.name, partitions: d.partitionsOf(meta.name, meta.partitions) };
      } catch (err) {
        const e = errorOf(err);
        const code = errorName(e.code);
        throw new HttpError(
          code === 'UNKNOWN_SERVER_ERROR' || code === 'KAFKA_STORAGE_ERROR' ? 500 : 400,
          code,
          e.message ?? code,
        );
      }
    },
  );

  app.post<{
    Params: { id: string };
    Body: {
      topic: string;
      partitions?: number[];
      to: 'earliest' | 'latest' | 'offset' | 'timestamp';
      offset?: number;
      timestamp?: number;
    };
  }>(
    '/groups/:id/offsets/reset',
    {
      schema: {
        params: idParam,
        body: {
          type: 'object',
          required: ['topic', 'to'],
          properties: {
            topic: { type: 'string', minLength: 1 },
            partitions: { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, uniqueItems: true },
            to: { enum: ['earliest', 'latest', 'offset', 'timestamp'] },
            offset: { type: 'integer', minimum: 0 },
            timestamp: { type: 'integer', minimum: 0 },
          },
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      d.requireReady();
      const { id } = req.params;
      const b = req.body;
      // As OffsetCommit (AlterConsumerGroupOffsets): READ on the group and on the topic.
      d.auth.require(req, AclOperation.READ, GROUP, id);
      d.auth.require(req, AclOperation.READ, TOPIC, b.topic);
      const t = d.requireTopic(b.topic);
      if (b.to === 'offset' && b.offset === undefined)
        throw new HttpError(400, 'INVALID_REQUEST', 'to "offset" needs an offset');
      if (b.to === 'timestamp' && b.timestamp === undefined)
        throw new HttpError(400, 'INVALID_REQUEST', 'to "timestamp" needs a timestamp');
      const c = broker.groups;
      const classic = c.groups.get(id);
      const consumer = c.consumer?.groups.get(id);
      if ((classic && classic.members.size > 0) || (consumer && consumer.members.size > 0)) {
        throw new HttpError(
          409,
          'NON_EMPTY_GROUP',
          `group ${id} has active members; stop its consumers before resetting offsets`,
        );
      }
      const partitions = b.partitions ?? [...Array(t.partitions).keys()];
      const targets: {
        topic: string;
        partition: number;
        offset: number;
        leaderEpoch: number;
        metadata: string | null;
      }[] = [];
      for (const p of partitions) {
        const log = broker.replicaManager.getPartition(t.name, p);
        if (typeof log === 'number')
          throw new HttpError(404, 'UNKNOWN_TOPIC_OR_PARTITION', `topic ${t.name} has no partition ${p}`);
        let offset: number;
        if (b.to === 'earliest') offset = log.logStartOffset;
        else if (b.to === 'latest') offset = log.highWatermark;
        else if (b.to === 'offset') offset = Math.min(Math.max(b.offset!, log.logStartOffset), log.highWatermark);
        else offset = (await log.offsetForTimestamp(b.timestamp!))?.offset ?? log.highWatermark;
        targets.push({ topic: t.name, partition: p, offset, leaderEpoch: -1, metadata: null });
      }
      const codes = await commitOffsets(
        c,
        { groupId: id, generationId: -1, memberId: '', groupInstanceId: null, partitions: targets },
        (name) => broker.metadata.image.topic(name)?.partitions,
      );
      const bad = codes.find((x) => x !== 0);
      if (bad !== undefined) {
        const code = errorName(bad);
        throw new HttpError(
          code === 'UNKNOWN_MEMBER_ID' || code === 'NON_EMPTY_GROUP'
            ? 409
            : code === 'COORDINATOR_NOT_AVAILABLE' || code === 'COORDINATOR_LOAD_IN_PROGRESS'
              ? 503
              : 400,
          code === 'UNKNOWN_MEMBER_ID' ? 'NON_EMPTY_GROUP' : code,
          `offset reset failed: ${code}`,
        );
      }
      d.log.info(
        { group: id, topic: t.name, to: b.to, offsets: targets.map((x) => [x.partition, x.offset]) },
        'group offsets reset over HTTP',
      );
      return {
        groupId: id,
        topic: t.name,
        offsets: targets.map((x) => ({ partition: x.partition, offset: x.offset })),
      };
    },
  );

  app.delete<{ Params: { id: string } }>('/groups/:id', { schema: { params: idParam } }, async (req, reply) => {
    d.auth.require(req, AclOperation.DELETE, GROUP, req.params.id);
    d.requireReady();
    const [r] = await deleteGroups(broker.groups, [req.params.id]);
    if (r.errorCode !== 0) {
      const code = errorName(r.errorCode);
      const status =
        code === 'GROUP_ID_NOT_FOUND'
          ? 404
          : code === 'NON_EMPTY_GROUP'
            ? 409
            : code.startsWith('COORDINATOR') || code === 'NOT_COORDINATOR'
              ? 503
              : 400;
      throw new HttpError(status, code, `group ${req.params.id}: ${code}`);
    }
    d.log.info({ group: req.params.id }, 'group deleted over HTTP');
    return reply.code(204).send();
  });
}
