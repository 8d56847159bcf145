/**
 * The client commands of the `runnel` CLI: topic, produce, consume, group, acl, cluster, user, and dev (a local
 * replicated cluster: broker/dev-cluster.ts, loaded only by that command). This module only
 * declares the commands, their options and help; each action imports its implementation lazily
 * (./topic.js, ./produce.js, ...) so that parsing stays cheap and `runnel start` never loads this file
 * (broker/cli.ts imports it only when the first argument is not `start`).
 *
 * Every client command takes `--bootstrap host:port` (default localhost:9092) and `--command-config file` (a
 * secured listener's client properties). Exit codes: 0 success, 1 Kafka or operation error, 2 usage error.
 */
import { type Command, Option } from 'commander';
import {
  DEFAULT_BOOTSTRAP,
  choice,
  collectKeyValue,
  collectList,
  describeError,
  parseIntOption,
  parseTimestamp,
} from './common.js';

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  Kafka or operation error (refused by the broker, cannot connect, timeout)
  2  usage error (unknown option, bad value, missing argument)`;

const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const ACKS = ['all', '-1', '0', '1'] as const;
const FORMATS = ['text', 'json', 'hex'] as const;
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

/** --mechanism of `runnel user` (any case). */
function scramMechanismOption(): Option {
  return new Option('-m, --mechanism <mechanism>', `SCRAM mechanism: ${SCRAM_MECHANISMS.join(' or ')}`)
    .argParser((v: string) => choice(SCRAM_MECHANISMS)(v.toUpperCase()))
    .makeOptionMandatory();
}

/** Run a lazily imported action; report errors on stderr with the right exit code. */
async function run(action: () => Promise<number | undefined>): Promise<void> {
  let code: number;
  try {
    code = (await action()) ?? 0;
  } catch (e) {
    const { message, exitCode } = describeError(e);
    process.stderr.write(`runnel: ${message}\n`);
    if (exitCode === 2) process.stderr.write('(see --help)\n');
    code = exitCode;
  }
  // Sockets or timers a failed client left behind must not keep the process alive; stdout (a pipe may
  // still hold queued writes) is flushed first.
  await new Promise<void>((resolve) => {
    if (process.stdout.destroyed || process.stdout.writableLength === 0) return resolve();
    const t = setTimeout(resolve, 60_000);
    process.stdout.write('', () => {
      clearTimeout(t);
      resolve();
    });
  });
  process.exit(code);
}

function clientCommand(parent: Command, nameAndArgs: string, description: string): Command {
  return parent
    .command(nameAndArgs)
    .description(description)
    .option('-b, --bootstrap <host:port>', 'broker(s) to connect to, comma-separated', DEFAULT_BOOTSTRAP)
    .option(
      '--command-config <file>',
      'client properties for a secured listener: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.*',
    );
}

export function registerClientCommands(program: Command): void {
  // ---- topic
  const topic = program.command('topic').description('create, list, describe, delete and configure topics');
  clientCommand(topic, 'create <name>', 'create a topic')
    .option(
      '-p, --partitions <n>',
      "number of partitions (default: the broker's num.partitions)",
      parseIntOption(1, 1_000_000),
    )
    .option('-r, --replication-factor <r>', "replication factor (default: the broker's)", parseIntOption(1, 32767))
    .option('-c, --config <name=value>', 'topic config (repeatable), e.g. retention.ms=3600000', collectKeyValue)
    .option('--if-not-exists', 'succeed if the topic already exists')
    .action((name: string, opts) => run(async () => (await import('./topic.js')).topicCreate(name, opts)));
  clientCommand(topic, 'list', 'list topic names, one a line')
    .option('--internal', 'include internal topics (__consumer_offsets)')
    .option('-l, --long', 'also print partition counts')
    .action((opts) => run(async () => (await import('./topic.js')).topicList(opts)));
  clientCommand(topic, 'describe <name>', 'show partitions (leader, replicas, offsets) and configs of a topic')
    .option('--all-configs', 'print every config, not only those set on the topic')
    .option('--json', 'print JSON')
    .action((name: string, opts) => run(async () => (await import('./topic.js')).topicDescribe(name, opts)));
  clientCommand(topic, 'delete <names...>', 'delete topics')
    .option('--if-exists', 'succeed if a topic does not exist')
    .action((names: string[], opts) => run(async () => (await import('./topic.js')).topicDelete(names, opts)));
  clientCommand(topic, 'alter-config <name>', 'set or remove topic configs')
    .option('-s, --set <name=value>', 'set a config (repeatable)', collectKeyValue)
    .option('-d, --delete <name>', 'remove a config, back to the broker default (repeatable)', collectList)
    .action((name: string, opts) => run(async () => (await import('./topic.js')).topicAlterConfig(name, opts)));
  clientCommand(topic, 'add-partitions <name>', 'raise the partition count of a topic')
    .requiredOption('-p, --partitions <n>', 'the new total number of partitions', parseIntOption(1, 1_000_000))
    .action((name: string, opts) => run(async () => (await import('./topic.js')).topicAddPartitions(name, opts)));

  // ---- produce
  clientCommand(program, 'produce <topic>', 'produce records, one per input line, from stdin or a file')
    .option('-f, --file <path>', 'read lines from this file instead of stdin')
    .option(
      '-k, --key-separator <sep>',
      'split each line at the first SEP into key and value (a line without it is an error)',
    )
    .option('-H, --header <name=value>', 'add a header to every record (repeatable)', collectKeyValue)
    .addOption(new Option('-z, --compression <codec>', 'batch compression').choices(COMPRESSIONS).default('none'))
    .addOption(
      new Option('-a, --acks <acks>', 'acknowledgements to wait for: all (= -1), 1 or 0')
        .argParser(choice(ACKS))
        .default('all'),
    )
    .option(
      '-p, --partition <p>',
      "write every record to this partition (default: by key, Kafka's partitioner)",
      parseIntOption(0, 2 ** 31 - 1),
    )
    .option('--linger-ms <ms>', 'batching delay', parseIntOption(0, 60_000))
    .option('-q, --quiet', 'no progress bar and no final count')
    .addHelpText(
      'after',
      `
