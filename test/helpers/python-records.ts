/**
 * Cross-checks against kafka-python's record code (Debian python3-kafka, run with /usr/bin/python3): tests
 * that use it skip where the modules are missing.
 */
import { spawnSync } from 'node:child_process';

export const PY = '/usr/bin/python3';

/** kafka-python's record package and the codecs it needs are importable. */
export const PY_KAFKA = spawnSync(PY, ['-c', 'import kafka.record, snappy, lz4, xxhash']).status === 0;

/** Run python with JSON on stdin as `inp`; it must set `out`, printed back as JSON (of the caller's shape T). */
export function pyJson<T>(code: string, inp: unknown): T {
  const script = `import sys, json\ninp = json.loads(sys.stdin.read())\n${code}\nprint(json.dumps(out))\n`;
  const r = spawnSync(PY, ['-c', script], { input: JSON.stringify(inp), maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString());
}

/** Python that builds a v2 batch with kafka-python from `inp` and sets `out` to its hex bytes. */
export const PY_BUILD = `
from kafka.record.default_records import DefaultRecordBatchBuilder
b = DefaultRecordBatchBuilder(magic=2, compression_type=inp['compression'], is_transactional=inp['transactional'],
    producer_id=inp['producer_id'], producer_epoch=inp['producer_epoch'], base_sequence=inp['base_sequence'],
    batch_size=1 << 30)
h = lambda x: None if x is None else bytes.fromhex(x)
for r in inp['records']:
    b.append(r['offset'], r['timestamp'], h(r['key']), h(r['value']), [(k, h(v)) for k, v in r['headers']])
out = bytes(b.build()).hex()
`;
