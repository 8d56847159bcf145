/**
 * CRC throughput benchmark (a runnable script, not a test): compares the CRC implementations we could use
 * for record batches (CRC-32C) and legacy messages (CRC-32 IEEE) on 1 KiB and 1 MiB buffers and prints
 * MB/s. Run: `npx tsc -p tsconfig.json && node dist/test/bench/crc.bench.js`.
 * The numbers decide which implementation protocol/records/crc.ts uses; update its header when they change.
 */
import { crc32 as rsCrc32, crc32c as rsCrc32c } from '@node-rs/crc32';
import crcIeee from 'crc-32';
import crcC from 'crc-32/crc32c.js';
import * as zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { crc32 as ourCrc32, crc32c as ourCrc32c } from '../../protocol/records/crc.js';

type Fn = (b: Buffer) => number;

const zlibCrc32 = (zlib as unknown as { crc32?: (b: Uint8Array, v?: number) => number }).crc32;

const candidates: { algo: string; name: string; fn: Fn }[] = [
  { algo: 'CRC-32C', name: '@node-rs/crc32 crc32c', fn: (b) => rsCrc32c(b) },
  { algo: 'CRC-32C', name: 'crc-32/crc32c buf', fn: (b) => crcC.buf(b) >>> 0 },
  { algo: 'CRC-32C', name: 'runnel crc.ts crc32c', fn: (b) => ourCrc32c(b) },
  { algo: 'CRC-32', name: '@node-rs/crc32 crc32', fn: (b) => rsCrc32(b) },
  { algo: 'CRC-32', name: 'crc-32 buf', fn: (b) => crcIeee.buf(b) >>> 0 },
  ...(zlibCrc32 ? [{ algo: 'CRC-32', name: 'node:zlib crc32', fn: (b: Buffer) => zlibCrc32(b) >>> 0 }] : []),
  { algo: 'CRC-32', name: 'runnel crc.ts crc32', fn: (b) => ourCrc32(b) },
];

function measure(fn: Fn, buf: Buffer, minMs: number): number {
  // Warm up, then run batches until minMs has elapsed.
  for (let i = 0; i < 50; i++) fn(buf);
  let iterations = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  let elapsedNs = 0n;
  const batch = Math.max(1, Math.floor((1 << 22) / buf.length));
  while (elapsedNs < BigInt(minMs) * 1_000_000n) {
    for (let i = 0; i < batch; i++) sink ^= fn(buf);
    iterations += batch;
    elapsedNs = process.hrtime.bigint() - start;
  }
  if (sink === 0.5) process.stdout.write(''); // keep `sink` alive
  const seconds = Number(elapsedNs) / 1e9;
  return (iterations * buf.length) / seconds / 1e6;
}

const sizes = [
  { label: '1 KiB', buf: randomBytes(1024) },
  { label: '1 MiB', buf: randomBytes(1024 * 1024) },
];
const minMs = Number(process.env.CRC_BENCH_MS ?? 500);

console.log(`node ${process.version}, ${minMs} ms per case, MB = 10^6 bytes`);
for (const { algo, name, fn } of candidates) {
  const cols = sizes.map(({ label, buf }) => `${label}: ${measure(fn, buf, minMs).toFixed(0).padStart(7)} MB/s`);
  console.log(`${algo.padEnd(8)} ${name.padEnd(24)} ${cols.join('   ')}`);
}
