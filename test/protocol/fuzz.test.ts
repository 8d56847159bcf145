/**
 * Bounded, seeded fuzz test of the request decoders, seeded with the golden fixtures (real client frames).
 *
 * Each iteration mutates one fixture (bit flips, interesting byte values, truncation, extension, length
 * fields found by tracing the decoder set to -1/-2/huge, over-long or overflowing varints, header key and
 * version changes, splices of two fixtures) and decodes header and body. The only allowed outcomes are
 * success or a thrown DecodeError / UnsupportedVersionError; anything else (RangeError, TypeError, ...)
 * fails the test with the seed, the iteration and the mutated bytes in hex. Some iterations also decode the
 * mutated body with another API/version (requests and responses) to reach more generated code.
 * A second phase mutates encoded sample values of every generated message at every version (the
 * test/helpers/samples generators), so decoders no golden client exercises are fuzzed too.
 *
 * The loop runs in a worker thread so that a hang is caught too: the worker publishes the iteration it is
 * on, and the watchdog reproduces that iteration's input from the seed if it stalls.
 *
 * Environment: FUZZ_SEED (default 0x5eed2024), FUZZ_ITERATIONS (golden phase, default 200000),
 * FUZZ_SAMPLE_ITERATIONS (sample phase, default 100000), FUZZ_TIME_MS (whole loop, default 16000; about
 * 4 s are needed on an idle 2-core machine). The golden phase must reach 100000 iterations within it. A
 * reported failure names seed, phase and iteration; that input depends only on those (see `mutateFor`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { parseRequestHeader } from '../../protocol/frame.js';
import { APIS, apiInfo, MESSAGE_MODULES, requestHeaderVersion } from '../../protocol/generated/apis.js';
import { decodeRequestHeader } from '../../protocol/generated/request-header.js';
import { DecodeError, UnsupportedVersionError } from '../../protocol/errors.js';
import { Reader } from '../../protocol/wire/reader.js';
import { Writer } from '../../protocol/wire/writer.js';
import { loadGoldenFixtures } from '../helpers/capture-clients.js';
import { SampleGen } from '../helpers/sample-gen.js';

type Decode = (r: Reader, v: number) => unknown;
type Encode = (w: Writer, v: number, o: unknown) => void;
type Phase = 'golden' | 'samples';

const DEFAULT_SEED = 0x5eed2024;
const MIN_ITERATIONS = 100_000;
/** Sample-phase iterations always run, whatever the time bound (a loaded machine only makes them slower). */
const MIN_SAMPLE_ITERATIONS = 10_000;

// ---------------------------------------------------------------------------------------------------------
// Deterministic randomness: every iteration has its own generator derived from (seed, iteration).

function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number, iteration: number, phase: Phase) {
    this.next = mulberry32((seed ^ Math.imul(iteration + 1, 0x9e3779b9) ^ (phase === 'samples' ? 0x5a5a5a5a : 0)) | 0);
    this.next();
  }
  float(): number {
    return this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
}

// ---------------------------------------------------------------------------------------------------------
// Codec access.

function pascal(kebabName: string): string {
  return kebabName.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
}

interface ModuleInfo {
  name: string;
  decode: Decode;
  encode: Encode;
  min: number;
  max: number;
}

async function loadModules(): Promise<Map<string, ModuleInfo>> {
  const out = new Map<string, ModuleInfo>();
  for (const m of MESSAGE_MODULES) {
    const mod = (await import(`../../protocol/generated/${m}.js`)) as Record<string, unknown>;
    const name = pascal(m);
    const range = mod[`${name}Versions`] as { min: number; max: number } | undefined;
    const decode = mod[`decode${name}`] as Decode | undefined;
    const encode = mod[`encode${name}`] as Encode | undefined;
    if (range && decode && encode) out.set(m, { name, decode, encode, min: range.min, max: range.max });
  }
  return out;
}

/** Decode one request frame the way the broker will: header, then the body through apis.ts. */
function decodeFrame(frame: Buffer, modules: Map<string, ModuleInfo>): string {
  const { header, body, known } = parseRequestHeader(frame);
  if (!known) return 'unknown-api';
  const info = apiInfo(header.requestApiKey);
  const mod = info && modules.get(info.requestModule);
  if (!mod) throw new Error(`no module for api ${header.requestApiKey}`);
  mod.decode(body, header.requestApiVersion);
  return 'ok';
}

