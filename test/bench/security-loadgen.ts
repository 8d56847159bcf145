/**
 * The loadgen mode of `npm run bench:security` (issue #14's security cost, a benchmark, not a test): the
 * issue's workloads from ../shared/perf, driven by its librdkafka generator (`loadgen produce`, bench.sh's
 * produce settings: acks=1, linger.ms=5, batch.size=1 MiB, ...; security-procs.ts) against brokers run as users
 * run them (`node dist/broker/bin.cjs start`, real data directories, num.partitions=4 as `npm run bench`):
 *   open   broker without authorizer: PLAINTEXT and SSL listeners (certificates made at run time,
 *          test/helpers/certs.ts; the generator verifies the broker's certificate against the CA)
 *   none   PLAINTEXT and SASL_PLAINTEXT listeners (SCRAM-SHA-256 user admin, super.users=User:admin), no
 *          authorizer
 *   acl    the same as none, plus the StandardAuthorizer and ACLS ACLs: User:ANONYMOUS (a non-super
 *          principal, on PLAINTEXT) may do ALL on topics prefixed `secbench-` by one PREFIXED ACL among
 *          ACLS - 1 others (literal and prefixed topic ACLs of other users, prefixes of many lengths, some
 *          under `secbench-u`, and group ACLs), created through a SASL_PLAINTEXT listener by the super user
 *   tls    ROUNDS rounds of produce-1k (TLS_COUNT x 1 KiB) to open's PLAINTEXT then SSL listener:
 *          MB/s medians, SSL / PLAINTEXT (issue target >= 0.6)
 *   acls   ROUNDS rounds of produce-100 (ACL_COUNT x 100 B) to none's PLAINTEXT then acl's PLAINTEXT:
 *          msgs/s medians, ACLs / none (target: within 10 %, >= 0.9)
 * Each run writes a fresh topic, created by the admin just before (AUTO_CREATE=1: by the generator's Metadata
 * request, as bench.sh does, which adds librdkafka's 1 s retry delay to every run) and deleted after the run;
 * one unmeasured warm-up run per broker and listener comes first. Per run it reports the generator's figure,
 * the broker's CPU seconds (/proc, 10 ms ticks; GC timing makes it vary by 2x between runs of one broker) and
 * the 1-minute load average; it prints a table and one JSON line (`security-json {...}`) on stdout. No goal
 * is asserted. A second table gives CPU seconds per GB produced (medians): the broker's, its main thread's (the
 * event loop: TLS decryption and all JS), the generator's, and (broker + generator) A / B, the throughput ratio
 * to expect where both compete for the 2 shared cores (the wall-clock ratio swings with the machine's load).
 * Env: ROUNDS (3), PARTS (tls,acls), AUTO_CREATE (0), TLS_COUNT (1000000), ACL_COUNT (1000000), ACLS (10000),
 * GEN_TIMEOUT (300 s per run), BIN (/tmp/perf-bin), PERF / SHARED_DIR (where the perf scripts are, to build
 * loadgen), BROKER_NODE_ARGS (node flags of the brokers, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`),
 * BROKER_OUT (security-procs.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '../../client/index.js';
import type { AclBinding } from '../../client/admin-acls.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';
import { freePorts } from '../helpers/start-line.js';
import { BrokerProcess, cpuSeconds, loadgenBinary, produce, say, type Figures } from './security-procs.js';
import { envInt, median } from './bench-env.js';

const env = process.env;
const ROUNDS = envInt('ROUNDS', 3, 20);
const TLS_COUNT = envInt('TLS_COUNT', 1_000_000, 50_000_000);
const ACL_COUNT = envInt('ACL_COUNT', 1_000_000, 50_000_000);
const ACLS = envInt('ACLS', 10_000, 1_000_000);
const GEN_TIMEOUT = envInt('GEN_TIMEOUT', 300, 3600);
const AUTO_CREATE = env.AUTO_CREATE === '1';
/** Which comparisons to run: PARTS=tls,acls (both by default), e.g. PARTS=tls to profile one. */
const PARTS = new Set((env.PARTS ?? 'tls,acls').split(','));
const ADMIN_PASSWORD = 'secbench-admin-secret';
const STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';

// Kafka's wire enums (client/admin-acls.ts).
const TOPIC = 2;
const GROUP = 3;
const LITERAL = 3;
const PREFIXED = 4;
const ALL = 2;
const READ = 3;
const WRITE = 4;
const DENY = 2;
const ALLOW = 3;

const load1 = (): number => Number(loadavg()[0].toFixed(2));
const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'NA');

