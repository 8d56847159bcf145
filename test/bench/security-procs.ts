/**
 * Plumbing of the loadgen mode of `npm run bench:security` (security-loadgen.ts): finding (or building) the
 * librdkafka generator of ../shared/perf, running one `loadgen produce` with bench.sh's produce settings, and
 * a broker as users run it (`node dist/broker/bin.cjs start ...`, a real data directory) on listeners given
 * by the caller. Every wait is bounded; only processes started here are signalled, by their own ChildProcess,
 * and every broker still running when this process exits is killed (a watchdog exit included).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = join(HERE, '../../broker/bin.cjs');
/** The checkout: dist/test/bench -> the repository root. */
const ROOT = resolve(HERE, '../../..');

export const say = (s: string): boolean => process.stderr.write(`# ${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * bench.sh's producer settings (PCONF there, the workload definition) with its acks=1: every produce run of
 * this bench uses exactly these, as `produce-100` / `produce-1k` do.
 */
export const PCONF = [
  '-a',
  '1',
  '-X',
  'linger.ms=5',
  '-X',
  'batch.size=1048576',
  '-X',
  'batch.num.messages=1000000',
  '-X',
  'message.max.bytes=1100000',
  '-X',
  'queue.buffering.max.messages=1000000',
];

/** The shared perf directory: $PERF, $SHARED_DIR/perf, or ../shared/perf of the checkout or of its parent. */
export function perfDir(): string | undefined {
  const env = process.env;
  const candidates = [
    env.PERF,
    env.SHARED_DIR && join(env.SHARED_DIR, 'perf'),
    join(ROOT, '../shared/perf'),
    join(ROOT, '../../shared/perf'), // a worktree under <project>/wt/<name>
  ];
  return candidates.find((d): d is string => !!d && existsSync(join(d, 'build-loadgen.sh')));
}

/** $BIN/loadgen (BIN: /tmp/perf-bin) when built. */
export function builtLoadgen(): string | undefined {
  const bin = join(process.env.BIN ?? '/tmp/perf-bin', 'loadgen');
  return existsSync(bin) ? bin : undefined;
}

/** The loadgen binary, built with ../shared/perf/build-loadgen.sh into $BIN if it is not there yet. */
export function loadgenBinary(): string {
  const built = builtLoadgen();
  if (built) return built;
  const perf = perfDir();
  if (!perf) throw new Error('loadgen mode: no $BIN/loadgen and no ../shared/perf to build it (MODE=kafkajs?)');
  const bin = process.env.BIN ?? '/tmp/perf-bin';
  say(`building the generators: ${perf}/build-loadgen.sh ${bin}`);
  execFileSync('bash', [join(perf, 'build-loadgen.sh'), bin], { stdio: ['ignore', 2, 2], timeout: 300_000 });
  return join(bin, 'loadgen');
}

/** One generator run's figures: loadgen's `<metric> <value> <unit>` lines, by metric. */
export type Figures = Map<string, string>;

/**
 * `loadgen produce` of `count` messages of `size` bytes to `topic` (auto-created by the broker) with PCONF and
 * `extra` (-X ...); resolves with its figures, rejects when it fails, times out or delivers less than count
 * (unless !mustDeliver: then it resolves with whatever figures it printed).
 */
export function produce(
  bin: string,
  bootstrap: string,
  topic: string,
  count: number,
  size: number,
  extra: string[],
  timeoutS: number,
  mustDeliver = true,
): Promise<Figures> {
  const args = ['produce', '-b', bootstrap, '-t', topic, '-n', String(count), '-s', String(size)];
  args.push('-T', String(timeoutS), ...PCONF, ...extra);
  return runLoadgen(bin, args, timeoutS, (code, figures) => {
    const delivered = Number(figures.get('delivered'));
    return !mustDeliver || (code === 0 && delivered === count) ? undefined : `delivered ${delivered}`;
  });
}

/**
 * Runs `loadgen` with `args` (killed `timeoutS` + 30 s on) and resolves with its `<metric> <value>` figures;
 * rejects when it cannot start or when `failure` (given its exit code and figures) names a failure.
 */
export function runLoadgen(
  bin: string,
  args: string[],
  timeoutS: number,
  failure: (code: number | null, figures: Figures) => string | undefined,
): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    const kill = setTimeout(() => child.kill('SIGKILL'), (timeoutS + 30) * 1000);
    child.once('error', (e) => {
      clearTimeout(kill);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(kill);
      const figures: Figures = new Map();
      for (const line of out.split('\n')) {
        const f = line.trim().split(/\s+/);
        if (f.length >= 2) figures.set(f[0], f[1]);
      }
      const why = failure(code, figures);
      if (why !== undefined) {
        reject(new Error(`loadgen ${args.join(' ')}: exit ${code ?? signal}, ${why}\n${out}${err}`));
        return;
      }
      resolve(figures);
    });
  });
}

/**
 * utime + stime of a process in seconds (USER_HZ = 100); with `tid`, of that thread only (`tid` = `pid`: the
 * main thread, a Node process's event loop, which runs TLS decryption and every JS callback).
 */
export function cpuSeconds(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Whether something accepts TCP connections on 127.0.0.1:port (bounded by a 2 s connect timeout). */
function accepts(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      clearTimeout(t);
      s.destroy();
      r(ok);
    };
    const t = setTimeout(() => done(false), 2000);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * `runnel start` as a child process with `args` after `start`; BROKER_NODE_ARGS (e.g. --cpu-prof) go to node,
 * BROKER_OUT (a path prefix) keeps its whole output in a file.
 */
export class BrokerProcess {
  private out = '';
  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  output(): string {
    return this.out.slice(-3000);
  }

  /** Spawns the broker and waits (bounded by timeoutMs) until every one of `ports` accepts connections. */
  static async start(name: string, args: string[], ports: number[], timeoutMs = 60_000): Promise<BrokerProcess> {
    const nodeArgs = (process.env.BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, CLI, 'start', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: process.env.BROKER_CWD ?? process.cwd(),
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const b = new BrokerProcess(name, child);
    // BROKER_OUT=<prefix>: also every byte of the broker's output to <prefix>-<name>.log (e.g. with --trace-gc).
    const file = process.env.BROKER_OUT ? createWriteStream(`${process.env.BROKER_OUT}-${name}.log`) : undefined;
    const keep = (d: Buffer): void => {
      b.out = (b.out + d.toString()).slice(-20_000);
      file?.write(d);
    };
    child.once('exit', () => file?.end());
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const deadline = performance.now() + timeoutMs;
    for (const port of ports) {
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`broker ${name} exited (${child.exitCode ?? child.signalCode}): ${b.output()}`);
        }
        if (performance.now() > deadline) {
          await b.stop();
          throw new Error(`broker ${name}: port ${port} not accepting within ${timeoutMs} ms: ${b.output()}`);
        }
        if (await accepts(port)) break;
        await sleep(20);
      }
    }
    return b;
  }

  /** SIGTERM (clean shutdown, which also writes a --cpu-prof profile); SIGKILL after 30 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(t);
  }
}