function isTyped(e: unknown): boolean {
  return e instanceof DecodeError || e instanceof UnsupportedVersionError;
}

// ---------------------------------------------------------------------------------------------------------
// Fixture analysis: where the length fields are, found by tracing the decoder over each fixture.

type FieldKind = 'int16len' | 'int32len' | 'varint';
interface LengthField {
  offset: number;
  kind: FieldKind;
  /** Encoded size in bytes (2, 4, or the varint's length). */
  size: number;
}

class TracingReader extends Reader {
  readonly fields: LengthField[] = [];
  private note(offset: number, kind: FieldKind, size: number): void {
    this.fields.push({ offset, kind, size });
  }
  override readString(): string | null {
    this.note(this.pos, 'int16len', 2);
    return super.readString();
  }
  override readBytes(): Buffer | null {
    this.note(this.pos, 'int32len', 4);
    return super.readBytes();
  }
  override readArrayLength(): number {
    this.note(this.pos, 'int32len', 4);
    return super.readArrayLength();
  }
  override readUVarint(): number {
    const start = this.pos;
    const v = super.readUVarint();
    this.note(start, 'varint', this.pos - start);
    return v;
  }
}

interface Seed {
  name: string;
  /** A whole request frame (golden), or a bare message body when `module` is set (samples). */
  frame: Buffer;
  module?: string;
  headerLength: number;
  key: number;
  version: number;
  fields: LengthField[];
}

function analyse(name: string, frame: Buffer, modules: Map<string, ModuleInfo>): Seed {
  const key = frame.readInt16BE(0);
  const version = frame.readInt16BE(2);
  const r = new TracingReader(frame);
  decodeRequestHeader(r, requestHeaderVersion(key, version));
  const headerLength = r.pos;
  const info = apiInfo(key);
  const mod = info && modules.get(info.requestModule);
  if (!mod) throw new Error(`${name}: no module for api ${key}`);
  mod.decode(r, version);
  const seen = new Set<number>();
  const fields = r.fields.filter((f) => {
    if (seen.has(f.offset)) return false;
    seen.add(f.offset);
    return true;
  });
  return { name, frame, headerLength, key, version, fields };
}

/** A bare body: one encoded sample of `module` at `version`, with its length fields traced. */
function analyseBody(module: string, version: number, body: Buffer, modules: Map<string, ModuleInfo>): Seed {
  const r = new TracingReader(body);
  modules.get(module)!.decode(r, version);
  if (r.pos !== body.length) throw new Error(`${module} v${version}: sample decodes to ${r.pos} of ${body.length}`);
  const seen = new Set<number>();
  const fields = r.fields.filter((f) => {
    if (seen.has(f.offset)) return false;
    seen.add(f.offset);
    return true;
  });
  return { name: `sample ${module} v${version}`, frame: body, module, headerLength: 0, key: -1, version, fields };
}

/** Decode a seed-shaped input: a frame through the header, or a body with its module. */
function decodeSeedInput(seed: Seed, bytes: Buffer, modules: Map<string, ModuleInfo>): string {
  if (seed.module === undefined) return decodeFrame(bytes, modules);
  modules.get(seed.module)!.decode(new Reader(bytes), seed.version);
  return 'ok';
}

// ---------------------------------------------------------------------------------------------------------
// Mutations.

const INTERESTING_BYTES = [0x00, 0x01, 0x7e, 0x7f, 0x80, 0x81, 0xfe, 0xff];
const INT16_LENGTHS = [-1, -2, -32768, 0x7fff, 0x7ffe, 0, 1];
const INT32_LENGTHS = [-1, -2, -0x80000000, 0x7fffffff, 0x7ffffffe, 0x10000000, 0xffff, 0, 1];
const VARINTS: Buffer[] = [
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), // 2^32 - 1
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07]), // 2^31 - 1
  Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08]), // 2^31
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]), // overflows 32 bits
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // 6 bytes
  Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), // over-long zero
  Buffer.from([0x80, 0x80, 0x80, 0x80, 0x00]), // over-long zero, 5 bytes
  Buffer.from([0x81, 0x00]), // over-long 1
  Buffer.from([0x80]), // unterminated
  Buffer.from([0x00]), // null / -1
  Buffer.from([0xff, 0x7f]), // 16383
];

