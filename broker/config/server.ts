/**
 * Config rows of this node's process and listeners: its id, the Kafka listener's bind address and what clients
 * are told (advertised.*), the admin HTTP API, the data dir, logging, request and connection limits, and fetch
 * sessions. Part of the one config table (../config.ts concatenates the area tables in reference order).
 */
import type { ConfigDef } from '../config-model.js';

/** The first rows of the table: node id and the Kafka listener. */
export const NODE_CONFIGS: readonly ConfigDef[] = [
  { name: 'node.id', type: 'int', default: 1, min: 0, doc: "This node's id in the cluster." },
  { name: 'host', type: 'string', default: '0.0.0.0', doc: 'Address the Kafka listener binds to.' },
  {
    name: 'port',
    type: 'int',
    default: 9092,
    min: 0,
    max: 65535,

    doc: 'Port of the Kafka listener (0 picks a free port).',
  },
];

/** Advertised address, admin API, data dir, logging, request/connection limits, fetch sessions. */
export const SERVER_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'advertised.host',
    type: 'string',
    default: null,

    doc: 'Host clients are told to connect to; default: `host`, or `localhost` when `host` is a wildcard address.',
  },
  {
    name: 'advertised.port',
    type: 'int',
    default: null,
    min: 1,
    max: 65535,

    doc: 'Port clients are told to connect to; default: the bound port.',
  },
  {
    name: 'admin.port',
    type: 'int',
    default: 9644,
    min: -1,
    max: 65535,
    doc:
      'Port of the admin HTTP API (health, readiness, Prometheus metrics, topics, groups, records); ' +
      '0 picks a free port, -1 turns it off.',
  },
  {
    name: 'admin.host',
    type: 'string',
    default: '127.0.0.1',
    doc:
      'Address the admin HTTP API and its metrics bind to: loopback only by default; `0.0.0.0` (as the Docker ' +
      'image sets) serves every interface.',
  },
  {
    name: 'admin.ssl.enabled',
    type: 'boolean',
    default: false,
    doc:
      "Serve the admin HTTP API over HTTPS with the Kafka listeners' TLS settings: the `ssl.*` configs read for " +
      'the listener name `ADMIN` (so `listener.name.admin.ssl.*` overrides them), certificates reloaded as ' +
      'theirs; a trusted client certificate (`ssl.client.auth`) authenticates as on an SSL listener.',
  },
  {
    name: 'admin.metrics.authentication.required',
    type: 'boolean',
    default: true,
    doc:
      'With an authorizer or a SASL listener configured, whether `/metrics` of the admin API requires credentials ' +
      '(HTTP Basic or a bearer token, as every other route but `/health` and `/ready`).',
  },
  {
    name: 'admin.bearer.tokens',
    type: 'list',
    default: [],
    sensitive: true,
    doc:
      'Bearer tokens the admin API accepts once it requires credentials: `User:name=token` pairs, comma-separated; ' +
      'the request runs as that principal.',
  },
  {
    name: 'data.dir',
    type: 'string',
    default: './data',

    doc: 'Directory holding the partition logs and metadata (Kafka: log.dirs).',
  },
  {
    name: 'log.level',
    type: 'string',
    default: 'info',
    oneOf: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    doc: 'Log level.',
  },
  {
    name: 'log.format',
    type: 'string',
    default: 'auto',
    oneOf: ['auto', 'json', 'pretty'],

    doc: 'Log output: JSON lines, human-readable (pino-pretty), or auto: pretty when stdout is a terminal, else JSON.',
  },
  {
    name: 'socket.request.max.bytes',
    type: 'int',
    default: 104_857_600,
    min: 1,

    doc: 'Largest request frame accepted; a larger one closes the connection without being read.',
  },
  {
    name: 'connections.max.idle.ms',
    type: 'long',
    default: 600_000,
    min: 1,
    doc: 'Idle connections are closed after this many milliseconds.',
  },
  {
    name: 'max.connections',
    type: 'int',
    default: 2_147_483_647,
    min: 0,
    perListener: 'listener',
    doc:
      'Most connections open at once over all listeners (`listener.name.<l>.max.connections`: on one listener); ' +
      'one over the limit is closed on accept, with a log line.',
  },
  {
    name: 'max.connections.per.ip',
    type: 'int',
    default: 2_147_483_647,
    min: 0,
    doc:
      'Most connections from one IP address; one over the limit is closed on accept, with a log line ' +
      '(0 refuses every address `max.connections.per.ip.overrides` does not name).',
  },
  {
    name: 'max.connections.per.ip.overrides',
    type: 'string',
    default: '',
    pattern: /^\s*(?:[^,\s]+:\s*\d+\s*(?:,\s*[^,\s]+:\s*\d+\s*)*)?$/,
    doc:
      'Exceptions to `max.connections.per.ip`: `<ip or host name>:<count>`, comma-separated (e.g. ' +
      '`127.0.0.1:200,myhost:100`); host names are resolved at start-up.',
  },
  {
    name: 'log.max.open.files',
    type: 'int',
    default: 0,
    min: 0,
    doc:
      'Most files the logs keep open; files not recently used are closed and reopened on demand. 0: half the ' +
      'process open-files limit (`ulimit -n`, from /proc/self/limits; 1024 if unknown), the rest kept for sockets.',
  },
  {
    name: 'log.append.inline.max.bytes',
    type: 'int',
    default: 4_194_304,
    min: 0,
    doc:
      'Appends up to this size are written into the page cache by a blocking call on the event loop, as ' +
      "Kafka's request handler threads write; larger ones through libuv's thread pool. 0: every append " +
      'through the pool. After a blocking write over 50 ms (dirty-page throttling, a stalled disk) appends ' +
      'go through the pool for a second.',
  },
  {
    name: 'log.tail.cache.max.bytes',
    type: 'long',
    default: 4_194_304,
    min: 0,
    doc:
      'Bytes of the latest appends of partitions led without followers kept in memory for this node together ' +
      '(oldest leave first), so that consumers fetching at the log end are answered without reading the log ' +
      'file; a partition caches (copies) its appends only while a consumer reads at its log end. Partitions ' +
      'with followers keep theirs until the followers fetched them. 0: none.',
  },
  {
    name: 'fetch.memory.max.bytes',
    type: 'long',
    default: 33_554_432,
    min: 1_048_576,
    doc:
      'Most bytes the consumer fetches in flight together may read into memory (Runnel reads file ranges, Kafka ' +
      'sends them with sendfile). Past it a fetch answers less than its max bytes (at least one batch; at least ' +
      '1 MiB a fetch) until earlier answers have been written; free read buffers up to this much are kept.',
  },
  {
    name: 'max.incremental.fetch.session.cache.slots',
    type: 'int',
    default: 1000,
    min: 0,
    doc: 'Most incremental fetch sessions (KIP-227) this node keeps; 0 turns sessions off (every fetch is a full one).',
  },
];
