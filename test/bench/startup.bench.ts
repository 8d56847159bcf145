/**
 * `npm run bench:startup`: Runnel's start-up budget (a benchmark, not a test). Prints medians of RUNS runs
 * (default 7, at most 30), each in a fresh Node process so module loading is counted:
 *   embedded  startBroker() called → first Produce (acks=-1) acknowledged, on a raw socket (the first
 *             startBroker() of a process; `import` time of 'runnel' shown separately) — target < 50 ms
 *   cli       spawn of `node dist/broker/bin.cjs start` (the `runnel` executable: the bundle, with the
 *             compile cache written by a first, unmeasured start that is reported on its own) → first
 *             accepted TCP connection — target < 150 ms, next to the same figure for a bare Node listener
 *             (`net.createServer().listen()`)
 *   rss       VmRSS of that CLI process after IDLE_MS (default 1000) idle — target < 60 MiB
 * The CLI runs with the admin API on (port 0), as by default; ADMIN=off runs it with --admin-port -1.
 * The produce request is encoded here, in the parent, so the child loads only what the broker loads;
 * its response comes back as hex and is decoded and checked here. Every wait is bounded.
 * The machine may be busy: the figures are medians, with min and max shown.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir, loadavg, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const CLI = join(root, 'broker/bin.cjs'); // the installed `runnel` executable: bundle + compile cache
const ENTRY = join(root, 'broker/entry.js'); // what `import 'runnel'` loads: the bundle + compile cache

// ---- child: embedded startBroker() → first acknowledged produce -------------------------------------------
async function embeddedChild(frameHex: string): Promise<void> {
  const cpu0 = process.cpuUsage();
  const tImport0 = performance.now();
  const { startBroker } = (await import(ENTRY)) as typeof import('../../broker/index.js');
  const tImport1 = performance.now();
  const cpuImport = process.cpuUsage(cpu0);
  const cpuStart = process.cpuUsage();
  const t0 = performance.now();
  const b = await startBroker({ topics: ['bench'] });
  const tStarted = performance.now();
  const frame = Buffer.from(frameHex, 'hex');
  const response = await new Promise<Buffer>((resolve, reject) => {
    const s = connect({ port: b.port, host: '127.0.0.1' }, () => s.write(frame));
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error('no produce response in 10 s')), 10_000);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        clearTimeout(timer);
        s.destroy();
        resolve(buf.subarray(4, 4 + buf.readInt32BE(0)));
      }
    });
    s.on('error', reject);
  });
  const tAck = performance.now();
  const cpuAck = process.cpuUsage(cpuStart);
  const cpuTotal = process.cpuUsage();
  const rss = process.memoryUsage().rss;
  await b.stop();
  const ms = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
  process.send!({
    importMs: tImport1 - tImport0,
    startMs: tStarted - t0,
    ackMs: tAck - t0,
    sinceProcessStartMs: tAck,
    rss,
    response: response.toString('hex'),
    cpuImportMs: ms(cpuImport),
    cpuAckMs: ms(cpuAck),
    cpuTotalMs: ms(cpuTotal),
  });
}

// ---- parent ------------------------------------------------------------------------------------------------
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function fmt(xs: number[], unit = 'ms', digits = 1): string {
  const [min, max] = [Math.min(...xs).toFixed(digits), Math.max(...xs).toFixed(digits)];
  return `${median(xs).toFixed(digits)} ${unit} (min ${min}, max ${max})`;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function produceFrame(): Promise<Buffer> {
  const { encodeRequestFrame } = await import('../../protocol/frame.js');
  const { encodeProduceRequest, defaultProduceRequest } = await import('../../protocol/generated/produce-request.js');
  const { buildRecordBatchSync } = await import('../../protocol/records/builder.js');
  const batch = buildRecordBatchSync([
    { key: Buffer.from('k'), value: Buffer.from('hello'), headers: [], timestamp: Date.now() },
  ]);
  const req = {
    ...defaultProduceRequest(),
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: 'bench', partitionData: [{ index: 0, records: batch }] }],
  };
  return Buffer.concat(encodeRequestFrame(0, 7, 1, 'startup-bench', (w) => encodeProduceRequest(w, 7, req as never)));
}

async function checkProduceResponse(hex: string): Promise<void> {
  const { Reader } = await import('../../protocol/wire/reader.js');
  const { decodeResponseHeader } = await import('../../protocol/generated/response-header.js');
  const { decodeProduceResponse } = await import('../../protocol/generated/produce-response.js');
  const r = new Reader(Buffer.from(hex, 'hex'));
  decodeResponseHeader(r, 0);
  const res = decodeProduceResponse(r, 7);
  const err = res.responses[0]?.partitionResponses[0]?.errorCode;
  if (err !== 0) throw new Error(`produce not acknowledged: error code ${err}`);
}

interface EmbeddedResult {
  importMs: number;
  startMs: number;
  ackMs: number;
  sinceProcessStartMs: number;
  rss: number;
  response: string;
  cpuImportMs: number;
  cpuAckMs: number;
  cpuTotalMs: number;
}

function runEmbedded(frame: Buffer): Promise<EmbeddedResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'embedded-child'], {
      env: { ...process.env, FRAME: frame.toString('hex') },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('embedded run took over 30 s'));
    }, 30_000);
    let result: unknown;
    child.on('message', (m) => (result = m));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0 && result) resolve(result as never);
      else reject(new Error(`embedded child exited ${code}`));
    });
  });
}

/** Spawn `args`, then try to connect every ms until a connection is accepted; returns ms since spawn. */
async function timeToAccept(
  args: string[],
  port: number,
  idleMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ ms: number; cpuMs: number; rss: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    const deadline = t0 + 15_000;
    for (;;) {
      if (exited) throw new Error(`process exited before accepting: ${stderr.slice(0, 500)}`);
      if (performance.now() > deadline) throw new Error('no accepted connection within 15 s');
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect({ port, host: '127.0.0.1' }, () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    const ms = performance.now() - t0;
    // CPU time (user + system) the process used until then: less sensitive to a busy machine than wall time.
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
    await new Promise((r) => setTimeout(r, idleMs));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
    return { ms, cpuMs, rss };
  } finally {
    child.kill('SIGTERM');
    await new Promise<void>((r) => {
      if (exited) return r();
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        r();
      }, 5000);
      child.once('exit', () => {
        clearTimeout(t);
        r();
      });
    });
  }
}