function splice(buf: Buffer, at: number, remove: number, insert: Buffer): Buffer {
  return Buffer.concat([buf.subarray(0, at), insert, buf.subarray(Math.min(buf.length, at + remove))]);
}

function writeIntAt(buf: Buffer, at: number, width: 2 | 4, v: number): void {
  if (at + width > buf.length) return;
  if (width === 2) buf.writeInt16BE(v, at);
  else buf.writeInt32BE(v | 0, at);
}

/** Apply one random mutation; may return a new buffer. */
function mutateOnce(rng: Rng, buf: Buffer, seed: Seed, seeds: readonly Seed[]): Buffer {
  const len = buf.length;
  switch (rng.int(12)) {
    case 0: {
      // bit flips
      const n = 1 + rng.int(4);
      for (let i = 0; i < n && len > 0; i++) buf[rng.int(len)] ^= 1 << rng.int(8);
      return buf;
    }
    case 1: {
      // interesting byte values
      const n = 1 + rng.int(3);
      for (let i = 0; i < n && len > 0; i++) buf[rng.int(len)] = rng.pick(INTERESTING_BYTES);
      return buf;
    }
    case 2:
      // random byte overwrite
      if (len > 0) buf[rng.int(len)] = rng.int(256);
      return buf;
    case 3:
      // truncation
      return buf.subarray(0, rng.int(len + 1));
    case 4: {
      // extension with random or interesting bytes
      const extra = Buffer.alloc(1 + rng.int(24));
      for (let i = 0; i < extra.length; i++) extra[i] = rng.float() < 0.5 ? rng.pick(INTERESTING_BYTES) : rng.int(256);
      return Buffer.concat([buf, extra]);
    }
    case 5:
    case 6: {
      // a traced length field set to a hostile value
      if (seed.fields.length === 0) return buf;
      const f = rng.pick(seed.fields);
      if (f.offset >= len) return buf;
      if (f.kind === 'int16len') writeIntAt(buf, f.offset, 2, rng.pick(INT16_LENGTHS));
      else if (f.kind === 'int32len') writeIntAt(buf, f.offset, 4, rng.pick(INT32_LENGTHS));
      else return splice(buf, f.offset, f.size, rng.pick(VARINTS));
      return buf;
    }
    case 7: {
      // an int16 or int32 at a random offset set to a hostile length
      if (rng.float() < 0.5) writeIntAt(buf, rng.int(Math.max(1, len - 1)), 2, rng.pick(INT16_LENGTHS));
      else writeIntAt(buf, rng.int(Math.max(1, len - 3)), 4, rng.pick(INT32_LENGTHS));
      return buf;
    }
    case 8:
      // an over-long / overflowing varint inserted or overwritten at a random offset
      return splice(buf, rng.int(len + 1), rng.int(3), rng.pick(VARINTS));
    case 9: {
      // header: api key and/or version (bodies: flip a byte instead)
      if (seed.module !== undefined) {
        if (len > 0) buf[rng.int(len)] ^= 0x80;
        return buf;
      }
      if (len < 4) return buf;
      if (rng.float() < 0.5)
        buf.writeInt16BE(rng.pick([-1, 4, 5, 6, 7, 93, 999, 0x7fff, -32768, rng.pick(APIS).key]), 0);
      if (rng.float() < 0.7)
        buf.writeInt16BE(rng.pick([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 18, 0x7fff, -32768]), 2);
      return buf;
    }
    case 10: {
      // splice: prefix of this frame + suffix of another
      const other = rng.pick(seeds).frame;
      return Buffer.concat([buf.subarray(0, rng.int(len + 1)), other.subarray(rng.int(other.length + 1))]);
    }
    default: {
      // delete or duplicate a short run of bytes
      const at = rng.int(len + 1);
      const n = 1 + rng.int(8);
      return rng.float() < 0.5
        ? splice(buf, at, n, Buffer.alloc(0))
        : splice(buf, at, 0, Buffer.from(buf.subarray(at, at + n)));
    }
  }
}

