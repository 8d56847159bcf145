/**
 * KIP-951 leader discovery hints: a Produce (v10+) or Fetch (v16+) answer with NOT_LEADER_OR_FOLLOWER (Fetch
 * also FENCED_LEADER_EPOCH) for a partition carries that partition's current leader (id and epoch, a tagged
 * field) and the response carries the endpoints of those leaders (NodeEndpoints, a tagged field), so the
 * client re-routes without a Metadata round trip. The leader is the one of this node's metadata image; a
 * partition without a leader (or unknown to the image) answers leader -1 epoch -1 and no endpoint, as Kafka.
 */
import type { MetadataImage } from '../replication/metadata/image.js';

export interface LeaderIdAndEpoch {
  leaderId: number;
  leaderEpoch: number;
}

export interface NodeEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/** Collects the leaders named in one response and their endpoints. */
export class LeaderHints {
  private readonly endpoints = new Map<number, NodeEndpoint>();

  constructor(private readonly image: MetadataImage) {}

  /** The current leader of `topic-partition` (recording its endpoint for `nodeEndpoints`). */
  leaderOf(topic: string, partition: number): LeaderIdAndEpoch {
    const reg = this.image.partition(topic, partition);
    if (!reg || reg.leader < 0) return { leaderId: -1, leaderEpoch: -1 };
    const broker = this.image.broker(reg.leader);
    const e = this.image.endpoint(reg.leader);
    if (broker && !broker.fenced && e && !this.endpoints.has(reg.leader)) {
      this.endpoints.set(reg.leader, { nodeId: reg.leader, host: e.host, port: e.port, rack: broker.rack });
    }
    return { leaderId: reg.leader, leaderEpoch: reg.leaderEpoch };
  }

  /** The endpoints of every leader named so far, by node id. */
  nodeEndpoints(): NodeEndpoint[] {
    return [...this.endpoints.values()].sort((a, b) => a.nodeId - b.nodeId);
  }
}