async function main(): Promise<void> {
  const runs = Math.min(Math.max(Number(process.env.RUNS ?? 7) || 7, 1), 30);
  const idleMs = Math.min(Number(process.env.IDLE_MS ?? 1000) || 1000, 10_000);
  const adminOff = process.env.ADMIN === 'off';
  const frame = await produceFrame();
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  console.log(`startup bench: ${runs} runs, node ${process.version}, ${cpus().length} CPUs, load average ${load}`);
  const emb = {
    importMs: [] as number[],
    startMs: [] as number[],
    ackMs: [] as number[],
    total: [] as number[],
    rss: [] as number[],
    cpuImport: [] as number[],
    cpuAck: [] as number[],
    cpuTotal: [] as number[],
  };
  // The compile cache (broker/compile-cache.cts) lives in a fresh directory: the first embedded run and the
  // first CLI start run without one (and write it; reported as "first"), the measured runs use it.
  const cacheDir = mkdtempSync(join(tmpdir(), 'runnel-startup-cache-'));
  process.env.RUNNEL_COMPILE_CACHE = cacheDir;
  const cliEnv = { ...process.env };
  const coldEmbedded = await runEmbedded(frame);
  const cold = await (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runnel-startup-'));
    try {
      const port = await freePort();
      return await timeToAccept(
        [
          CLI,
          'start',
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--data-dir',
          dir,
          '--admin-port',
          adminOff ? '-1' : '0',
        ],
        port,
        1500,
        cliEnv,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  const cli: number[] = [];
  const cliCpu: number[] = [];
  const bare: number[] = [];
  const bareCpu: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const e = await runEmbedded(frame);
    await checkProduceResponse(e.response);
    emb.importMs.push(e.importMs);
    emb.startMs.push(e.startMs);
    emb.ackMs.push(e.ackMs);
    emb.total.push(e.sinceProcessStartMs);
    emb.rss.push(e.rss / 2 ** 20);
    emb.cpuImport.push(e.cpuImportMs);
    emb.cpuAck.push(e.cpuAckMs);
    emb.cpuTotal.push(e.cpuTotalMs);

    const bp = await freePort();
    const bareScript = `require('net').createServer(()=>{}).listen(${bp}, '127.0.0.1')`;
    const br = await timeToAccept(['-e', bareScript], bp, 0);
    bare.push(br.ms);
    bareCpu.push(br.cpuMs);

    const dir = mkdtempSync(join(tmpdir(), 'runnel-startup-'));
    try {
      const port = await freePort();
      const args = [
        CLI,
        'start',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--data-dir',
        dir,
        '--admin-port',
        adminOff ? '-1' : '0',
      ];
      const r = await timeToAccept(args, port, idleMs, cliEnv);
      cli.push(r.ms);
      cliCpu.push(r.cpuMs);
      rss.push(r.rss / 2 ** 20);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`embedded: import 'runnel'            ${fmt(emb.importMs)}`);
  console.log(`embedded: startBroker() resolved     ${fmt(emb.startMs)}`);
  console.log(`embedded: startBroker() → produce ack ${fmt(emb.ackMs)}   (target < 50 ms)`);
  console.log(
    `embedded: first run (no compile cache): import ${coldEmbedded.importMs.toFixed(1)} ms, ` +
      `startBroker() → ack ${coldEmbedded.ackMs.toFixed(1)} ms`,
  );
  console.log(`embedded: process start → produce ack ${fmt(emb.total)}`);
  console.log(`embedded: RSS at ack                 ${fmt(emb.rss, 'MiB')}`);
  console.log(
    `embedded: CPU time: import ${fmt(emb.cpuImport)}; startBroker() → ack ${fmt(emb.cpuAck)}; ` +
      `process total ${fmt(emb.cpuTotal)}`,
  );
  console.log(
    `cli: spawn → first accepted conn.    ${fmt(cli)}   (target < 150 ms; admin API ${adminOff ? 'off' : 'on'})`,
  );
  console.log(`cli: first start (no compile cache)  ${cold.ms.toFixed(1)} ms`);
  console.log(`bare node listener: spawn → accept   ${fmt(bare)}`);
  console.log(`CPU time until accept: cli ${fmt(cliCpu)}; bare listener ${fmt(bareCpu)} (10 ms ticks)`);
  console.log(`cli: idle RSS after ${idleMs} ms         ${fmt(rss, 'MiB')}   (target < 60 MiB)`);
  rmSync(cacheDir, { recursive: true, force: true });
  console.log(
    `load average after: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
}

if (process.argv[2] === 'embedded-child') {
  embeddedChild(process.env.FRAME ?? '').then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`embedded child: ${err.stack}\n`);
      process.exit(1);
    },
  );
} else {
  main().catch((err: Error) => {
    console.error(err.stack);
    process.exit(1);
  });
}
