/**
 * Capture server (test helper): a minimal Kafka-protocol TCP server on 127.0.0.1 that records every request
 * frame it receives and answers just enough for real clients to get through start-up and send their first
 * requests (ApiVersions, Metadata, Produce, CreateTopics; a few others get harmless answers).
 *
 * Recorded per frame: the raw bytes after the int32 size prefix, the connection index (in accept order),
 * the frame's index on its connection, and its index in the global arrival order. Decoding uses the
 * generated codec; malformed input never crashes the server: a connection whose bytes cannot be parsed is
 * closed (as Kafka does) and the reason is recorded.
 *
 * Used by capture-clients.ts to produce the golden fixtures; not a broker: nothing is stored.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { encodeResponseFrame, parseRequestHeader } from '../../protocol/frame.js';
import { apiInfo } from '../../protocol/generated/apis.js';
import { DecodeError, UnsupportedVersionError } from '../../protocol/errors.js';
import type { Reader } from '../../protocol/wire/reader.js';
import type { Writer } from '../../protocol/wire/writer.js';
import { decodeApiVersionsRequest } from '../../protocol/generated/api-versions-request.js';
import {
  defaultApiVersionsResponse,
  encodeApiVersionsResponse,
} from '../../protocol/generated/api-versions-response.js';
import { decodeMetadataRequest } from '../../protocol/generated/metadata-request.js';
import {
  defaultMetadataResponse,
  defaultMetadataResponseBroker,
  defaultMetadataResponsePartition,
  defaultMetadataResponseTopic,
  encodeMetadataResponse,
  type MetadataResponseTopic,
} from '../../protocol/generated/metadata-response.js';
import { decodeProduceRequest } from '../../protocol/generated/produce-request.js';
import {
  defaultProduceResponse,
  defaultProduceResponsePartitionProduceResponse,
  defaultProduceResponseTopicProduceResponse,
  encodeProduceResponse,
} from '../../protocol/generated/produce-response.js';
import { decodeCreateTopicsRequest } from '../../protocol/generated/create-topics-request.js';
import {
  defaultCreateTopicsResponse,
  defaultCreateTopicsResponseCreatableTopicResult,
  encodeCreateTopicsResponse,
} from '../../protocol/generated/create-topics-response.js';
import { decodeInitProducerIdRequest } from '../../protocol/generated/init-producer-id-request.js';
import {
  defaultInitProducerIdResponse,
  encodeInitProducerIdResponse,
} from '../../protocol/generated/init-producer-id-response.js';
import { decodeFindCoordinatorRequest } from '../../protocol/generated/find-coordinator-request.js';
import {
  defaultFindCoordinatorResponse,
  defaultFindCoordinatorResponseCoordinator,
  encodeFindCoordinatorResponse,
} from '../../protocol/generated/find-coordinator-response.js';

/** API ranges the capture server advertises in ApiVersions (key → [min, max]). */
export const ADVERTISED: ReadonlyMap<number, readonly [number, number]> = new Map<number, readonly [number, number]>([
  [0, [0, 11]], // Produce
  [1, [4, 12]], // Fetch
  [2, [1, 9]], // ListOffsets
  [3, [0, 12]], // Metadata
  [8, [2, 9]], // OffsetCommit
  [9, [1, 9]], // OffsetFetch
  [10, [0, 6]], // FindCoordinator
  [11, [0, 9]], // JoinGroup
  [12, [0, 4]], // Heartbeat
  [13, [0, 5]], // LeaveGroup
  [14, [0, 5]], // SyncGroup
  [15, [0, 5]], // DescribeGroups
  [16, [0, 5]], // ListGroups
  [18, [0, 4]], // ApiVersions
  [19, [2, 7]], // CreateTopics
  [20, [1, 6]], // DeleteTopics
  [21, [0, 2]], // DeleteRecords
  [22, [0, 5]], // InitProducerId
  [32, [1, 4]], // DescribeConfigs
  [33, [0, 2]], // AlterConfigs
  [37, [0, 3]], // CreatePartitions
  [60, [0, 2]], // DescribeCluster
]);

