/**
 * The CLI's pure helpers: line splitting of `produce` input across chunk boundaries, the progress line,
 * consume's output formats, and the parsers of --timestamp and --bootstrap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lines } from '../../../client/cli/produce.js';
import { render } from '../../../client/cli/progress.js';
import { formatRecord, jsonBytes, type PrintableRecord } from '../../../client/cli/format.js';
import { parseBootstrap, parseTimestamp, table } from '../../../client/cli/common.js';

async function split(chunks: Array<string | Buffer>): Promise<string[]> {
  async function* gen(): AsyncGenerator<Buffer> {
    for (const c of chunks) yield Buffer.isBuffer(c) ? c : Buffer.from(c);
  }
  const out: string[] = [];
  for await (const l of lines(gen())) out.push(l.toString('utf8'));
  return out;
}

test('lines(): LF and CRLF, empty lines, a last line without newline, splits across chunks (CRLF, UTF-8)', async () => {
  assert.deepEqual(await split(['a\nb\r\n\nc']), ['a', 'b', '', 'c']);
  assert.deepEqual(await split(['a\r', '\nb', 'c\n']), ['a', 'bc']);
  const u = Buffer.from('zé\n');
  assert.deepEqual(await split([u.subarray(0, 2), u.subarray(2)]), ['zé']);
  assert.deepEqual(await split(['x\n']), ['x']);
  assert.deepEqual(await split([]), []);
  assert.deepEqual(await split(['\n']), ['']);
  assert.deepEqual(await split(['tail\r']), ['tail']);
});

test('render(): a bar with a percentage when the size is known, counts and rates otherwise', () => {
  assert.equal(
    render(2000, 512 * 1024, 1000, 900, 1024 * 1024),
    `[${'#'.repeat(15)}${'.'.repeat(15)}]  50%  1,000 sent, 900 acked  500 rec/s, 0.3 MiB/s`,
  );
  assert.equal(render(1000, 1048576, 2500, 2500), '2,500 sent, 2,500 acked  2,500 rec/s, 1.0 MiB/s');
});

test('formatRecord(): text fields and separator, hex, json with base64 for non-UTF-8 bytes', () => {
  const r: PrintableRecord = {
    topic: 't',
    partition: 2,
    offset: 7,
    timestamp: 1000,
    key: Buffer.from('k'),
    value: Buffer.from([0xc3, 0x28]),
    headers: [
      { key: 'h', value: Buffer.from('v') },
      { key: 'n', value: null },
    ],
  };
  assert.equal(formatRecord(r, { format: 'text', separator: '\t' }), `${Buffer.from([0xc3, 0x28]).toString('utf8')}\n`);
  assert.equal(
    formatRecord(r, { format: 'hex', separator: ' ', printKey: true, printHeaders: true, printOffset: true }),
    '2:7 h=76,n=null 6b c328\n',
  );
  assert.deepEqual(JSON.parse(formatRecord(r, { format: 'json', separator: '\t' })), {
    topic: 't',
    partition: 2,
    offset: 7,
    timestamp: 1000,
    key: 'k',
    value: { base64: 'wyg=' },
    headers: [
      { key: 'h', value: 'v' },
      { key: 'n', value: null },
    ],
  });
  assert.equal(
    formatRecord({ ...r, key: null, value: null }, { format: 'text', separator: '|', printKey: true }),
    'null|null\n',
  );
  assert.equal(jsonBytes(Buffer.from('ünï')), 'ünï');
});

test('parseTimestamp(): epoch ms, ISO with and without zone (UTC), dates; garbage throws', () => {
  assert.equal(parseTimestamp('1700000000000'), 1700000000000);
  assert.equal(parseTimestamp('2023-11-14T22:13:20Z'), 1700000000000);
  assert.equal(parseTimestamp('2023-11-14T22:13:20'), 1700000000000);
  assert.equal(parseTimestamp('2023-11-14T23:13:20+01:00'), 1700000000000);
  assert.equal(parseTimestamp('2023-11-14'), Date.UTC(2023, 10, 14));
  assert.throws(() => parseTimestamp('last tuesday'), /ISO-8601/);
});

test('parseBootstrap() and table()', () => {
  assert.deepEqual(parseBootstrap('a:1, b ,[::1]:9093'), ['a:1', 'b:9092', '[::1]:9093']);
  assert.throws(() => parseBootstrap('a:99999'), /out of range/);
  assert.throws(() => parseBootstrap(','), /host:port/);
  assert.equal(
    table(
      ['A', 'BB'],
      [
        ['xyz', 1],
        [null, 'long'],
      ],
    ),
    'A    BB\nxyz  1\n-    long\n',
  );
});
