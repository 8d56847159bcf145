/**
 * `runnel produce TOPIC`: one record per input line (stdin or --file), optionally split into key and
 * value at the first --key-separator, with the same --header on every record. Input is read as bytes
 * (no re-encoding), streamed chunk by chunk; at most MAX_IN_FLIGHT records wait for their acks at once,
 * so memory stays bounded whatever the input size. The command ends when every record is acknowledged
 * (or the first failure), printing the count on stderr, with a progress bar while it runs when stderr
 * is a terminal.
 */
import { createReadStream, fstatSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Producer } from '../producer.js';
import { type CommonOptions, OperationError, UsageError, clientOptions, count, err } from './common.js';
import { Progress } from './progress.js';

const MAX_IN_FLIGHT = 10_000;

interface ProduceOptions extends CommonOptions {
  file?: string;
  keySeparator?: string;
  header?: Array<[string, string]>;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  acks: 'all' | '-1' | '0' | '1';
  partition?: number;
  lingerMs?: number;
  quiet?: boolean;
}

/** Yields the lines of `input` as Buffers (without "\n" or "\r\n"); a last line without "\n" counts. */
export async function* lines(
  input: AsyncIterable<Buffer | string>,
  onBytes?: (n: number) => void,
): AsyncGenerator<Buffer> {
  let carry: Buffer | null = null;
  for await (const c of input) {
    let chunk = typeof c === 'string' ? Buffer.from(c) : c;
    onBytes?.(chunk.length);
    if (carry) {
      chunk = Buffer.concat([carry, chunk]);
      carry = null;
    }
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      const end = nl > start && chunk[nl - 1] === 13 ? nl - 1 : nl;
      yield Buffer.from(chunk.subarray(start, end));
      start = nl + 1;
    }
    if (start < chunk.length) carry = Buffer.from(chunk.subarray(start));
  }
  if (carry && carry.length > 0) yield carry.at(-1) === 13 ? carry.subarray(0, -1) : carry;
}

export async function produce(topic: string, opts: ProduceOptions): Promise<number> {
  if (opts.keySeparator === '') throw new UsageError('--key-separator must not be empty');
  if (opts.file === undefined && process.stdin.isTTY && !opts.quiet)
    err('reading records from the terminal, one a line; end with Ctrl-D\n');
  let total: number | undefined;
  try {
    total = opts.file !== undefined ? (await stat(opts.file)).size : stdinSize();
  } catch (e) {
    throw new OperationError(`cannot read ${opts.file}: ${(e as Error).message}`);
  }
  const input = opts.file !== undefined ? createReadStream(opts.file, { highWaterMark: 256 * 1024 }) : process.stdin;
  const sep = opts.keySeparator === undefined ? undefined : Buffer.from(opts.keySeparator);
  const headers: Record<string, string> = Object.fromEntries(opts.header ?? []);
  const producer = new Producer({
    ...clientOptions(opts),
    acks: opts.acks === 'all' ? -1 : (Number(opts.acks) as 0 | 1 | -1),
    compression: opts.compression,
    ...(opts.lingerMs !== undefined ? { lingerMs: opts.lingerMs } : {}),
  });
  const showBar = !opts.quiet && process.stderr.isTTY === true;
  const progress = new Progress(showBar, total);
  let bytes = 0;
  let sent = 0;
  let acked = 0;
  let failure: unknown;
  const inFlight: Array<Promise<unknown>> = [];
  try {
    let lineNo = 0;
    for await (const line of lines(input, (n) => (bytes += n))) {
      lineNo++;
      if (failure) break;
      let key: Buffer | undefined;
      let value = line;
      if (sep) {
        const at = line.indexOf(sep);
        if (at < 0) throw new UsageError(`line ${lineNo} has no key separator ${JSON.stringify(opts.keySeparator)}`);
        key = line.subarray(0, at);
        value = line.subarray(at + sep.length);
      }
      const p = producer
        .send({ topic, key, value, headers, ...(opts.partition !== undefined ? { partition: opts.partition } : {}) })
        .then(
          () => void acked++,
          (e: unknown) => {
            failure ??= e;
          },
        );
      inFlight.push(p);
      sent++;
      if (inFlight.length >= MAX_IN_FLIGHT) await inFlight.shift();
      progress.update(bytes, sent, acked);
    }
    await producer.flush();
    await Promise.all(inFlight);
  } catch (e) {
    failure ??= e;
  } finally {
    progress.done();
    if (opts.file !== undefined) (input as ReturnType<typeof createReadStream>).destroy();
    await Promise.resolve(producer.close()).catch(() => undefined);
  }
  if (failure) {
    if (!opts.quiet) err(`produced ${count(acked)} record(s) to ${topic} before the error\n`);
    throw failure;
  }
  if (!opts.quiet) err(`produced ${count(acked)} record(s) to ${topic}\n`);
  return 0;
}

function stdinSize(): number | undefined {
  try {
    const st = fstatSync(0);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}