/** Topic reported when a Metadata request asks for "all topics". */
export const ALL_TOPICS_NAME = 'golden';
export const NODE_ID = 1;
export const CLUSTER_ID = 'capture-cluster-0000001';
/** Largest frame accepted; anything bigger (or negative) closes the connection. */
const MAX_FRAME = 64 * 1024 * 1024;

export interface CapturedFrame {
  /** Connection index, 0-based, in accept order. */
  conn: number;
  /** Index of this frame on its connection, 0-based. */
  index: number;
  /** Index in the global arrival order, 0-based. */
  seq: number;
  /** Raw frame bytes after the int32 size prefix. */
  frame: Buffer;
  /** From the header when at least 8 bytes arrived, else -1. */
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** Whether the server answered (false for acks=0 Produce, unparseable or unknown requests). */
  answered: boolean;
  /**
   * Responses on this connection not yet written when this frame arrived. With `responseDelayMs` > 0, a
   * value above 0 proves the client pipelined: it sent this request before it could have read the answer
   * to an earlier one.
   */
  inFlight: number;
  /** Why the request was not answered or the connection was closed, if so. */
  note?: string;
}

export interface CaptureServerOptions {
  /** Log problems (decode failures, closed connections) to stderr. Default false. */
  verbose?: boolean;
  /**
   * Hold every response this long before writing it (in order), so that pipelined requests show up as
   * `inFlight > 0`. Default 0: answer at once.
   */
  responseDelayMs?: number;
}