/** The bench's ACLs: ANONYMOUS's one PREFIXED ALLOW ALL on `secbench-`, and `total - 1` of other users. */
export function benchAcls(total: number): AclBinding[] {
  const acl = (resourceType: number, name: string, patternType: number, principal: string, op: number, perm = ALLOW) =>
    ({
      resourceType,
      resourceName: name,
      patternType,
      principal,
      host: '*',
      operation: op,
      permissionType: perm,
    }) as AclBinding;
  const out = [acl(TOPIC, 'secbench-', PREFIXED, 'User:ANONYMOUS', ALL)];
  for (let i = 1; i < total; i++) {
    const user = `User:u${i}`;
    switch (i % 5) {
      case 0:
        out.push(acl(TOPIC, `orders-${i}`, LITERAL, user, WRITE));
        break;
      case 1:
        out.push(acl(TOPIC, `team${i}.`, PREFIXED, user, READ)); // prefixes of 6 to 10 characters
        break;
      case 2:
        out.push(acl(TOPIC, `secbench-u${i}-`, PREFIXED, user, WRITE, DENY)); // shares the bench's prefix start
        break;
      case 3:
        out.push(acl(GROUP, `group-${i}`, LITERAL, user, READ));
        break;
      default:
        out.push(acl(TOPIC, `secbench-${i}`, LITERAL, user, WRITE)); // a literal name under the bench's prefix
    }
  }
  return out;
}

interface Run {
  value: number;
  brokerCpuS: number;
  /** The broker's main thread (its event loop). */
  brokerMainCpuS: number;
  generatorCpuS: number;
  load1: number;
  /** GB (1e9 B) of record values produced. */
  gb: number;
}

interface Target {
  label: string;
  broker: BrokerProcess;
  bootstrap: string;
  admin: Admin;
  extra: string[];
}

let seq = 0;
/** One generator run to `t` on a fresh topic (deleted afterwards); `metric` of its figures. */
async function measure(t: Target, count: number, size: number, metric: string, bin: string): Promise<Run> {
  const topic = `secbench-${process.pid}-${++seq}-${t.label}`;
  // Created first (num.partitions, 4), unless AUTO_CREATE: librdkafka retries a topic the broker just
  // auto-created (LEADER_NOT_AVAILABLE, as Kafka answers) only after 1 s, a fixed delay in every run.
  if (!AUTO_CREATE) await t.admin.createTopic({ name: topic });
  const cpu0 = cpuSeconds(t.broker.pid);
  const main0 = cpuSeconds(t.broker.pid, t.broker.pid);
  let f: Figures;
  try {
    f = await produce(bin, t.bootstrap, topic, count, size, t.extra, GEN_TIMEOUT);
  } catch (err) {
    say(`broker ${t.broker.name} output: ${t.broker.output()}`);
    throw err;
  }
  const run = {
    value: Number(f.get(metric)),
    brokerCpuS: Number((cpuSeconds(t.broker.pid) - cpu0).toFixed(2)),
    brokerMainCpuS: Number((cpuSeconds(t.broker.pid, t.broker.pid) - main0).toFixed(2)),
    generatorCpuS: Number(f.get('cpu_s')),
    load1: load1(),
    gb: (count * size) / 1e9,
  };
  await t.admin.deleteTopics([topic]).catch((e: Error) => say(`delete ${topic}: ${e.message}`));
  say(
    `${t.label.padEnd(10)} ${count} x ${size} B: ${fmt(run.value)} ${metric}, elapsed ${f.get('elapsed_s')} s, ` +
      `broker cpu ${fmt(run.brokerCpuS)} s (main thread ${fmt(run.brokerMainCpuS)}), ` +
      `generator cpu ${fmt(run.generatorCpuS)} s, load1 ${run.load1}`,
  );
  return run;
}

/** ROUNDS rounds of a then b, after one unmeasured warm-up run of each. */
async function rounds(a: Target, b: Target, count: number, size: number, metric: string, bin: string) {
  const warm = Math.max(1, Math.min(count, 100_000));
  await measure(a, warm, size, metric, bin);
  await measure(b, warm, size, metric, bin);
  const as: Run[] = [];
  const bs: Run[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    say(`round ${r}/${ROUNDS}`);
    as.push(await measure(a, count, size, metric, bin));
    bs.push(await measure(b, count, size, metric, bin));
  }
  const ma = median(as.map((x) => x.value));
  const mb = median(bs.map((x) => x.value));
  return { a: as, b: bs, medianA: ma, medianB: mb, ratio: Number((mb / ma).toFixed(3)) };
}