Every line becomes one record (an empty line is a record with an empty value). Input is streamed with
bounded memory; the command returns once every record is acknowledged and prints the count on stderr
(a progress bar when stderr is a terminal).

Examples:
  printf 'k1:hello\\nk2:world\\n' | runnel produce orders --key-separator : --header source=cli
  runnel produce events --file events.jsonl --compression zstd`,
    )
    .action((topicName: string, opts) => run(async () => (await import('./produce.js')).produce(topicName, opts)));

  // ---- consume
  clientCommand(program, 'consume <topic>', 'print records of a topic')
    .option('--from-beginning', 'start at the earliest offset (also when a group has no committed offset)')
    .option('-o, --offset <n>', 'start at offset N of each partition read', parseIntOption(0))
    .option(
      '-t, --timestamp <time>',
      'start at the first record at or after this time (ISO-8601 or epoch ms)',
      parseTimestamp,
    )
    .option('-p, --partition <p>', 'read only this partition', parseIntOption(0, 2 ** 31 - 1))
    .option('-g, --group <id>', 'consume as a member of this consumer group and commit the offsets printed')
    .addOption(new Option('-F, --format <format>', 'output format').choices(FORMATS).default('text'))
    .option('-f, --follow', 'keep waiting for new records (stop with Ctrl-C)')
    .option('-n, --max <n>', 'stop after N records', parseIntOption(1))
    .option('-K, --print-key', 'text/hex: print the key before the value')
    .option('--print-headers', 'text/hex: print the headers before the value')
    .option('--print-offset', 'text/hex: print partition and offset before the value')
    .option('--separator <sep>', 'text/hex: separator between the printed fields', '\t')
    .option(
      '--timeout-ms <ms>',
      'stop after this long without a record (default: never with --follow, else 5000, 15000 with --group)',
      parseIntOption(1),
    )
    .addHelpText(
      'after',
      `
