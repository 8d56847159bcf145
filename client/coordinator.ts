/**
 * FindCoordinator (v0-6; v4+ batched keys): the broker that coordinates a group (keyType 0) or a
 * transactional id (1). Retries while the coordinator is loading or not yet available.
 */
import { decodeFindCoordinatorResponse } from '../protocol/generated/find-coordinator-response.js';
import { encodeFindCoordinatorRequest } from '../protocol/generated/find-coordinator-request.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { Connection } from './connection.js';
import { KafkaError } from './errors.js';
import { sleep, type Metadata } from './metadata.js';
import type { Purpose } from './pool.js';

export interface Coordinator {
  nodeId: number;
  host: string;
  port: number;
}

export async function findCoordinator(md: Metadata, key: string, keyType = 0): Promise<Coordinator> {
  let last: KafkaError | null = null;
  for (let attempt = 0; attempt < 10; attempt++) {
    const conn = await md.pool.any();
    const v = conn.versionFor(10, 0, 6);
    const res = await conn.send(
      10,
      v,
      (w) => encodeFindCoordinatorRequest(w, v, { key, keyType, coordinatorKeys: [key] }),
      decodeFindCoordinatorResponse,
    );
    const c = v >= 4 ? res.coordinators.find((x) => x.key === key) : { ...res, key };
    if (!c) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `no coordinator for ${key}`);
    if (c.errorCode === ErrorCode.NONE) return { nodeId: c.nodeId, host: c.host, port: c.port };
    last = new KafkaError(c.errorCode, c.errorMessage);
    if (!last.retriable) throw last;
    await sleep(Math.min(50 * 2 ** attempt, 1000));
  }
  throw last!;
}

/** Cached coordinator connections per key, dropped on NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE. */
export class CoordinatorCache {
  private readonly cache = new Map<string, Coordinator>();
  constructor(
    private readonly md: Metadata,
    private readonly purpose: Purpose = 'coordinator',
  ) {}

  async connection(groupId: string): Promise<Connection> {
    let c = this.cache.get(groupId);
    if (!c) {
      c = await findCoordinator(this.md, groupId);
      this.cache.set(groupId, c);
    }
    return this.md.pool.get(c.host, c.port, this.purpose);
  }

  invalidate(groupId: string): void {
    this.cache.delete(groupId);
  }
}