/** Deterministic 16-byte topic id (never all zero) as 22 base64url characters. */
export function topicIdFor(name: string): string {
  const b = Buffer.alloc(16);
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  for (let i = 0; i < 4; i++) b.writeUInt32BE((h ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0, i * 4);
  b[0] |= 0x01;
  return b.toString('base64url');
}

class ConnState {
  buf: Buffer = Buffer.alloc(0);
  frames = 0;
  closed = false;
  /** Responses computed but not yet written (only with a response delay). */
  pending = 0;
  constructor(
    readonly index: number,
    readonly socket: Socket,
  ) {}
}

export class CaptureServer {
  readonly frames: CapturedFrame[] = [];
  /** Connection-level events (bad size prefix, errors), for diagnostics. */
  readonly events: string[] = [];
  private readonly sockets = new Set<Socket>();
  private connCount = 0;
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
    private readonly verbose: boolean,
    private readonly responseDelayMs: number,
  ) {}

  static start(opts: CaptureServerOptions = {}): Promise<CaptureServer> {
    return new Promise((resolve, reject) => {
      let cs: CaptureServer | undefined;
      const server = createServer((socket) => cs?.accept(socket));
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address() as AddressInfo;
        cs = new CaptureServer(
          server,
          '127.0.0.1',
          addr.port,
          opts.verbose ?? false,
          Math.max(0, opts.responseDelayMs ?? 0),
        );
        server.on('error', (e) => cs?.log(`server error: ${String(e)}`));
        resolve(cs);
      });
    });
  }

  get connections(): number {
    return this.connCount;
  }

  /** Close the listener and every open connection. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Resolve when `pred` holds for the frames captured so far, or reject after `timeoutMs`. */
  waitFor(pred: (frames: readonly CapturedFrame[]) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (pred(this.frames)) return resolve();
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`capture server: condition not met within ${timeoutMs} ms (${this.frames.length} frames)`));
      }, timeoutMs);
      const check = (): void => {
        if (pred(this.frames)) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }
      };
      this.waiters.push(check);
    });
  }

  /** Resolve once no new frame has arrived for `quietMs` (bounded by `maxMs`). */
  async settle(quietMs: number, maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    let seen = -1;
    while (Date.now() < deadline) {
      if (this.frames.length === seen) return;
      seen = this.frames.length;
      await new Promise((r) => setTimeout(r, Math.min(quietMs, Math.max(1, deadline - Date.now()))));
    }
  }

  private log(msg: string): void {
    this.events.push(msg);
    if (this.verbose) process.stderr.write(`[capture-server] ${msg}\n`);
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private accept(socket: Socket): void {
    const conn = new ConnState(this.connCount++, socket);
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      try {
        this.onData(conn, d);
      } catch (e) {
        // Defensive: nothing below should throw, but a test helper must never take the process down.
        this.log(`conn ${conn.index}: internal error ${String(e)}`);
        this.closeConn(conn);
      }
    });
    socket.on('error', (e) => this.log(`conn ${conn.index}: socket error ${String(e)}`));
    socket.on('close', () => {
      conn.closed = true;
      this.sockets.delete(socket);
    });
  }

  private closeConn(conn: ConnState): void {
    conn.closed = true;
    conn.socket.destroy();
  }

  private onData(conn: ConnState, d: Buffer): void {
    if (conn.closed) return;
    conn.buf = conn.buf.length === 0 ? d : Buffer.concat([conn.buf, d]);
    while (!conn.closed && conn.buf.length >= 4) {
      const size = conn.buf.readInt32BE(0);
      if (size < 0 || size > MAX_FRAME) {
        this.log(`conn ${conn.index}: bad frame size ${size}, closing`);
        this.closeConn(conn);
        return;
      }
      if (conn.buf.length < 4 + size) break;
      // Copy so the recorded frame does not pin (or alias) the receive buffer.
      const frame = Buffer.from(conn.buf.subarray(4, 4 + size));
      conn.buf = conn.buf.subarray(4 + size);
      this.onFrame(conn, frame);
    }
    this.wake();
  }

  private onFrame(conn: ConnState, frame: Buffer): void {
    const rec: CapturedFrame = {
      conn: conn.index,
      index: conn.frames++,
      seq: this.frames.length,
      frame,
      apiKey: frame.length >= 2 ? frame.readInt16BE(0) : -1,
      apiVersion: frame.length >= 4 ? frame.readInt16BE(2) : -1,
      correlationId: frame.length >= 8 ? frame.readInt32BE(4) : -1,
      clientId: null,
      answered: false,
      inFlight: conn.pending,
    };
    this.frames.push(rec);
    let response: Buffer[] | null;
    try {
      response = this.respond(rec);
    } catch (e) {
      const typed = e instanceof DecodeError || e instanceof UnsupportedVersionError;
      rec.note = `${typed ? '' : 'UNEXPECTED '}${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
      this.log(`conn ${conn.index} frame ${rec.index}: ${rec.note}; closing`);
      // Close after the responses already queued on this connection have been written.
      this.later(() => this.closeConn(conn));
      return;
    }
    if (response === null) return;
    rec.answered = true;
    const chunks = response;
    conn.pending++;
    this.later(() => {
      conn.pending--;
      if (conn.closed) return;
      conn.socket.cork();
      for (const c of chunks) conn.socket.write(c);
      conn.socket.uncork();
    });
  }

  /** Run `f` after the response delay; timers of equal delay fire in scheduling order, so order is kept. */
  private later(f: () => void): void {
    if (this.responseDelayMs === 0) f();
    else setTimeout(f, this.responseDelayMs);
  }

  /** Build the response frame for one request, or null for "no response". Throws on undecodable input. */
  private respond(rec: CapturedFrame): Buffer[] | null {
    const { header, body, known } = parseRequestHeader(rec.frame);
    rec.clientId = header.clientId;
    const key = header.requestApiKey;
    const version = header.requestApiVersion;
    const cid = header.correlationId;
    if (key === 18 && version > 4) {
      // KIP-511: unknown ApiVersions version → v0 body, error 35, listing our ApiVersions range.
      return encodeResponseFrame(18, 0, cid, (w) =>
        encodeApiVersionsResponse(w, 0, {
          ...defaultApiVersionsResponse(),
          errorCode: 35,
          apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
        }),
      );
    }
    if (!known) {
      throw new UnsupportedVersionError(`api key ${key} version ${version} is unknown to the codec`);
    }
    const frame = (enc: (w: Writer) => void): Buffer[] => encodeResponseFrame(key, version, cid, enc);
    switch (key) {
      case 18:
        return this.apiVersions(body, version, frame);
      case 3:
        return this.metadata(body, version, frame);
      case 0:
        return this.produce(body, version, frame);
      case 19:
        return this.createTopics(body, version, frame);
      case 22: {
        decodeInitProducerIdRequest(body, version);
        return frame((w) =>
          encodeInitProducerIdResponse(w, version, {
            ...defaultInitProducerIdResponse(),
            producerId: 1000n,
            producerEpoch: 0,
          }),
        );
      }
      case 10: {
        const req = decodeFindCoordinatorRequest(body, version);
        const keys = req.coordinatorKeys.length > 0 ? req.coordinatorKeys : [req.key];
        return frame((w) =>
          encodeFindCoordinatorResponse(w, version, {
            ...defaultFindCoordinatorResponse(),
            nodeId: NODE_ID,
            host: this.host,
            port: this.port,
            coordinators: keys.map((k) => ({
              ...defaultFindCoordinatorResponseCoordinator(),
              key: k,
              nodeId: NODE_ID,
              host: this.host,
              port: this.port,
            })),
          }),
        );
      }
      default:
        throw new UnsupportedVersionError(`capture server does not answer ${apiInfo(key)?.name ?? key} v${version}`);
    }
  }

  private apiVersions(body: Reader, version: number, frame: (enc: (w: Writer) => void) => Buffer[]): Buffer[] {
    decodeApiVersionsRequest(body, version);
    const apiKeys = [...ADVERTISED].map(([apiKey, [minVersion, maxVersion]]) => ({ apiKey, minVersion, maxVersion }));
    return frame((w) => encodeApiVersionsResponse(w, version, { ...defaultApiVersionsResponse(), apiKeys }));
  }

  private metadata(body: Reader, version: number, frame: (enc: (w: Writer) => void) => Buffer[]): Buffer[] {
    const req = decodeMetadataRequest(body, version);
    // v0: an empty list means all topics; v1+: null means all topics, empty means none.
    const all = req.topics === null || (version === 0 && req.topics.length === 0);
    const names = all ? [ALL_TOPICS_NAME] : (req.topics ?? []).map((t) => t.name ?? ALL_TOPICS_NAME);
    const topics: MetadataResponseTopic[] = names.map((name) => ({
      ...defaultMetadataResponseTopic(),
      name,
      topicId: topicIdFor(name),
      partitions: [
        {
          ...defaultMetadataResponsePartition(),
          partitionIndex: 0,
          leaderId: NODE_ID,
          leaderEpoch: 0,
          replicaNodes: [NODE_ID],
          isrNodes: [NODE_ID],
        },
      ],
    }));
    return frame((w) =>
      encodeMetadataResponse(w, version, {
        ...defaultMetadataResponse(),
        brokers: [
          { ...defaultMetadataResponseBroker(), nodeId: NODE_ID, host: this.host, port: this.port, rack: null },
        ],
        clusterId: CLUSTER_ID,
        controllerId: NODE_ID,
        topics,
      }),
    );
  }

  private produce(body: Reader, version: number, frame: (enc: (w: Writer) => void) => Buffer[]): Buffer[] | null {
    const req = decodeProduceRequest(body, version);
    if (req.acks === 0) return null;
    return frame((w) =>
      encodeProduceResponse(w, version, {
        ...defaultProduceResponse(),
        responses: req.topicData.map((t) => ({
          ...defaultProduceResponseTopicProduceResponse(),
          name: t.name,
          topicId: t.topicId,
          partitionResponses: t.partitionData.map((p) => ({
            ...defaultProduceResponsePartitionProduceResponse(),
            index: p.index,
            errorCode: 0,
            baseOffset: 0n,
            logAppendTimeMs: -1n,
            logStartOffset: 0n,
          })),
        })),
      }),
    );
  }

  private createTopics(body: Reader, version: number, frame: (enc: (w: Writer) => void) => Buffer[]): Buffer[] {
    const req = decodeCreateTopicsRequest(body, version);
    return frame((w) =>
      encodeCreateTopicsResponse(w, version, {
        ...defaultCreateTopicsResponse(),
        topics: req.topics.map((t) => ({
          ...defaultCreateTopicsResponseCreatableTopicResult(),
          name: t.name,
          topicId: topicIdFor(t.name),
          errorCode: 0,
          errorMessage: null,
          numPartitions: t.numPartitions > 0 ? t.numPartitions : 1,
          replicationFactor: t.replicationFactor > 0 ? t.replicationFactor : 1,
          configs: [],
        })),
      }),
    );
  }
}
