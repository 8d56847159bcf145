/**
 * Regenerates the golden request fixtures under test/fixtures/golden/<client>/ by running real Kafka clients
 * against the capture server. Run by hand, never by tests:
 *
 *   npx tsc -p tsconfig.json && node dist/test/helpers/capture-clients.js [client ...]
 *
 * Needs: the npm devDependencies kafkajs and @platformatic/kafka, and the Debian packages kcat,
 * python3-kafka and python3-confluent-kafka (/usr/bin/python3). Each client runs in a child process with a
 * recognisable client id (`golden-<client>`), fetches metadata for topic `golden`, produces 3 keyed records
 * with a header (values v0..v2) and, where it has an admin API, creates topic `golden-admin`. Every frame
 * it sends is saved as NN-<ApiName>-v<version>.bin (the bytes after the int32 size prefix, in arrival
 * order) and described in manifest.json. A client directory is rewritten only when its run succeeded.
 * Every wait is bounded; a child that overruns is killed by its pid.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { apiInfo } from '../../protocol/generated/apis.js';
import { CaptureServer, type CapturedFrame } from './capture-server.js';

/** Repository root (this file runs from dist/test/helpers/). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DRIVERS = join(ROOT, 'test/helpers/capture');
export const GOLDEN_DIR = join(ROOT, 'test/fixtures/golden');
const PYTHON = '/usr/bin/python3';
const RUN_TIMEOUT_MS = 40_000;
/**
 * Responses are held this long so that pipelined requests are visible as inFlight > 0 in the manifest
 * (kafka-python writes Metadata v0 about 100 ms after ApiVersions v0 without reading the answer first).
 */
const RESPONSE_DELAY_MS = 150;

interface Run {
  cmd: string;
  args: string[];
  stdin?: string;
}

interface ClientSpec {
  /** Directory name under test/fixtures/golden. */
  name: string;
  /** Library name and version as installed. */
  describe(): { library: string; version: string; notes?: string };
  runs(port: number): Run[];
}

function npmVersion(pkg: string): string {
  const p = join(ROOT, 'node_modules', pkg, 'package.json');
  return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
}

function commandOutput(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
}

export const CLIENTS: ClientSpec[] = [
  {
    name: 'kafkajs',
    describe: () => ({ library: 'kafkajs', version: npmVersion('kafkajs') }),
    runs: (port) => [{ cmd: process.execPath, args: [join(DRIVERS, 'kafkajs.mjs'), String(port)] }],
  },
  {
    name: 'platformatic',
    describe: () => ({ library: '@platformatic/kafka', version: npmVersion('@platformatic/kafka') }),
    runs: (port) => [{ cmd: process.execPath, args: [join(DRIVERS, 'platformatic.mjs'), String(port)] }],
  },
  {
    name: 'kcat',
    describe: () => {
      const out = commandOutput('kcat', ['-V']);
      const kcat = /^Version ([^\s]+)/m.exec(out)?.[1] ?? 'unknown';
      const lib = /librdkafka ([0-9][^\s]*)/.exec(out)?.[1] ?? 'unknown';
      return { library: 'kcat', version: kcat, notes: `librdkafka ${lib}; two runs: -L (metadata) then -P (produce)` };
    },
    runs: (port) => {
      const common = ['-b', `127.0.0.1:${port}`, '-X', 'client.id=golden-kcat', '-m', '10'];
      return [
        { cmd: 'kcat', args: [...common, '-L', '-t', 'golden'] },
        {
          cmd: 'kcat',
          args: [...common, '-P', '-t', 'golden', '-p', '0', '-K', ':', '-H', 'h=x', '-X', 'linger.ms=1000'],
          stdin: 'k0:v0\nk1:v1\nk2:v2\n',
        },
      ];
    },
  },
  {
    name: 'kafka-python',
    describe: () => ({
      library: 'kafka-python',
      version: commandOutput(PYTHON, ['-c', 'import kafka; print(kafka.__version__)']),
    }),
    runs: (port) => [{ cmd: PYTHON, args: [join(DRIVERS, 'drive_kafka_python.py'), String(port)] }],
  },
  {
    name: 'confluent-kafka',
    describe: () => {
      const out = commandOutput(PYTHON, [
        '-c',
        'import confluent_kafka as c; print(c.version()[0], c.libversion()[0])',
      ]).split(/\s+/);
      return {
        library: 'confluent-kafka (python)',
        version: out[0] ?? 'unknown',
        notes: `librdkafka ${out[1] ?? 'unknown'}`,
      };
    },
    runs: (port) => [{ cmd: PYTHON, args: [join(DRIVERS, 'drive_confluent_kafka.py'), String(port)] }],
  },
];

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Run one child process, killing it (by its own pid) if it overruns. */
function runChild(run: Run, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(run.cmd, run.args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {});
    child.stdin.end(run.stdin ?? '');
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      stderr += `spawn error: ${String(e)}\n`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout, stderr });
    });
  });
}

