/**
 * DescribeLogDirs (key 35), versions 0-4 (v2+ flexible).
 *
 * One log dir: the data directory (absolute path). topics null = every partition; otherwise the listed
 * partitions that exist (unknown ones are left out, as Kafka does). Each partition reports its size on
 * disk (all segments), offsetLag 0 (this node is the leader, so its log is never behind) and isFutureKey
 * false (no replica movement between dirs). v3+ top-level errorCode 0; v4 totalBytes/usableBytes of the
 * volume from statfs (-1 each when statfs fails, Kafka's "unknown").
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
    const { metadata, partitions: replicaManager, dataDir } = ctx.services;
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
      list.push({ partitionIndex: partition, partitionSize: BigInt(log.size), offsetLag: 0n, isFutureKey: false });
    };
    if (req.topics === null) {
      for (const t of metadata.image.topics()) for (let p = 0; p < t.partitions; p++) add(t.name, p);
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
