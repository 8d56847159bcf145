/**
 * protocol/errors.ts: every fault class carries its stable code string and Kafka error code; the broker's own
 * faults (BrokerFault) are told apart from faults of the input; the broker throws them (not bare Errors) where
 * it refuses a call; and no `throw new Error(` is left in broker/, storage/, replication/ or protocol/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BadArgumentError,
  BrokerFault,
  CompressionError,
  CorruptRecordError,
  DecodeError,
  EncodeError,
  IllegalStateError,
  InjectedFaultError,
  InternalError,
  NotStartedError,
  RunnelError,
  StorageError,
  UnsupportedVersionError,
} from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { Broker } from '../../broker/broker.js';
import { BrokerConfig } from '../../broker/config.js';
import { startBroker } from '../../broker/index.js';
import { stateFromId, TxnMetadata } from '../../broker/txn/state.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

test('each class carries its code, its Kafka error code, its name and the message', () => {
  const cases: [RunnelError, string, number, boolean][] = [
    [new DecodeError('m'), 'ERR_DECODE', ErrorCode.INVALID_REQUEST, false],
    [new UnsupportedVersionError('m'), 'ERR_UNSUPPORTED_VERSION', ErrorCode.UNSUPPORTED_VERSION, false],
    [new CorruptRecordError('m'), 'ERR_CORRUPT_RECORD', ErrorCode.CORRUPT_MESSAGE, false],
    [new CompressionError('m'), 'ERR_COMPRESSION', ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, false],
    [new EncodeError('m'), 'ERR_ENCODE', -1, false],
    [new StorageError('m'), 'ERR_STORAGE', ErrorCode.KAFKA_STORAGE_ERROR, false],
    [new BadArgumentError('m'), 'ERR_BAD_ARGUMENT', -1, false],
    [new InternalError('m'), 'ERR_INTERNAL', -1, true],
    [new NotStartedError('m'), 'ERR_NOT_STARTED', -1, true],
    [new IllegalStateError('m'), 'ERR_ILLEGAL_STATE', -1, true],
    [new InjectedFaultError('m'), 'ERR_INJECTED_FAULT', -1, true],
  ];
  for (const [err, code, kafkaCode, fault] of cases) {
    assert.ok(err instanceof RunnelError && err instanceof Error, code);
    assert.equal(err.code, code);
    assert.equal(err.kafkaCode, kafkaCode, code);
    assert.equal(err.name, err.constructor.name);
    assert.equal(err.message, 'm');
    assert.equal(err instanceof BrokerFault, fault, `${code} is ${fault ? '' : 'not '}a BrokerFault`);
  }
  assert.equal(new CompressionError('m', ErrorCode.CORRUPT_MESSAGE).kafkaCode, ErrorCode.CORRUPT_MESSAGE);
  assert.equal(new StorageError('m', ErrorCode.NOT_LEADER_OR_FOLLOWER).kafkaCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
});

test('the broker throws coded faults: not started, bad options, illegal transitions, unknown states', async () => {
  const broker = new Broker(new BrokerConfig({ overrides: { port: 0, host: '127.0.0.1', 'admin.port': -1 } }));
  assert.throws(
    () => broker.logs,
    (e: unknown) => e instanceof NotStartedError && e.code === 'ERR_NOT_STARTED' && e.message === 'broker not started',
  );
  assert.throws(() => broker.groups, NotStartedError);
  await assert.rejects(
    startBroker({ storage: 'tape' as 'disk' }),
    (e: unknown) => e instanceof BadArgumentError && /storage must be 'disk' or 'memory', not "tape"/.test(e.message),
  );
  const md = new TxnMetadata('t1', { producerId: 1, producerEpoch: 0, timeoutMs: 60_000, state: 'Empty', now: 0 });
  assert.throws(
    () => md.prepare('CompleteCommit', {}, 0),
    (e: unknown) => e instanceof IllegalStateError && /t1: illegal transition Empty -> CompleteCommit/.test(e.message),
  );
  md.prepare('Ongoing', {}, 0);
  assert.throws(() => md.prepare('Ongoing', {}, 0), /t1: transition to Ongoing in progress/);
  assert.throws(() => md.prepare('Ongoing', {}, 0), IllegalStateError);
  assert.equal(stateFromId(1), 'Ongoing');
  assert.throws(
    () => stateFromId(42),
    (e: unknown) => e instanceof DecodeError && e.code === 'ERR_DECODE',
  );
});

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(ts|cts|mts)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

test('no bare `throw new Error(` in broker/, storage/, replication/ or protocol/ (generated code aside)', () => {
  const files = ['broker', 'storage', 'replication', 'protocol']
    .flatMap((d) => sources(join(root, d)))
    .filter((f) => !relative(root, f).startsWith(join('protocol', 'generated')));
  assert.ok(files.length > 100, `only ${files.length} source files found under ${root}`);
  assert.ok(files.includes(join(root, 'broker', 'broker.ts')));
  const bare: string[] = [];
  for (const f of files) {
    readFileSync(f, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/throw\s+(new\s+)?Error\s*\(/.test(line)) bare.push(`${relative(root, f)}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(bare, [], 'use a coded class from protocol/errors.ts');
});