interface Mutation {
  seed: Seed;
  bytes: Buffer;
  /** Also decode bytes[cross.offset..] with this module/version. */
  cross?: { module: string; version: number; offset: number };
}

/** The input of iteration `i` depends only on (seed, i): a failure is reproducible from those two numbers. */
function mutateFor(
  seedValue: number,
  phase: Phase,
  i: number,
  seeds: readonly Seed[],
  crossModules: readonly string[],
  modules: Map<string, ModuleInfo>,
): Mutation {
  const rng = new Rng(seedValue, i, phase);
  const seed = rng.pick(seeds);
  let bytes: Buffer = Buffer.from(seed.frame);
  const n = 1 + rng.int(3);
  for (let k = 0; k < n; k++) bytes = mutateOnce(rng, bytes, seed, seeds);
  let cross: Mutation['cross'];
  if (rng.float() < 0.25) {
    const module = rng.pick(crossModules);
    const m = modules.get(module)!;
    // Mostly in range; sometimes just outside it (must be UnsupportedVersionError).
    const version = rng.float() < 0.95 ? m.min + rng.int(m.max - m.min + 1) : rng.pick([m.min - 1, m.max + 1, 0x7fff]);
    cross = { module, version, offset: Math.min(seed.headerLength, bytes.length) };
  }
  return { seed, bytes: Buffer.from(bytes), cross };
}

// ---------------------------------------------------------------------------------------------------------
// Worker: runs the loop.

interface WorkerInput {
  seed: number;
  iterations: number;
  sampleIterations: number;
  timeMs: number;
  progress: SharedArrayBuffer;
}

interface Failure {
  phase: Phase;
  iteration: number;
  fixture: string;
  what: string;
  hex: string;
  error: string;
  stack: string;
}

interface WorkerResult {
  iterations: number;
  sampleIterations: number;
  elapsedMs: number;
  outcomes: Record<string, number>;
  failures: Failure[];
  failureCount: number;
}

interface Corpus {
  modules: Map<string, ModuleInfo>;
  seeds: Seed[];
  samples: Seed[];
  crossModules: string[];
}

async function prepare(): Promise<Corpus> {
  const modules = await loadModules();
  const { fixtures } = loadGoldenFixtures();
  const seeds = fixtures.map((f) => analyse(`${f.client}/${f.entry.file}`, f.frame, modules));
  const crossModules = [...modules.keys()].filter((m) => m.endsWith('-request') || m.endsWith('-response'));
  const samples: Seed[] = [];
  for (const [module, m] of modules) {
    const gen = (await import(`../helpers/samples/${module}.js`)) as Record<string, unknown>;
    const sample = gen[`sample${m.name}`] as ((v: number, g: SampleGen) => unknown) | undefined;
    if (!sample) continue;
    for (let v = m.min; v <= m.max; v++) {
      for (const s of [1, 2]) {
        const w = new Writer();
        m.encode(w, v, sample(v, new SampleGen(s * 104729 + v)));
        samples.push(analyseBody(module, v, Buffer.from(w.toBuffer()), modules));
      }
    }
  }
  return { modules, seeds, samples, crossModules };
}

function classify(e: unknown): string {
  return e instanceof DecodeError
    ? 'DecodeError'
    : e instanceof UnsupportedVersionError
      ? 'UnsupportedVersionError'
      : 'OTHER';
}

