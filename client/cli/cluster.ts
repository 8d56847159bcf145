/**
 * `runnel cluster info`: cluster id, controller and brokers (DescribeCluster, or Metadata), and how
 * many topics and partitions the cluster holds.
 */
import { type CommonOptions, out, table } from './common.js';
import { withAdmin } from './view.js';

interface InfoOptions extends CommonOptions {
  json?: boolean;
}

export async function clusterInfo(opts: InfoOptions): Promise<number> {
  return withAdmin(opts, async (admin) => {
    const cluster = await admin.describeCluster();
    const names = await admin.listTopics({ includeInternal: true });
    const topics = names.length ? await admin.describeTopics(names) : [];
    const user = topics.filter((t) => !t.internal);
    const partitions = user.reduce((s, t) => s + t.partitions.length, 0);
    const internalPartitions = topics.reduce((s, t) => s + (t.internal ? t.partitions.length : 0), 0);
    if (opts.json) {
      out(
        `${JSON.stringify(
          {
            ...cluster,
            topics: user.length,
            partitions,
            internalTopics: topics.length - user.length,
            internalPartitions,
          },
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    let text = `Cluster id: ${cluster.clusterId ?? '-'}\n`;
    text += `Controller: ${cluster.controllerId < 0 ? '-' : cluster.controllerId}\n`;
    text += `Topics: ${user.length} (${partitions} partitions)`;
    if (topics.length > user.length)
      text += `, internal: ${topics.length - user.length} (${internalPartitions} partitions)`;
    text +=
      '\n\n' +
      table(
        ['BROKER', 'HOST', 'PORT', 'RACK', 'CONTROLLER'],
        [...cluster.brokers]
          .sort((a, b) => a.nodeId - b.nodeId)
          .map((b) => [b.nodeId, b.host, b.port, b.rack, b.nodeId === cluster.controllerId ? 'yes' : '']),
      );
    out(text);
    return 0;
  });
}
