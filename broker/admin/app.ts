/**
 * The admin HTTP API (fastify), built without listening so tests can use `inject()`:
 *   GET /health, GET /ready, GET /metrics (Prometheus text),
 *   GET|POST /topics, GET|DELETE /topics/:name,
 *   POST /topics/:name/records, GET /topics/:name/partitions/:p/records?offset=&max=&encoding=,
 *   GET /groups, GET /groups/:id; and (manage.ts) GET|PATCH /topics/:name/configs,
 *   GET|POST /topics/:name/partitions, POST /groups/:id/offsets/reset, DELETE /groups/:id.
 * /ready answers 200 once recovery is done and the Kafka listener accepts (Broker.start sets `started`
 * after both), 503 before and while stopping.
 * With an authorizer or a SASL listener, routes require credentials and ACLs as the Kafka API (auth.ts).
 * Errors are `{ error: { code, message } }` with a stable code (Kafka's error name where one fits).
 * Loaded on the admin server's first HTTP request (server.ts), never at broker start.
 */
import {
  fastify,
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyError,
  type FastifyServerFactory,
} from 'fastify';
import type { Broker } from '../broker.js';
import { invalidTopicName } from '../../replication/metadata/image.js';
import { describeTopicConfigs, errorOf, validateTopicConfigs } from '../topic-configs.js';
import { isInternalTopic } from '../topics.js';
import { errorName } from '../../protocol/generated/error-codes.js';
import { describeGroup, listGroups } from '../groups/offsets.js';
import { AdminMetrics, groupOffsets } from './metrics.js';
import { decodeConsumerAssignment } from '../../protocol/consumer-protocol.js';
import { HttpError, produceJson, readJson, type Encoding, type JsonRecord } from './records.js';
import { deleteTopicOffsets } from '../groups/offsets.js';
import type { RequestStats } from './request-stats.js';
import { registerManageRoutes } from './manage.js';
import { registerAdminAuth } from './auth.js';
import type { ListenerTls } from '../security/tls.js';
import { AclOperation, AclResourceType } from '../authorizer.js';

export interface AdminAppOptions {
  /** The admin server's request and flush metrics, fed since it started (server.ts); the app's own otherwise. */
  stats?: RequestStats;
  /** fastify's serverFactory (server.ts serves fastify's handler from its own, already listening, server). */
  serverFactory?: FastifyServerFactory;
  /** The TLS of an https admin API (client certificates authenticate, auth.ts). */
  tls?: ListenerTls;
}

function isReady(broker: Broker): boolean {
  if (broker.stopping) return false;
  try {
    broker.started;
    return true;
  } catch {
    return false;
  }
}

function partitionsOf(broker: Broker, name: string, partitions: number) {
  const out = [];
  for (let p = 0; p < partitions; p++) {
    const l = broker.replicaManager.getPartition(name, p);
    if (typeof l !== 'number')
      out.push({
        partition: p,
        logStartOffset: l.logStartOffset,
        logEndOffset: l.logEndOffset,
        highWatermark: l.highWatermark,
        sizeBytes: l.size,
      });
  }
  return out;
}

/** A consumer-protocol member assignment as topic → partitions, or null when it cannot be read. */
function assignmentOf(protocolType: string, buf: Buffer): { topic: string; partitions: number[] }[] | null {
  if (protocolType !== 'consumer') return null;
  try {
    return decodeConsumerAssignment(buf).assignedPartitions.map((a) => ({
      topic: a.topic,
      partitions: [...a.partitions],
    }));
  } catch {
    return null; // empty (none yet), truncated or a negative version: a bad member's bytes never fail the request
  }
}

function encodingOf(q: string | undefined): Encoding {
  if (q === undefined || q === 'utf8' || q === 'utf-8') return 'utf8';
  if (q === 'base64') return 'base64';
  throw new HttpError(400, 'INVALID_REQUEST', `encoding must be utf8 or base64, not ${JSON.stringify(q)}`);
}

const configValue = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] };
const recordSchema = {
  type: 'object',
  properties: {
    key: {},
    value: {},
    headers: {
      anyOf: [
        { type: 'object' },
        {
          type: 'array',
          items: { type: 'object', required: ['key'], properties: { key: { type: 'string' }, value: {} } },
        },
      ],
    },
    partition: { type: 'integer', minimum: 0 },
    timestamp: { type: 'integer' },
  },
  additionalProperties: false,
};

