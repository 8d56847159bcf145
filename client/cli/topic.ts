/**
 * `runnel topic create|list|describe|delete|alter-config|add-partitions`: topic administration through
 * the Admin client (CreateTopics, Metadata, ListOffsets, DescribeConfigs, IncrementalAlterConfigs,
 * DeleteTopics, CreatePartitions).
 */
import { type CommonOptions, UsageError, err, out, table } from './common.js';
import { isKafkaError, withAdmin } from './view.js';

interface CreateOptions extends CommonOptions {
  partitions?: number;
  replicationFactor?: number;
  config?: Array<[string, string]>;
  ifNotExists?: boolean;
}

export async function topicCreate(name: string, opts: CreateOptions): Promise<number> {
  const configs = Object.fromEntries(opts.config ?? []);
  return withAdmin(opts, async (admin) => {
    try {
      await admin.createTopic({
        name,
        partitions: opts.partitions,
        replicationFactor: opts.replicationFactor,
        configs,
      });
    } catch (e) {
      if (opts.ifNotExists && isKafkaError(e, 'TOPIC_ALREADY_EXISTS')) {
        out(`topic ${name} already exists\n`);
        return 0;
      }
      throw e;
    }
    const [t] = await admin.describeTopics([name]);
    out(`created topic ${name} with ${t?.partitions.length ?? opts.partitions ?? '?'} partition(s)\n`);
    return 0;
  });
}

interface ListOptions extends CommonOptions {
  internal?: boolean;
  long?: boolean;
}

export async function topicList(opts: ListOptions): Promise<number> {
  return withAdmin(opts, async (admin) => {
    const names = (await admin.listTopics({ includeInternal: !!opts.internal })).sort();
    if (!opts.long) {
      out(names.map((n) => `${n}\n`).join(''));
      return 0;
    }
    const topics = names.length ? await admin.describeTopics(names) : [];
    const byName = new Map(topics.map((t) => [t.name, t]));
    out(
      table(
        ['TOPIC', 'PARTITIONS'],
        names.map((n) => [n, byName.get(n)?.partitions.length]),
      ),
    );
    return 0;
  });
}

interface DescribeOptions extends CommonOptions {
  allConfigs?: boolean;
  json?: boolean;
}

export async function topicDescribe(name: string, opts: DescribeOptions): Promise<number> {
  return withAdmin(opts, async (admin) => {
    const t = await admin.describeTopic(name);
    const [earliest, latest, configs] = await Promise.all([
      admin.listOffsets(name, 'earliest'),
      admin.listOffsets(name, 'latest'),
      admin.describeTopicConfigs(name),
    ]);
    const shown = opts.allConfigs ? configs : configs.filter((c) => !c.isDefault);
    const partitions = [...t.partitions]
      .sort((a, b) => a.partition - b.partition)
      .map((p) => ({
        ...p,
        logStartOffset: earliest.get(p.partition) ?? null,
        logEndOffset: latest.get(p.partition) ?? null,
      }));
    if (opts.json) {
      out(
        `${JSON.stringify(
          {
            name: t.name,
            topicId: t.topicId,
            internal: t.internal,
            partitions,
            configs: Object.fromEntries(shown.map((c) => [c.name, c.value])),
          },
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    const records = partitions.reduce((s, p) => s + Math.max(0, (p.logEndOffset ?? 0) - (p.logStartOffset ?? 0)), 0);
    const rf = partitions[0]?.replicas.length ?? 0;
    const topicId = t.topicId ? `\tTopicId: ${t.topicId}` : '';
    let text =
      `Topic: ${t.name}\tPartitions: ${partitions.length}\tReplicationFactor: ${rf}${topicId}` +
      `\tRecords: ${records}\n`;
    text +=
      '\n' +
      table(
        ['PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'LOG-START-OFFSET', 'LOG-END-OFFSET'],
        partitions.map((p) => [
          p.partition,
          p.leader,
          p.replicas.join(','),
          p.isr.join(','),
          p.logStartOffset,
          p.logEndOffset,
        ]),
      );
    text += `\nConfigs${opts.allConfigs ? '' : ' (set on the topic; --all-configs for every one)'}:\n`;
    text +=
      shown.length === 0
        ? '  (none)\n'
        : shown
            .map(
              (c) =>
                `  ${c.name}=${c.sensitive ? '(sensitive)' : (c.value ?? 'null')}` +
                `${opts.allConfigs && c.isDefault ? '  (default)' : ''}\n`,
            )
            .join('');
    out(text);
    return 0;
  });
}

interface DeleteOptions extends CommonOptions {
  ifExists?: boolean;
}

export async function topicDelete(names: string[], opts: DeleteOptions): Promise<number> {
  return withAdmin(opts, async (admin) => {
    let failed = 0;
    for (const n of names) {
      try {
        await admin.deleteTopics([n]);
        out(`deleted topic ${n}\n`);
      } catch (e) {
        if (!isKafkaError(e, 'UNKNOWN_TOPIC_OR_PARTITION')) throw e;
        if (opts.ifExists) continue;
        err(`runnel: topic ${n} does not exist\n`);
        failed++;
      }
    }
    return failed ? 1 : 0;
  });
}

interface AlterOptions extends CommonOptions {
  set?: Array<[string, string]>;
  delete?: string[];
}

export async function topicAlterConfig(name: string, opts: AlterOptions): Promise<number> {
  const changes: Record<string, string | null> = {};
  for (const [k, v] of opts.set ?? []) changes[k] = v;
  for (const k of opts.delete ?? []) {
    if (k in changes) throw new UsageError(`config ${k} is both set and deleted`);
    changes[k] = null;
  }
  if (Object.keys(changes).length === 0)
    throw new UsageError('nothing to change: give --set name=value and/or --delete name');
  return withAdmin(opts, async (admin) => {
    await admin.alterTopicConfigs(name, changes);
    for (const [k, v] of Object.entries(changes)) out(v === null ? `removed ${k}\n` : `set ${k}=${v}\n`);
    return 0;
  });
}

interface AddPartitionsOptions extends CommonOptions {
  partitions: number;
}

export async function topicAddPartitions(name: string, opts: AddPartitionsOptions): Promise<number> {
  return withAdmin(opts, async (admin) => {
    await admin.createPartitions(name, opts.partitions);
    out(`topic ${name} now has ${opts.partitions} partitions\n`);
    return 0;
  });
}