function brokerArgs(dataDir: string, listeners: string, certs: TestCerts, extra: string[]): string[] {
  const sets = [
    `listeners=${listeners}`,
    'num.partitions=4',
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${certs.broker.keystore}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${certs.ca}`,
  ];
  return [
    '--node-id',
    '1',
    '--data-dir',
    dataDir,
    '--admin-port',
    '-1',
    ...sets.flatMap((s) => ['--set', s]),
    ...extra,
  ];
}

export async function runLoadgen(): Promise<void> {
  const bin = loadgenBinary();
  const load0 = loadavg().map((x) => Number(x.toFixed(2)));
  say(`security bench (loadgen ${bin}): node ${process.version}, ${cpus().length} CPUs, load average ${load0}`);
  const certs = makeTestCerts();
  const dirs = ['open', 'none', 'acl'].map((n) => mkdtempSync(join(tmpdir(), `secbench-${n}-`)));
  const [plainPort, sslPort, nonePort, noneSasl, aclPort, aclSasl] = await freePorts(6);
  const brokers: BrokerProcess[] = [];
  const admins: Admin[] = [];
  try {
    const openListeners = `PLAINTEXT://127.0.0.1:${plainPort},SSL://127.0.0.1:${sslPort}`;
    const open = await BrokerProcess.start('open', brokerArgs(dirs[0], openListeners, certs, []), [plainPort, sslPort]);
    brokers.push(open);
    // none and acl: the same listeners and settings; only acl has the authorizer (and the ACLs).
    const saslArgs = (dir: string, port: number, saslPort: number, authorizer: boolean): string[] => {
      const listeners = `PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort}`;
      const extra = ['--set', 'sasl.enabled.mechanisms=SCRAM-SHA-256', '--set', 'super.users=User:admin'];
      extra.push('--add-scram', `SCRAM-SHA-256=[name=admin,password=${ADMIN_PASSWORD}]`);
      if (authorizer) extra.push('--set', `authorizer.class.name=${STANDARD_AUTHORIZER}`);
      return brokerArgs(dir, listeners, certs, extra);
    };
    const none = await BrokerProcess.start('none', saslArgs(dirs[1], nonePort, noneSasl, false), [nonePort, noneSasl]);
    brokers.push(none);
    const acl = await BrokerProcess.start('acl', saslArgs(dirs[2], aclPort, aclSasl, true), [aclPort, aclSasl]);
    brokers.push(acl);
    const sasl = { mechanism: 'SCRAM-SHA-256' as const, username: 'admin', password: ADMIN_PASSWORD };
    const openAdmin = new Admin({ bootstrap: `127.0.0.1:${plainPort}` });
    const noneAdmin = new Admin({ bootstrap: `127.0.0.1:${noneSasl}`, sasl });
    const aclAdmin = new Admin({ bootstrap: `127.0.0.1:${aclSasl}`, sasl });
    admins.push(openAdmin, noneAdmin, aclAdmin);

    const bindings = benchAcls(ACLS);
    for (let i = 0; i < bindings.length; i += 1000) await aclAdmin.createAcls(bindings.slice(i, i + 1000));
    const any = { resourceType: 1, resourceName: null, patternType: 1, principal: null, host: null };
    const stored = (await aclAdmin.describeAcls({ ...any, operation: 1, permissionType: 1 })).length;
    if (stored !== ACLS) throw new Error(`the acl broker holds ${stored} ACLs, not ${ACLS}`);
    // The authorizer is really on: ANONYMOUS may not write outside `secbench-`.
    const probe = await produce(bin, `127.0.0.1:${aclPort}`, `denied-${process.pid}`, 10, 100, [], 30, false);
    if (probe.get('first_error') !== 'TOPIC_AUTHORIZATION_FAILED' || probe.get('delivered') !== '0') {
      throw new Error(`acl broker: a produce outside secbench- was not denied: ${[...probe].join(' ')}`);
    }
    say(`acl broker: ${stored} ACLs; ANONYMOUS allowed by the PREFIXED ACL on secbench-, denied elsewhere`);

    const caFile = certs.ca;
    readFileSync(caFile); // the generator reads it; fail early here if it is missing
    const target = (label: string, broker: BrokerProcess, port: number, admin: Admin, extra: string[] = []) => ({
      label,
      broker,
      bootstrap: `127.0.0.1:${port}`,
      admin,
      extra,
    });
    const plain = target('PLAINTEXT', open, plainPort, openAdmin);
    const ssl = target('SSL', open, sslPort, openAdmin, [
      '-X',
      'security.protocol=ssl',
      '-X',
      `ssl.ca.location=${caFile}`,
    ]);
    const noAcls = target('none', none, nonePort, noneAdmin);
    const withAcls = target('ACLs', acl, aclPort, aclAdmin);

    let tls: Result | undefined;
    let acls: Result | undefined;
    if (PARTS.has('tls')) {
      say(`tls: ${ROUNDS} rounds of produce-1k (${TLS_COUNT} x 1024 B), PLAINTEXT then SSL`);
      tls = await rounds(plain, ssl, TLS_COUNT, 1024, 'MB_per_s', bin);
    }
    if (PARTS.has('acls')) {
      say(`acls: ${ROUNDS} rounds of produce-100 (${ACL_COUNT} x 100 B), no authorizer then ${ACLS} ACLs`);
      acls = await rounds(noAcls, withAcls, ACL_COUNT, 100, 'msgs_per_s', bin);
    }
    report(tls, acls, load0);
  } finally {
    for (const a of admins) await a.close().catch(() => undefined);
    for (const b of brokers) await b.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    certs.remove();
  }
}