export interface ManifestEntry {
  file: string;
  /** Order of arrival across all connections of this client's runs. */
  seq: number;
  /** Which run (child process) sent it, 0-based. */
  run: number;
  /** Connection index on the capture server (accept order), and frame index on that connection. */
  conn: number;
  index: number;
  apiKey: number;
  apiName: string;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  size: number;
  answered: boolean;
  /** Requests on the same connection still unanswered when this one arrived (> 0 = pipelined). */
  inFlight: number;
  note?: string;
}

export interface Manifest {
  client: string;
  library: string;
  version: string;
  notes?: string;
  capturedAt: string;
  node: string;
  frames: ManifestEntry[];
}

function fileNameFor(n: number, f: CapturedFrame): string {
  const name = apiInfo(f.apiKey)?.name ?? `Api${f.apiKey}`;
  return `${String(n).padStart(2, '0')}-${name}-v${f.apiVersion}.bin`;
}

async function captureClient(spec: ClientSpec): Promise<boolean> {
  const server = await CaptureServer.start({ verbose: false, responseDelayMs: RESPONSE_DELAY_MS });
  const runOf: number[] = [];
  let ok = true;
  try {
    const runs = spec.runs(server.port);
    for (let i = 0; i < runs.length; i++) {
      const res = await runChild(runs[i], RUN_TIMEOUT_MS);
      // Let trailing frames (e.g. a request written just before exit) arrive.
      await server.settle(200, 2000);
      while (runOf.length < server.frames.length) runOf.push(i);
      if (res.code !== 0 || res.timedOut) {
        ok = false;
        process.stderr.write(
          `${spec.name} run ${i} failed: code=${res.code} signal=${res.signal} timedOut=${res.timedOut}\n` +
            `--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}\n--- server events\n${server.events.join('\n')}\n`,
        );
      }
    }
  } finally {
    await server.close();
  }
  const frames = server.frames;
  const summary = frames.map((f) => `${apiInfo(f.apiKey)?.name ?? f.apiKey} v${f.apiVersion}`).join(', ');
  process.stdout.write(`${spec.name}: ${ok ? 'ok' : 'FAILED'}, ${frames.length} frames: ${summary}\n`);
  if (!ok) return false;

  const dir = join(GOLDEN_DIR, spec.name);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith('.bin') || f === 'manifest.json') rmSync(join(dir, f));
  const desc = spec.describe();
  const manifest: Manifest = {
    client: spec.name,
    library: desc.library,
    version: desc.version,
    ...(desc.notes !== undefined ? { notes: desc.notes } : {}),
    capturedAt: new Date().toISOString(),
    node: process.version,
    frames: frames.map((f, n) => {
      const file = fileNameFor(n, f);
      writeFileSync(join(dir, file), f.frame);
      return {
        file,
        seq: f.seq,
        run: runOf[n] ?? 0,
        conn: f.conn,
        index: f.index,
        apiKey: f.apiKey,
        apiName: apiInfo(f.apiKey)?.name ?? `Api${f.apiKey}`,
        apiVersion: f.apiVersion,
        correlationId: f.correlationId,
        clientId: f.clientId,
        size: f.frame.length,
        answered: f.answered,
        inFlight: f.inFlight,
        ...(f.note !== undefined ? { note: f.note } : {}),
      };
    }),
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return true;
}

export interface GoldenFixture {
  client: string;
  manifest: Manifest;
  entry: ManifestEntry;
  /** Frame bytes after the int32 size prefix. */
  frame: Buffer;
}

/** Load every committed fixture (manifest order within a client, clients sorted by name). */
export function loadGoldenFixtures(dir = GOLDEN_DIR): { manifests: Manifest[]; fixtures: GoldenFixture[] } {
  const manifests: Manifest[] = [];
  const fixtures: GoldenFixture[] = [];
  for (const client of readdirSync(dir).sort()) {
    if (!existsSync(join(dir, client, 'manifest.json'))) continue; // README.md and the like
    const manifest = JSON.parse(readFileSync(join(dir, client, 'manifest.json'), 'utf8')) as Manifest;
    manifests.push(manifest);
    for (const entry of manifest.frames) {
      fixtures.push({ client, manifest, entry, frame: readFileSync(join(dir, client, entry.file)) });
    }
  }
  return { manifests, fixtures };
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !CLIENTS.some((c) => c.name === w));
  if (unknown.length > 0) {
    process.stderr.write(`unknown client(s): ${unknown.join(', ')}; known: ${CLIENTS.map((c) => c.name).join(', ')}\n`);
    process.exit(2);
  }
  let failed = 0;
  for (const spec of CLIENTS) {
    if (wanted.length > 0 && !wanted.includes(spec.name)) continue;
    if (!(await captureClient(spec))) failed++;
  }
  process.exit(failed > 0 ? 1 : 0);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
