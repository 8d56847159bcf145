/**
 * DescribeLogDirs (key 35), versions 0-4 (v2+ flexible).
 *
 * One log dir: this broker's data directory (absolute path), with the replicas this broker hosts (in a
 * cluster each broker answers for its own: a partition led or followed elsewhere and not hosted here is
 * left out). topics null = every hosted partition; otherwise the listed partitions hosted here (unknown
 * ones are left out, as Kafka does). Each partition reports its size on disk (all segments), offsetLag as
 * Kafka's: max(HW - log end, 0) for a current replica, always 0 (Kafka reports a real lag only for a
 * "future" replica moving between dirs, which Runnel has not), and isFutureKey false. v3+ top-level
 * errorCode 0; v4 totalBytes/usableBytes of the volume from statfs (-1 each when statfs fails, Kafka's "unknown").
 * Authorization (Kafka's KafkaApis): DESCRIBE on the CLUSTER, else CLUSTER_AUTHORIZATION_FAILED (v3+; below,
 * no log dirs) and nothing described.
 */
import { statfs } from 'node:fs/promises';
import {
  decodeDescribeLogDirsRequest,
  type DescribeLogDirsRequest,
} from '../../protocol/generated/describe-log-dirs-request.js';
import {
  defaultDescribeLogDirsResponse,
  defaultDescribeLogDirsResult,
  encodeDescribeLogDirsResponse,
  type DescribeLogDirsPartition,
  type DescribeLogDirsResponse,
} from '../../protocol/generated/describe-log-dirs-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation } from '../authorizer.js';
import { authorizedCluster } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export async function volumeBytes(dir: string): Promise<{ total: bigint; usable: bigint }> {
  try {
    const s = await statfs(dir, { bigint: true });
    return { total: s.blocks * s.bsize, usable: s.bavail * s.bsize };
  } catch {
    return { total: -1n, usable: -1n };
  }
}

export const describeLogDirsHandler = registerHandler<DescribeLogDirsRequest, DescribeLogDirsResponse>({
  apiKey: 35,
  name: 'DescribeLogDirs',
  minVersion: 0,
  maxVersion: 4,
  decode: decodeDescribeLogDirsRequest,
  encode: encodeDescribeLogDirsResponse,
  async handle(req, ctx) {
    const { partitions: replicaManager, dataDir } = ctx.services;
    if (!authorizedCluster(ctx, AclOperation.DESCRIBE)) {
      const denied = defaultDescribeLogDirsResponse();
      denied.errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return denied;
    }
    const byTopic = new Map<string, DescribeLogDirsPartition[]>();
    const add = (topic: string, partition: number): void => {
      const log = replicaManager.getPartition(topic, partition);
      if (typeof log === 'number') return;
      let list = byTopic.get(topic);
      if (!list) {
        list = [];
        byTopic.set(topic, list);
      }
      if (list.some((p) => p.partitionIndex === partition)) return;
      const offsetLag = BigInt(Math.max(log.highWatermark - log.logEndOffset, 0));
      list.push({ partitionIndex: partition, partitionSize: BigInt(log.size), offsetLag, isFutureKey: false });
    };
    if (req.topics === null) {
      const hosted = replicaManager.allPartitions();
      hosted.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
      for (const p of hosted) add(p.topic, p.partition);
    } else {
      for (const t of req.topics) for (const p of t.partitions) add(t.topic, p);
    }
    const result = defaultDescribeLogDirsResult();
    result.logDir = dataDir;
    result.topics = [...byTopic].map(([name, partitions]) => ({ name, partitions }));
    if (ctx.apiVersion >= 4) {
      const vol = await volumeBytes(dataDir);
      result.totalBytes = vol.total;
      result.usableBytes = vol.usable;
    }
    const res = defaultDescribeLogDirsResponse();
    res.results = [result];
    return res;
  },
});