type Result = Awaited<ReturnType<typeof rounds>>;

function report(tls: Result | undefined, acls: Result | undefined, load0: number[]): void {
  const range = (xs: Run[], d: number): string =>
    `${fmt(Math.min(...xs.map((x) => x.value)), d)}..${fmt(Math.max(...xs.map((x) => x.value)), d)}`;
  const cpu = (xs: Run[]): number => median(xs.map((x) => x.brokerCpuS));
  const row = (name: string, r: Result, d: number, target: string): string[] => [
    name,
    fmt(r.medianA, d),
    fmt(r.medianB, d),
    fmt(r.ratio, 3),
    range(r.a, d),
    range(r.b, d),
    `${fmt(cpu(r.a))}/${fmt(cpu(r.b))}`,
    fmt(cpu(r.a) / cpu(r.b), 3),
    target,
  ];
  const rows = [
    ['figure', 'A median', 'B median', 'B/A', 'A min..max', 'B min..max', 'broker cpu s A/B', 'cpu A/B', 'target'],
  ];
  if (tls) rows.push(row('produce-1k MB/s PLAINTEXT|SSL', tls, 2, '>= 0.6'));
  if (acls) rows.push(row(`produce-100 msg/s none|${ACLS} ACLs`, acls, 0, '>= 0.9'));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i])).join('  ')}\n`);
  const perGb = (xs: Run[], k: 'brokerCpuS' | 'brokerMainCpuS' | 'generatorCpuS'): number =>
    median(xs.map((x) => x[k] / x.gb));
  const sides = (xs: Run[]) => ({
    broker: Number(fmt(perGb(xs, 'brokerCpuS'))),
    brokerMain: Number(fmt(perGb(xs, 'brokerMainCpuS'))),
    generator: Number(fmt(perGb(xs, 'generatorCpuS'))),
  });
  const shareRatio = (r: Result): number => {
    const [a, b] = [sides(r.a), sides(r.b)];
    return Number(((a.broker + a.generator) / (b.broker + b.generator)).toFixed(3));
  };
  const cpuRows = [['cpu s/GB, medians', 'broker A|B', 'broker main thread A|B', 'generator A|B', '(broker+gen) A/B']];
  const cpuRow = (name: string, r: Result): string[] => {
    const [a, b] = [sides(r.a), sides(r.b)];
    const pair = (k: keyof typeof a): string => `${fmt(a[k])}|${fmt(b[k])}`;
    return [name, pair('broker'), pair('brokerMain'), pair('generator'), fmt(shareRatio(r), 3)];
  };
  if (tls) cpuRows.push(cpuRow('produce-1k PLAINTEXT|SSL', tls));
  if (acls) cpuRows.push(cpuRow(`produce-100 none|${ACLS} ACLs`, acls));
  const cpuWidths = cpuRows[0].map((_, i) => Math.max(...cpuRows.map((r) => r[i].length)));
  for (const r of cpuRows) process.stdout.write(`${r.map((c, i) => c.padEnd(cpuWidths[i])).join('  ')}\n`);
  const load1End = load1();
  process.stdout.write(
    `load average: start ${load0.join(' ')}, end ${loadavg().map((x) => x.toFixed(2))} ` +
      `(${cpus().length} CPUs, shared: figures are noisy; cpu A/B = broker CPU per run, same work, A over B)\n`,
  );
  const out = {
    mode: 'loadgen',
    rounds: ROUNDS,
    tlsCount: TLS_COUNT,
    aclCount: ACL_COUNT,
    acls: ACLS,
    ...(tls && {
      plaintextMBps: tls.medianA,
      sslMBps: tls.medianB,
      tlsRatio: tls.ratio,
      tlsCpuRatio: Number((cpu(tls.a) / cpu(tls.b)).toFixed(3)),
      tlsCpuPerGb: { plaintext: sides(tls.a), ssl: sides(tls.b) },
      tlsCpuShareRatio: shareRatio(tls),
    }),
    ...(acls && {
      noAclsMps: Math.round(acls.medianA),
      withAclsMps: Math.round(acls.medianB),
      aclRatio: acls.ratio,
      aclCpuRatio: Number((cpu(acls.a) / cpu(acls.b)).toFixed(3)),
    }),
    load1Start: load0[0],
    load1End,
    runs: { plaintext: tls?.a, ssl: tls?.b, noAcls: acls?.a, withAcls: acls?.b },
  };
  process.stdout.write(`security-json ${JSON.stringify(out)}\n`);
}
