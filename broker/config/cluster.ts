/**
 * Config rows of a replicated cluster: etcd membership and the broker lease, controlled shutdown, preferred-leader
 * rebalancing, the broker's rack, and follower replication (ISR lag, replica fetching, rack-aware reads, the
 * high-watermark checkpoint). Part of the one config table (../config.ts).
 */
import type { ConfigDef } from '../config-model.js';

export const CLUSTER_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'etcd.endpoints',
    type: 'list',
    default: [],
    doc:
      'etcd endpoints (`http://host:port`, comma-separated) of a replicated cluster; empty: a single node with ' +
      'its metadata in the data dir.',
  },
  {
    name: 'cluster.name',
    type: 'string',
    default: 'runnel',
    doc: 'Name of the cluster in etcd (its keys live under `/runnel/<cluster.name>/`); needs `etcd.endpoints`.',
  },
  {
    name: 'broker.session.timeout.ms',
    type: 'int',
    default: 9000,
    min: 1000,
    doc: "TTL of the broker's etcd lease: a broker not heard from this long is fenced and loses its leaderships.",
  },
  {
    name: 'controlled.shutdown.enable',
    type: 'boolean',
    default: true,
    doc:
      'In a cluster, a stopping broker first asks the controller to move its leaderships to other in-sync ' +
      'replicas and take it out of the ISRs, and waits for that before closing its logs.',
  },
  {
    name: 'controlled.shutdown.max.retries',
    type: 'int',
    default: 3,
    min: 1,
    doc: 'Attempts of a controlled shutdown (each re-sends the request) before the broker stops anyway.',
  },
  {
    name: 'controlled.shutdown.retry.backoff.ms',
    type: 'long',
    default: 5000,
    min: 1,
    doc: 'How long one controlled-shutdown attempt waits for the leaderships to move before the next one.',
  },
  {
    name: 'auto.leader.rebalance.enable',
    type: 'boolean',
    default: true,
    doc:
      'The controller moves leadership back to preferred (first) replicas that are live and in sync, when a ' +
      "broker's leader imbalance exceeds leader.imbalance.per.broker.percentage.",
  },
  {
    name: 'leader.imbalance.check.interval.seconds',
    type: 'long',
    default: 300,
    min: 1,
    doc: 'How often the controller checks the leader imbalance (auto.leader.rebalance.enable).',
  },
  {
    name: 'leader.imbalance.per.broker.percentage',
    type: 'int',
    default: 10,
    min: 0,
    doc: 'Share (%) of the partitions a broker prefers that may be led elsewhere before a preferred election.',
  },
  {
    name: 'broker.rack',
    type: 'string',
    default: null,
    doc: 'Rack of this broker, used by rack-aware replica assignment and listed in Metadata.',
  },
  {
    name: 'replica.lag.time.max.ms',
    type: 'long',
    default: 30_000,
    min: 1,
    doc: 'A follower that has not caught up with the leader for this long leaves the ISR.',
  },
  {
    name: 'replica.fetch.wait.max.ms',
    type: 'int',
    default: 500,
    min: 0,
    doc: "Longest time a follower's fetch waits at the leader for new data.",
  },
  {
    name: 'replica.fetch.max.bytes',
    type: 'int',
    default: 1_048_576,
    min: 0,
    doc: 'Bytes a follower fetches per partition in one request (at least one batch).',
  },
  {
    name: 'replica.fetch.backoff.ms',
    type: 'int',
    default: 1000,
    min: 0,
    doc: 'How long a follower waits before fetching again after a fetch error.',
  },
  {
    name: 'replica.selector.class',
    type: 'string',
    default: null,
    oneOf: ['org.apache.kafka.common.replica.RackAwareReplicaSelector'],
    doc:
      'Which replica a consumer (Fetch v11+) reads from (KIP-392): unset, the leader; ' +
      '`org.apache.kafka.common.replica.RackAwareReplicaSelector`, an in-sync replica in its `client.rack`.',
  },
  {
    name: 'replica.high.watermark.checkpoint.interval.ms',
    type: 'long',
    default: 5000,
    min: 1,
    doc: 'How often the high watermarks are written to `replication-offset-checkpoint` in the data dir.',
  },
];