Start position: --offset, --timestamp or --from-beginning; with --group, the group's committed offsets
(falling back to the earliest offset with --from-beginning, else the latest). Without any of these the
command reads from the beginning, except with --follow alone, which prints only new records.
Without --follow the command stops at the end offsets the partitions had when it started.

Formats: text prints values as UTF-8 (null as "null"); json prints one object a line with topic,
partition, offset, timestamp, key, value and headers (strings; bytes that are not UTF-8 as
{"base64": ...}); hex prints values (and keys/headers when asked) as hexadecimal.`,
    )
    .action((topicName: string, opts) => run(async () => (await import('./consume.js')).consume(topicName, opts)));

  // ---- group
  const group = program.command('group').description('list, describe, reset and delete consumer groups');
  clientCommand(group, 'list', 'list consumer groups with their state').action((opts) =>
    run(async () => (await import('./group.js')).groupList(opts)),
  );
  clientCommand(group, 'describe <group>', 'show members, assignments, committed offsets and lag per partition')
    .option('--json', 'print JSON')
    .action((id: string, opts) => run(async () => (await import('./group.js')).groupDescribe(id, opts)));
  clientCommand(group, 'reset-offsets <group>', "move a group's committed offsets (the group must have no members)")
    .requiredOption('-t, --topic <topic>', 'topic whose offsets to reset')
    .option(
      '-p, --partition <p>',
      'only this partition (repeatable; default: all)',
      (v: string, prev: number[] | undefined) => [...(prev ?? []), parseIntOption(0, 2 ** 31 - 1)(v)],
    )
    .option('--to-earliest', 'to the earliest offset')
    .option('--to-latest', 'to the latest offset')
    .option('--to-offset <n>', 'to offset N (kept within the log: earliest..latest)', parseIntOption(0))
    .option('--to-datetime <time>', 'to the first offset at or after this time (ISO-8601 or epoch ms)', parseTimestamp)
    .option('--dry-run', 'print the new offsets without committing them')
    .action((id: string, opts) => run(async () => (await import('./group.js')).groupResetOffsets(id, opts)));
  clientCommand(group, 'delete <groups...>', 'delete consumer groups (they must have no members)').action(
    (ids: string[], opts) => run(async () => (await import('./group.js')).groupDelete(ids, opts)),
  );

  // ---- acl
  const acl = program.command('acl').description("add, list and remove ACLs (kafka-acls' options)");
  const aclOptions = (c: Command, forAdd: boolean): Command => {
    c.option('--allow-principal <principal>', 'principal the ACL allows, e.g. User:alice (repeatable)', collectList)
      .option('--deny-principal <principal>', 'principal the ACL denies (repeatable)', collectList)
      .option('--allow-host <host>', 'host the allow ACLs apply to (repeatable; default *)', collectList)
      .option('--deny-host <host>', 'host the deny ACLs apply to (repeatable; default *)', collectList)
      .option('--operation <op>', 'Read, Write, Create, Describe, Alter, ... (repeatable; default All)', collectList)
      .option('--producer', 'producer ACLs: Write, Describe, Create on topics; Write, Describe on transactional ids')
      .option('--consumer', 'consumer ACLs: Read, Describe on topics; Read on the group (needs --group)')
      .option('--idempotent', 'with --producer: IdempotentWrite on the cluster')
      .option('--force', 'accepted for kafka-acls compatibility; runnel never asks for confirmation');
    return aclResourceOptions(c, forAdd);
  };
  const aclResourceOptions = (c: Command, forAdd: boolean): Command =>
    c
      .option('--topic <name>', 'topic (repeatable; * for all)', collectList)
      .option('--group <id>', 'consumer group (repeatable; * for all)', collectList)
      .option('--transactional-id <id>', 'transactional id (repeatable; * for all)', collectList)
      .option('--cluster', 'the cluster resource')
      .option(
        '--resource-pattern-type <type>',
        forAdd ? 'literal (default) or prefixed' : 'literal (default), prefixed, any or match',
      );
  aclOptions(clientCommand(acl, 'add', 'create ACLs: each resource x principal x host x operation'), true).action(
    (opts) => run(async () => (await import('./acl.js')).aclAdd(opts)),
  );
  aclOptions(
    clientCommand(acl, 'remove', 'delete ACLs (without principals: every ACL of the resources)'),
    false,
  ).action((opts) => run(async () => (await import('./acl.js')).aclRemove(opts)));
  aclResourceOptions(clientCommand(acl, 'list', 'print ACLs (of the given resources; all without)'), false)
    .option('--principal <principal>', 'only ACLs of this principal (repeatable)', collectList)
    .action((opts) => run(async () => (await import('./acl.js')).aclList(opts)));

  // ---- cluster
  const cluster = program.command('cluster').description('cluster information');
  clientCommand(cluster, 'info', 'cluster id, controller, brokers, topic and partition counts')
    .option('--json', 'print JSON')
    .action((opts) => run(async () => (await import('./cluster.js')).clusterInfo(opts)));

  // ---- user
  const user = program.command('user').description('add, alter, list and delete SCRAM users (SASL/SCRAM credentials)');
  for (const [verb, what] of [
    ['add', 'give a user a SCRAM credential (refused if the user has one for that mechanism)'],
    ['alter', "change a user's SCRAM credential (password or iterations)"],
  ] as const) {
    clientCommand(user, `${verb} <name>`, what)
      .addOption(scramMechanismOption())
      .requiredOption('--password <password>', 'the password (salted and hashed here; never sent)')
      .option(
        '-i, --iterations <n>',
        'SCRAM iteration count (brokers accept 4096 to 16384; default 4096)',
        parseIntOption(1, 1_000_000),
      )
      .action((name: string, opts) =>
        run(async () => {
          const m = await import('./user.js');
          return verb === 'add' ? m.userAdd(name, opts) : m.userAlter(name, opts);
        }),
      );
  }
  clientCommand(user, 'list [names...]', 'list SCRAM users with their mechanisms and iteration counts')
    .option('--json', 'print JSON')
    .action((names: string[], opts) => run(async () => (await import('./user.js')).userList(names, opts)));
  clientCommand(user, 'delete <name>', "delete a user's SCRAM credential for one mechanism")
    .addOption(scramMechanismOption())
    .action((name: string, opts) => run(async () => (await import('./user.js')).userDelete(name, opts)));

  // ---- dev
  program
    .command('dev')
    .description('run a replicated cluster (etcd + N nodes) in the foreground for development; Ctrl-C stops it')
    .option('-n, --nodes <n>', 'number of nodes', parseIntOption(1, 100), 3)
    .option('-p, --port <base>', 'node i listens on BASE + i - 1 (default: free ports)', parseIntOption(1, 65535))
    .option('-d, --data-dir <dir>', 'keep the data here, reused by the next run (default: a temp dir, removed)')
    .option('-s, --set <name=value>', 'set a broker config on every node (repeatable)', collectKeyValue)
    .option('--session-timeout-ms <ms>', 'broker.session.timeout.ms of every node', parseIntOption(1000))
    .addOption(new Option('--log-level <level>', "the nodes' log level").choices(LOG_LEVELS).default('warn'))
    .option('-v, --verbose', "print the nodes' and etcd's output on stderr")
    .addHelpText(
      'after',
      `
Needs etcd: the \`etcd\` binary on PATH (Debian/Ubuntu: apt-get install etcd-server). Prints the bootstrap
servers and each node's address and pid on stdout, then runs until SIGINT/SIGTERM, when it stops the
nodes and etcd.

Example:
  runnel dev --nodes 3 --set min.insync.replicas=2`,
    )
    .action((opts) => run(async () => (await import('./dev.js')).dev(opts)));

  // Last, so that it follows each command's own notes.
  const addExitCodes = (c: Command): void => {
    c.addHelpText('after', EXIT_CODES_HELP);
    for (const sub of c.commands) addExitCodes(sub);
  };
  addExitCodes(program);
}