async function workerMain(input: WorkerInput): Promise<void> {
  const { modules, seeds, samples, crossModules } = await prepare();
  const progress = new Int32Array(input.progress);
  const outcomes: Record<string, number> = {};
  const failures: Failure[] = [];
  const signatures = new Set<string>();
  let failureCount = 0;
  const count = (k: string): void => {
    outcomes[k] = (outcomes[k] ?? 0) + 1;
  };
  const fail = (phase: Phase, i: number, m: Mutation, what: string, bytes: Buffer, e: unknown): void => {
    failureCount++;
    const err = e instanceof Error ? e : new Error(String(e));
    const stack = err.stack ?? String(err);
    const sig = `${err.name}|${stack.split('\n').slice(1, 3).join('|')}`;
    if (signatures.has(sig) || failures.length >= 25) return;
    signatures.add(sig);
    failures.push({
      phase,
      iteration: i,
      fixture: m.seed.name,
      what,
      hex: bytes.toString('hex'),
      error: `${err.name}: ${err.message}`,
      stack,
    });
  };
  const started = Date.now();
  const done: Record<Phase, number> = { golden: 0, samples: 0 };
  for (const [phase, corpus, n] of [
    ['golden', seeds, input.iterations],
    ['samples', samples, input.sampleIterations],
  ] as const) {
    // Each phase runs its minimum whatever the time bound; the bound only cuts the iterations beyond it.
    const floor = Math.min(phase === 'golden' ? MIN_ITERATIONS : MIN_SAMPLE_ITERATIONS, n);
    let i = 0;
    for (; i < n; i++) {
      // progress[0] = phase (0 golden, 1 samples), progress[1] = iteration: read by the hang watchdog.
      Atomics.store(progress, 0, phase === 'golden' ? 0 : 1);
      Atomics.store(progress, 1, i);
      if ((i & 1023) === 0 && i >= floor && Date.now() - started > input.timeMs) break;
      const m = mutateFor(input.seed, phase, i, corpus, crossModules, modules);
      try {
        count(`${phase}-${decodeSeedInput(m.seed, m.bytes, modules)}`);
      } catch (e) {
        const c = classify(e);
        count(`${phase}-${c}`);
        if (c === 'OTHER')
          fail(
            phase,
            i,
            m,
            m.seed.module ? `body as ${m.seed.module} v${m.seed.version}` : 'request frame (header + body)',
            m.bytes,
            e,
          );
      }
      if (m.cross) {
        const { module, version, offset } = m.cross;
        const body = m.bytes.subarray(offset);
        try {
          modules.get(module)!.decode(new Reader(body), version);
          count('cross-ok');
        } catch (e) {
          const c = classify(e);
          count(`cross-${c}`);
          if (c === 'OTHER') fail(phase, i, m, `body decoded as ${module} v${version}`, body, e);
        }
      }
    }
    done[phase] = i;
  }
  const result: WorkerResult = {
    iterations: done.golden,
    sampleIterations: done.samples,
    elapsedMs: Date.now() - started,
    outcomes,
    failures,
    failureCount,
  };
  parentPort!.postMessage(result);
}

if (!isMainThread && (workerData as { fuzz?: WorkerInput } | null)?.fuzz) {
  await workerMain((workerData as { fuzz: WorkerInput }).fuzz);
}

// ---------------------------------------------------------------------------------------------------------
// Tests (main thread).

function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  return Number.isFinite(n) ? n : dflt;
}

function formatFailures(seed: number, fs: Failure[]): string {
  return fs
    .map(
      (f) =>
        `seed ${seed} phase ${f.phase} iteration ${f.iteration} (from ${f.fixture}), ${f.what}:\n  ${f.error}\n` +
        `  bytes ${f.hex}\n  ${f.stack.split('\n').slice(1, 6).join('\n  ')}`,
    )
    .join('\n\n');
}

/** Run `f` and report its outcome: 'ok', or the typed error class; other exceptions propagate. */
function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (isTyped(e)) return classify(e);
    throw e;
  }
}