export function buildAdminApp(broker: Broker, opts: AdminAppOptions = {}): FastifyInstance {
  const log = broker.childLogger('admin');
  const app = fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 16 * 1024 * 1024,
    // Unknown fields are refused (INVALID_REQUEST), not silently dropped as fastify's default does.
    ajv: { customOptions: { removeAdditional: false } },
    ...(opts.serverFactory ? { serverFactory: opts.serverFactory } : {}),
  });
  const metrics = new AdminMetrics(broker, opts.stats);
  broker.requestObserver = metrics.observe;
  broker.flushObserver = metrics.observeFlush;
  app.addHook('onClose', async () => {
    if (broker.requestObserver === metrics.observe) broker.requestObserver = undefined;
    if (broker.flushObserver === metrics.observeFlush) broker.flushObserver = undefined;
  });
  app.addHook('onResponse', async (req, reply) => {
    log.debug(
      { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'admin request',
    );
  });

  app.setErrorHandler((err: FastifyError | HttpError, _req, reply) => {
    if (err instanceof HttpError)
      return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    if ((err as FastifyError).validation)
      return reply.code(400).send({ error: { code: 'INVALID_REQUEST', message: err.message } });
    const status = (err as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply
        .code(status)
        .send({ error: { code: status === 413 ? 'REQUEST_TOO_LARGE' : 'INVALID_REQUEST', message: err.message } });
    }
    log.error({ err: err.message, stack: err.stack }, 'admin request failed');
    return reply.code(500).send({ error: { code: 'INTERNAL_ERROR', message: err.message } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } }),
  );

  const auth = registerAdminAuth(app, broker, { tls: opts.tls });
  const { TOPIC, GROUP } = AclResourceType;

  // Storage-backed routes answer 503 until the broker has started (and once it stops).
  const requireReady = (): void => {
    if (!isReady(broker)) throw new HttpError(503, 'NOT_READY', 'the broker is not running');
  };
  const requireTopic = (name: string) => {
    requireReady();
    const meta = broker.metadata.image.topic(name);
    if (!meta) throw new HttpError(404, 'UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
    return meta;
  };

  registerManageRoutes(app, broker, {
    requireReady,
    requireTopic,
    partitionsOf: (name, n) => partitionsOf(broker, name, n),
    log,
    auth,
  });

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/ready', async (_req, reply) => {
    if (isReady(broker)) return { status: 'ready' };
    return reply.code(503).send({
      error: { code: 'NOT_READY', message: broker.stopping ? 'the broker is stopping' : 'the broker is starting' },
    });
  });

  app.get('/metrics', async (req, reply) => {
    auth.requireMetrics(req);
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  app.get('/topics', async (req) => {
    requireReady();
    return {
      topics: broker.metadata.image
        .topics()
        .filter((t) => auth.allowed(req, AclOperation.DESCRIBE, TOPIC, t.name))
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((t) => ({
          name: t.name,
          topicId: t.topicId,
          internal: isInternalTopic(t.name),
          partitions: partitionsOf(broker, t.name, t.partitions),
        })),
    };
  });

  app.get<{ Params: { name: string } }>('/topics/:name', async (req) => {
    auth.require(req, AclOperation.DESCRIBE, TOPIC, req.params.name);
    const t = requireTopic(req.params.name);
    const configs: Record<string, string | null> = {};
    for (const c of describeTopicConfigs(broker, t.configs)) configs[c.name] = c.value;
    if (!auth.allowed(req, AclOperation.DESCRIBE_CONFIGS, TOPIC, t.name)) {
      return {
        name: t.name,
        topicId: t.topicId,
        internal: isInternalTopic(t.name),
        partitions: partitionsOf(broker, t.name, t.partitions),
      };
    }
    return {
      name: t.name,
      topicId: t.topicId,
      internal: isInternalTopic(t.name),
      partitions: partitionsOf(broker, t.name, t.partitions),
      configs,
      overrides: t.configs,
    };
  });

  app.post<{ Body: { name: string; partitions?: number; configs?: Record<string, string | number | boolean> } }>(
    '/topics',
    {
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string' },
            partitions: { type: 'integer', minimum: 1, maximum: 100000 },
            configs: { type: 'object', additionalProperties: configValue },
          },
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      requireReady();
      const { name } = req.body;
      auth.requireCreateTopic(req, name);
      const bad = invalidTopicName(name);
      if (bad) throw new HttpError(400, 'INVALID_TOPIC_EXCEPTION', bad);
      if (isInternalTopic(name)) throw new HttpError(400, 'INVALID_TOPIC_EXCEPTION', `${name} is an internal topic`);
      if (broker.metadata.image.topic(name))
        throw new HttpError(409, 'TOPIC_ALREADY_EXISTS', `topic ${name} already exists`);
      const configs: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.body.configs ?? {})) configs[k] = String(v);
      const invalid = validateTopicConfigs(broker, configs);
      if (invalid) throw new HttpError(400, errorName(invalid.code), invalid.message ?? 'invalid topic config');
      const partitions = req.body.partitions ?? broker.config.int('num.partitions');
      try {
        const meta = await broker.metadata.createTopic(name, { partitions, configs });
        log.info({ topic: name, partitions, configs }, 'topic created over HTTP');
        return reply.code(201).send({
          name: meta.name,
          topicId: meta.topicId,
          partitions: partitionsOf(broker, meta.name, meta.partitions),
          overrides: meta.configs,
        });
      } catch (err) {
        const e = errorOf(err);
        const code = errorName(e.code);
        throw new HttpError(
          code === 'TOPIC_ALREADY_EXISTS'
            ? 409
            : code === 'UNKNOWN_SERVER_ERROR' || code === 'KAFKA_STORAGE_ERROR'
              ? 500
              : 400,
          code,
          e.message ?? code,
        );
      }
    },
  );

  app.delete<{ Params: { name: string } }>('/topics/:name', async (req, reply) => {
    auth.require(req, AclOperation.DELETE, TOPIC, req.params.name);
    const t = requireTopic(req.params.name);
    if (isInternalTopic(t.name)) throw new HttpError(400, 'INVALID_TOPIC_EXCEPTION', `${t.name} is an internal topic`);
    const deleted = await broker.metadata.deleteTopic(t.name);
    if (!deleted) throw new HttpError(404, 'UNKNOWN_TOPIC_OR_PARTITION', `topic ${t.name} does not exist`);
    await deleteTopicOffsets(broker.groups, t.name);
    log.info({ topic: t.name }, 'topic deleted over HTTP');
    return reply.code(204).send();
  });

  app.post<{
    Params: { name: string };
    Querystring: { encoding?: string };
    Body: JsonRecord[] | { records: JsonRecord[] };
  }>(
    '/topics/:name/records',
    {
      schema: {
        body: {
          anyOf: [
            { type: 'array', minItems: 1, items: recordSchema },
            {
              type: 'object',
              required: ['records'],
              properties: { records: { type: 'array', minItems: 1, items: recordSchema } },
              additionalProperties: false,
            },
          ],
        },
      },
    },
    async (req) => {
      auth.require(req, AclOperation.WRITE, TOPIC, req.params.name);
      requireTopic(req.params.name);
      const enc = encodingOf(req.query.encoding);
      const records = Array.isArray(req.body) ? req.body : req.body.records;
      const offsets = await produceJson(broker, req.params.name, records, enc, (bytes, n) =>
        metrics.appended(req.params.name, bytes, n),
      );
      return { topic: req.params.name, records: offsets };
    },
  );

  app.get<{ Params: { name: string; p: string }; Querystring: { offset?: string; max?: string; encoding?: string } }>(
    '/topics/:name/partitions/:p/records',
    async (req) => {
      auth.require(req, AclOperation.READ, TOPIC, req.params.name);
      requireTopic(req.params.name);
      const int = (s: string | undefined, what: string, min: number): number | undefined => {
        if (s === undefined || s === '') return undefined;
        if (!/^\d+$/.test(s) || Number(s) < min)
          throw new HttpError(400, 'INVALID_REQUEST', `${what} must be an integer >= ${min}`);
        return Number(s);
      };
      const partition = int(req.params.p, 'partition', 0)!;
      const max = Math.min(int(req.query.max, 'max', 1) ?? 100, 10_000);
      return readJson(
        broker,
        req.params.name,
        partition,
        int(req.query.offset, 'offset', 0),
        max,
        encodingOf(req.query.encoding),
      );
    },
  );

  app.get('/groups', async (req) => {
    requireReady();
    const r = listGroups(broker.groups, [], []);
    if (r.errorCode !== 0) throw new HttpError(503, errorName(r.errorCode), 'the group coordinator is not available');
    return {
      groups: r.groups
        .filter((g) => auth.allowed(req, AclOperation.DESCRIBE, GROUP, g.groupId))
        .sort((a, b) => a.groupId.localeCompare(b.groupId))
        .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, state: g.state, type: g.type })),
    };
  });

  app.get<{ Params: { id: string } }>('/groups/:id', async (req) => {
    auth.require(req, AclOperation.DESCRIBE, GROUP, req.params.id);
    requireReady();
    const c = broker.groups;
    const d = describeGroup(c, req.params.id);
    if (d.errorCode !== 0) throw new HttpError(503, errorName(d.errorCode), 'the group coordinator is not available');
    if (!c.groups.has(req.params.id))
      throw new HttpError(404, 'GROUP_ID_NOT_FOUND', `group ${req.params.id} does not exist`);
    const offsets = groupOffsets(broker, req.params.id)
      .filter((o) => auth.allowed(req, AclOperation.DESCRIBE, TOPIC, o.topic))
      .map((o) => ({
        topic: o.topic,
        partition: o.partition,
        offset: o.offset,
        highWatermark: o.highWatermark,
        lag: Math.max(0, o.highWatermark - o.offset),
      }));
    return {
      groupId: d.groupId,
      state: d.state,
      protocolType: d.protocolType,
      protocol: d.protocol,
      members: d.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment: assignmentOf(d.protocolType, m.assignment),
      })),
      offsets,
      totalLag: offsets.reduce((n, o) => n + o.lag, 0),
    };
  });

  return app;
}