if (isMainThread) {
  const ready = prepare();

  const seed = envInt('FUZZ_SEED', DEFAULT_SEED) | 0;
  const iterations = envInt('FUZZ_ITERATIONS', 200_000);
  const sampleIterations = envInt('FUZZ_SAMPLE_ITERATIONS', 100_000);
  const timeMs = envInt('FUZZ_TIME_MS', 16_000);

  test('fuzz: seeded mutations of the golden fixtures only ever decode or throw DecodeError/UnsupportedVersionError', {
    timeout: timeMs + 60_000,
  }, async () => {
    const progress = new SharedArrayBuffer(8);
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { fuzz: { seed, iterations, sampleIterations, timeMs, progress } satisfies WorkerInput },
    });
    const prog = new Int32Array(progress);
    const result = await new Promise<WorkerResult>((resolve, reject) => {
      let last = '';
      let stalledSince = Date.now();
      const watchdog = setInterval(() => {
        const now = `${Atomics.load(prog, 0) === 0 ? 'golden' : 'samples'} iteration ${Atomics.load(prog, 1)}`;
        if (now !== last) {
          last = now;
          stalledSince = Date.now();
          return;
        }
        if (Date.now() - stalledSince > 10_000) {
          clearInterval(watchdog);
          void worker.terminate();
          reject(new Error(`fuzz worker stalled (hang?) at seed ${seed} phase ${now}`));
        }
      }, 500);
      worker.once('message', (m: WorkerResult) => {
        clearInterval(watchdog);
        resolve(m);
      });
      worker.once('error', (e) => {
        clearInterval(watchdog);
        reject(e);
      });
      worker.once('exit', (code) => {
        clearInterval(watchdog);
        reject(new Error(`fuzz worker exited with code ${code} before reporting`));
      });
    }).catch(async (e: unknown) => {
      // Reproduce the stalled iteration's input so the report carries the bytes.
      const msg = e instanceof Error ? e.message : String(e);
      const m = /phase (golden|samples) iteration (\d+)/.exec(msg);
      if (m) {
        const { modules, seeds, samples, crossModules } = await ready;
        const phase = m[1] as Phase;
        const mut = mutateFor(seed, phase, Number(m[2]), phase === 'golden' ? seeds : samples, crossModules, modules);
        const cross = mut.cross ? `\n  cross ${mut.cross.module} v${mut.cross.version} at ${mut.cross.offset}` : '';
        throw new Error(`${msg}\n  from ${mut.seed.name}\n  bytes ${mut.bytes.toString('hex')}${cross}`);
      }
      throw e;
    });
    await worker.terminate();
    const summary =
      `seed ${seed}: ${result.iterations} golden + ${result.sampleIterations} sample iterations in ` +
      `${result.elapsedMs} ms, ${result.failureCount} untyped exceptions: ${JSON.stringify(result.outcomes)}`;
    process.stdout.write(`# ${summary}\n`);
    assert.equal(
      result.failureCount,
      0,
      `${result.failureCount} untyped exceptions (${result.failures.length} distinct):\n` +
        formatFailures(seed, result.failures),
    );
    assert.ok(
      result.iterations >= Math.min(MIN_ITERATIONS, iterations),
      `only ${result.iterations} iterations within ${timeMs} ms (${summary})`,
    );
    assert.ok(
      result.sampleIterations >= Math.min(MIN_SAMPLE_ITERATIONS, sampleIterations),
      `only ${result.sampleIterations} sample iterations (${summary})`,
    );
    // The mutations must reach both outcomes, or the fuzzer is not exercising the decoders.
    for (const p of ['golden', 'samples']) {
      assert.ok((result.outcomes[`${p}-ok`] ?? 0) > 100, summary);
      assert.ok((result.outcomes[`${p}-DecodeError`] ?? 0) > 1000, summary);
    }
  });

  test('fuzz: every strict prefix of every fixture throws DecodeError; trailing bytes are left unread', async () => {
    const { modules, seeds } = await ready;
    for (const s of seeds) {
      for (let n = 0; n < s.frame.length; n++) {
        assert.equal(
          outcome(() => decodeFrame(s.frame.subarray(0, n), modules)),
          'DecodeError',
          `${s.name} cut to ${n} bytes`,
        );
      }
      const longer = Buffer.concat([s.frame, Buffer.from([0xff, 0x00, 0x7f, 0x80])]);
      const { body } = parseRequestHeader(longer);
      modules.get(apiInfo(s.key)!.requestModule)!.decode(body, s.version);
      assert.equal(body.pos, s.frame.length, `${s.name}: decoder stops at the end of the message`);
    }
  });

  test('fuzz: every traced length field set to -2, and to huge values, throws DecodeError', async () => {
    const { modules, seeds } = await ready;
    let cases = 0;
    for (const s of seeds) {
      assert.ok(s.fields.length > 0, `${s.name}: length fields traced`);
      for (const f of s.fields) {
        const values: Buffer[] =
          f.kind === 'int16len'
            ? [-2, -32768, 0x7fff].map((v) => Buffer.from([(v >> 8) & 0xff, v & 0xff]))
            : f.kind === 'int32len'
              ? [-2, -0x80000000, 0x7fffffff].map((v) => {
                  const b = Buffer.alloc(4);
                  b.writeInt32BE(v);
                  return b;
                })
              : [Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07])];
        for (const v of values) {
          const bytes = splice(s.frame, f.offset, f.size, v);
          const where = `${s.name}: ${f.kind} at ${f.offset} := ${v.toString('hex')}`;
          // Offsets 0-3 are api key/version (never traced); correlation id is not a length.
          const r = outcome(() => decodeFrame(bytes, modules));
          assert.equal(r, 'DecodeError', where);
          cases++;
        }
      }
    }
    assert.ok(cases > 100, `${cases} cases`);
  });

  test('fuzz: over-long and overflowing varints throw DecodeError', async () => {
    const { modules, seeds } = await ready;
    const flexible = seeds.filter((s) => s.fields.some((f) => f.kind === 'varint'));
    assert.ok(flexible.length > 0, 'some fixtures are flexible versions');
    for (const s of flexible) {
      for (const f of s.fields.filter((x) => x.kind === 'varint')) {
        for (const v of [
          Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]), // > 32 bits
          Buffer.from([0xff, 0xff, 0xff, 0xff, 0x10]), // 2^32 + ...
          Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), // 6 bytes
          Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // 10 bytes
          Buffer.from([0x80, 0x80, 0x80]), // unterminated at end of input
        ]) {
          const bytes =
            v.length === 3 ? Buffer.concat([s.frame.subarray(0, f.offset), v]) : splice(s.frame, f.offset, f.size, v);
          assert.equal(
            outcome(() => decodeFrame(bytes, modules)),
            'DecodeError',
            `${s.name}: varint at ${f.offset} := ${v.toString('hex')}`,
          );
        }
      }
    }
    // Direct reader checks.
    for (const v of ['ffffffff7f', '8080808080', '808080808000', '80']) {
      assert.throws(() => new Reader(Buffer.from(v, 'hex')).readUVarint(), DecodeError, v);
    }
    assert.equal(new Reader(Buffer.from('ffffffff0f', 'hex')).readUVarint(), 0xffffffff);
  });

  test('fuzz: unknown api keys and versions are reported, not decoded', async () => {
    const { modules, seeds } = await ready;
    const base = seeds[0].frame;
    for (const key of [-1, -32768, 4, 5, 6, 7, 93, 999, 0x7fff]) {
      const b = Buffer.from(base);
      b.writeInt16BE(key, 0);
      const { known, header } = parseRequestHeader(b);
      assert.equal(known, false, `api key ${key}`);
      assert.equal(header.correlationId, base.readInt32BE(4), 'correlation id still read');
      assert.equal(decodeFrame(b, modules), 'unknown-api');
    }
    for (const a of APIS) {
      const mod = modules.get(a.requestModule)!;
      for (const v of [-1, a.minVersion - 1, a.maxVersion + 1, 0x7fff, -32768]) {
        if (v >= a.minVersion && v <= a.maxVersion) continue;
        const b = Buffer.from(base);
        b.writeInt16BE(a.key, 0);
        b.writeInt16BE(v, 2);
        assert.equal(parseRequestHeader(b).known, false, `${a.name} v${v}`);
        assert.throws(() => mod.decode(new Reader(Buffer.alloc(64)), v), UnsupportedVersionError, `${a.name} v${v}`);
      }
    }
  });

  test('fuzz: hostile lengths with few bytes fail fast without allocating', async () => {
    const { modules } = await ready;
    const header = (key: number, version: number): Buffer => {
      const b = Buffer.alloc(requestHeaderVersion(key, version) === 2 ? 11 : 10);
      b.writeInt16BE(key, 0);
      b.writeInt16BE(version, 2);
      b.writeInt32BE(7, 4);
      b.writeInt16BE(0, 8); // client id ""
      return b;
    };
    const i32 = (v: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(v | 0);
      return b;
    };
    const cases: [string, Buffer][] = [
      // Produce v7: transactional id null, acks, timeout, topics array of 2^31-1.
      [
        'Produce v7 topics 2^31-1',
        Buffer.concat([
          header(0, 7),
          Buffer.from('ffff', 'hex'),
          Buffer.from('ffff', 'hex'),
          i32(30000),
          i32(0x7fffffff),
          Buffer.alloc(6),
        ]),
      ],
      [
        'Produce v7 topics -2',
        Buffer.concat([header(0, 7), Buffer.from('ffff', 'hex'), Buffer.from('ffff', 'hex'), i32(30000), i32(-2)]),
      ],
      // Produce v7: one topic, partitions 2^31-1.
      [
        'Produce v7 partitions 2^31-1',
        Buffer.concat([
          header(0, 7),
          Buffer.from('ffffffff', 'hex'),
          i32(30000),
          i32(1),
          Buffer.from('0001', 'hex'),
          Buffer.from('g'),
          i32(0x7fffffff),
          Buffer.alloc(4),
        ]),
      ],
      // Produce v7: records bytes of 2^31-1.
      [
        'Produce v7 records 2^31-1',
        Buffer.concat([
          header(0, 7),
          Buffer.from('ffffffff', 'hex'),
          i32(30000),
          i32(1),
          Buffer.from('0001', 'hex'),
          Buffer.from('g'),
          i32(1),
          i32(0),
          i32(0x7fffffff),
          Buffer.alloc(8),
        ]),
      ],
      // Metadata v1: topics 2^31-1 / string of 32767.
      ['Metadata v1 topics 2^31-1', Buffer.concat([header(3, 1), i32(0x7fffffff)])],
      [
        'Metadata v1 name 32767 bytes',
        Buffer.concat([header(3, 1), i32(1), Buffer.from('7fff', 'hex'), Buffer.from('abc')]),
      ],
      // Metadata v12 (flexible): compact array of 2^32-2 entries, then of 2^31-1.
      [
        'Metadata v12 topics uvarint 2^32-1',
        Buffer.concat([header(3, 12), Buffer.from('ffffffff0f', 'hex'), Buffer.alloc(3)]),
      ],
      [
        'Metadata v12 topics uvarint 2^31',
        Buffer.concat([header(3, 12), Buffer.from('80808080', 'hex'), Buffer.from('08', 'hex')]),
      ],
      // Metadata v12: tagged fields count 2^32-1.
      [
        'Metadata v12 tagged count 2^32-1',
        Buffer.concat([header(3, 12).subarray(0, 10), Buffer.from('ffffffff0f', 'hex')]),
      ],
      // ApiVersions v3: client software name of 2^32-2 bytes.
      [
        'ApiVersions v3 name 2^32-2',
        Buffer.concat([header(18, 3), Buffer.from('ffffffff0f', 'hex'), Buffer.from('abc')]),
      ],
      // CreateTopics v7: topics compact array 2^31-1, configs etc.
      ['CreateTopics v7 topics 2^31', Buffer.concat([header(19, 7), Buffer.from('8080808008', 'hex')])],
      // Request header: client id of 32767 bytes.
      ['header client id 32767', Buffer.concat([header(18, 0).subarray(0, 8), Buffer.from('7fff', 'hex')])],
    ];
    const before = process.memoryUsage();
    for (const [what, bytes] of cases) {
      const t0 = process.hrtime.bigint();
      assert.equal(
        outcome(() => decodeFrame(bytes, modules)),
        'DecodeError',
        what,
      );
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      assert.ok(ms < 50, `${what}: took ${ms.toFixed(1)} ms`);
    }
    // Also every array/string length reader directly, with 2^31-1 and only 8 bytes behind it.
    for (const f of ['readArrayLength', 'readBytes'] as const) {
      assert.throws(() => new Reader(Buffer.concat([i32(0x7fffffff), Buffer.alloc(8)]))[f](), DecodeError, f);
    }
    assert.throws(() => new Reader(Buffer.from('ffffffff07000000', 'hex')).readCompactArrayLength(), DecodeError);
    assert.throws(() => new Reader(Buffer.from('ffffffff07000000', 'hex')).readCompactBytes(), DecodeError);
    assert.throws(() => new Reader(Buffer.from('7fff0000', 'hex')).readString(), DecodeError);
    const after = process.memoryUsage();
    const grew = after.arrayBuffers - before.arrayBuffers + (after.heapUsed - before.heapUsed);
    assert.ok(grew < 64 * 1024 * 1024, `memory grew by ${grew} bytes`);
    void modules;
  });
}
