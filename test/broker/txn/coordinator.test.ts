/**
 * The transaction coordinator's state machine with a FakeClock, an in-memory `__transaction_state` store
 * and a recording marker writer (no broker, no sockets); EndTxn answering while a marker write is held.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../storage/clock.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { TransactionCoordinator, type TxnMarker } from '../../../broker/txn/coordinator.js';
import { MemoryTxnStateStore } from '../../../broker/txn/state-log.js';
import { decodeTxnLogValue, txnLogKey } from '../../../broker/txn/records.js';
import { canTransition } from '../../../broker/txn/state.js';

const CFG = {
  maxTimeoutMs: 60_000,
  abortCheckIntervalMs: 1_000,
  idExpirationMs: 100_000,
  expireCheckIntervalMs: 10_000,
};

/** A marker write held until `open()` (or rejected when its signal fires). */
function blocker() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const signals: AbortSignal[] = [];
  const hold = (signal?: AbortSignal): Promise<void> => {
    if (signal) signals.push(signal);
    return new Promise<void>((resolve, reject) => {
      void opened.then(resolve);
      signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  };
  return { open, hold, signals };
}

function setup(
  opts: { failMarkers?: () => boolean; hold?: (topic: string, partition: number) => Promise<void> | undefined } = {},
) {
  const clock = new FakeClock(1_000_000);
  const store = new MemoryTxnStateStore();
  const markers: (TxnMarker & { topic: string; partition: number })[] = [];
  const completed: [number, boolean][] = [];
  let nextPid = 1000;
  const coord = new TransactionCoordinator(CFG, {
    clock,
    store,
    allocateProducerId: async () => nextPid++,
    partitionsOf: (topic) => (topic === 'missing' ? undefined : 3),
    writeMarker: async (topic, partition, m) => {
      if (opts.failMarkers?.()) throw new Error('injected marker failure');
      await opts.hold?.(topic, partition);
      markers.push({ topic, partition, ...m });
    },
    groupPartition: async () => ({ topic: '__consumer_offsets', partition: 7 }),
    onMarkersWritten: (pid, commit) => completed.push([pid, commit]),
  });
  return { clock, store, markers, completed, coord };
}

/** Let promise chains started by fired timers run (bounded). */
async function settle(coord: TransactionCoordinator): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  await coord.idle();
}

const lastValue = (store: MemoryTxnStateStore, id: string) => {
  const rec = [...store.records].reverse().find((r) => r.transactionalId === id);
  return rec?.value ? decodeTxnLogValue(rec.value) : null;
};

test("state transitions follow Kafka's validPreviousStates", () => {
  assert.ok(canTransition('Ongoing', 'PrepareCommit'));
  assert.ok(canTransition('PrepareEpochFence', 'PrepareAbort'));
  assert.ok(!canTransition('Empty', 'PrepareCommit'));
  assert.ok(!canTransition('PrepareCommit', 'PrepareAbort'));
  assert.ok(!canTransition('Ongoing', 'CompleteCommit'));
  assert.ok(canTransition('CompleteAbort', 'Dead'));
});

test('InitProducerId: new id, epoch bumps, timeout and id validation, persisted as TransactionLogValue', async () => {
  const { coord, store } = setup();
  assert.equal(
    (
      await coord.initProducerId({
        transactionalId: 't',
        transactionTimeoutMs: 60_001,
        producerId: -1,
        producerEpoch: -1,
      })
    ).errorCode,
    ErrorCode.INVALID_TRANSACTION_TIMEOUT,
  );
  assert.equal(
    (await coord.initProducerId({ transactionalId: 't', transactionTimeoutMs: 0, producerId: -1, producerEpoch: -1 }))
      .errorCode,
    ErrorCode.INVALID_TRANSACTION_TIMEOUT,
  );
  assert.equal(
    (await coord.initProducerId({ transactionalId: '', transactionTimeoutMs: 1000, producerId: -1, producerEpoch: -1 }))
      .errorCode,
    ErrorCode.INVALID_REQUEST,
  );
  const a = await coord.initProducerId({
    transactionalId: 't',
    transactionTimeoutMs: 5000,
    producerId: -1,
    producerEpoch: -1,
  });
  assert.deepEqual(a, { errorCode: 0, producerId: 1000, producerEpoch: 0 });
  const b = await coord.initProducerId({
    transactionalId: 't',
    transactionTimeoutMs: 6000,
    producerId: -1,
    producerEpoch: -1,
  });
  assert.deepEqual(b, { errorCode: 0, producerId: 1000, producerEpoch: 1 });
  const v = lastValue(store, 't')!;
  assert.equal(v.state, 'Empty');
  assert.equal(v.producerEpoch, 1);
  assert.equal(v.timeoutMs, 6000);
  // KIP-360: the current pair is bumped, a retry of that bump gets the same answer, anything else is fenced.
  const c = await coord.initProducerId({
    transactionalId: 't',
    transactionTimeoutMs: 6000,
    producerId: 1000,
    producerEpoch: 1,
  });
  assert.deepEqual(c, { errorCode: 0, producerId: 1000, producerEpoch: 2 });
  assert.deepEqual(
    await coord.initProducerId({
      transactionalId: 't',
      transactionTimeoutMs: 6000,
      producerId: 1000,
      producerEpoch: 1,
    }),
    c,
  );
  assert.equal(
    (
      await coord.initProducerId({
        transactionalId: 't',
        transactionTimeoutMs: 6000,
        producerId: 1000,
        producerEpoch: 0,
      })
    ).errorCode,
    ErrorCode.PRODUCER_FENCED,
  );
  assert.equal(
    (await coord.initProducerId({ transactionalId: 't', transactionTimeoutMs: 6000, producerId: 7, producerEpoch: 2 }))
      .errorCode,
    ErrorCode.PRODUCER_FENCED,
  );
  // A new id accepts any pair (no epoch handed out yet; @platformatic/kafka sends 0/0).
  assert.deepEqual(
    await coord.initProducerId({
      transactionalId: 'fresh',
      transactionTimeoutMs: 6000,
      producerId: 0,
      producerEpoch: 0,
    }),
    { errorCode: 0, producerId: 1001, producerEpoch: 0 },
  );
});

test('epoch exhaustion hands out a new producer id with epoch 0', async () => {
  const { coord } = setup();
  await coord.initProducerId({ transactionalId: 'x', transactionTimeoutMs: 5000, producerId: -1, producerEpoch: -1 });
  coord.txns.get('x')!.producerEpoch = 32766;
  const r = await coord.initProducerId({
    transactionalId: 'x',
    transactionTimeoutMs: 5000,
    producerId: -1,
    producerEpoch: -1,
  });
  assert.deepEqual(r, { errorCode: 0, producerId: 1001, producerEpoch: 0 });
  assert.equal(coord.txns.get('x')!.lastProducerId, 1000);
});

test('commit: Ongoing → PrepareCommit → markers → CompleteCommit; retries and wrong calls', async () => {
  const { coord, store, markers, completed } = setup();
  const { producerId: pid, producerEpoch: ep } = await coord.initProducerId({
    transactionalId: 't',
    transactionTimeoutMs: 5000,
    producerId: -1,
    producerEpoch: -1,
  });
  assert.deepEqual(
    await coord.addPartitions('t', pid, ep, [
      { topic: 'a', partition: 0 },
      { topic: 'missing', partition: 0 },
    ]),
    [ErrorCode.OPERATION_NOT_ATTEMPTED, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  );
  assert.equal(coord.txns.get('t')!.state, 'Empty');
  assert.deepEqual(
    await coord.addPartitions('t', pid, ep, [
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 2 },
    ]),
    [0, 0],
  );
  assert.equal(await coord.addOffsets('t', pid, ep, 'g'), 0);
  assert.equal(
    (await coord.addPartitions('t', pid + 1, ep, [{ topic: 'a', partition: 0 }]))[0],
    ErrorCode.INVALID_PRODUCER_ID_MAPPING,
  );
  assert.equal(
    (await coord.addPartitions('t', pid, ep + 1, [{ topic: 'a', partition: 0 }]))[0],
    ErrorCode.PRODUCER_FENCED,
  );
  assert.equal(
    (await coord.addPartitions('nope', pid, ep, [{ topic: 'a', partition: 0 }]))[0],
    ErrorCode.INVALID_PRODUCER_ID_MAPPING,
  );
  const ongoing = lastValue(store, 't')!;
  assert.equal(ongoing.state, 'Ongoing');
  assert.deepEqual([...ongoing.partitions].sort(), [
    ['__consumer_offsets', [7]],
    ['a', [0, 2]],
  ]);
  assert.equal(await coord.endTxn('t', pid, ep, true), 0);
  await coord.idle();
  assert.deepEqual(markers.map((m) => [m.topic, m.partition, m.commit, m.producerId, m.producerEpoch]).sort(), [
    ['__consumer_offsets', 7, true, pid, ep],
    ['a', 0, true, pid, ep],
    ['a', 2, true, pid, ep],
  ]);
  assert.deepEqual(completed, [[pid, true]]);
  const states = store.records.filter((r) => r.transactionalId === 't').map((r) => decodeTxnLogValue(r.value!).state);
  assert.deepEqual(states.slice(-2), ['PrepareCommit', 'CompleteCommit']);
  assert.equal(lastValue(store, 't')!.partitions.size, 0);
  assert.equal(await coord.endTxn('t', pid, ep, true), ErrorCode.NONE, 'retried commit');
  assert.equal(await coord.endTxn('t', pid, ep, false), ErrorCode.INVALID_TXN_STATE);
  // Abort of the next transaction; EndTxn from Empty is INVALID_TXN_STATE.
  const r2 = await coord.initProducerId({
    transactionalId: 't',
    transactionTimeoutMs: 5000,
    producerId: -1,
    producerEpoch: -1,
  });
  assert.equal(await coord.endTxn('t', r2.producerId, r2.producerEpoch, true), ErrorCode.INVALID_TXN_STATE);
  await coord.addPartitions('t', r2.producerId, r2.producerEpoch, [{ topic: 'a', partition: 1 }]);
  assert.equal(await coord.endTxn('t', r2.producerId, r2.producerEpoch, false), 0);
  await coord.idle();
  assert.deepEqual(markers.at(-1), {
    topic: 'a',
    partition: 1,
    producerId: pid,
    producerEpoch: r2.producerEpoch,
    coordinatorEpoch: 0,
    commit: false,
  });
  assert.equal(coord.txns.get('t')!.state, 'CompleteAbort');
});

test('InitProducerId fences an open txn: abort with bumped epoch, CONCURRENT_TRANSACTIONS, newer epoch', async () => {
  const { coord, markers } = setup();
  const a = await coord.initProducerId({
    transactionalId: 'f',
    transactionTimeoutMs: 5000,
    producerId: -1,
    producerEpoch: -1,
  });
  await coord.addPartitions('f', a.producerId, a.producerEpoch, [{ topic: 'a', partition: 0 }]);
  const b = await coord.initProducerId({
    transactionalId: 'f',
    transactionTimeoutMs: 5000,
    producerId: -1,
    producerEpoch: -1,
  });
  assert.equal(b.errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
  await settle(coord);
  assert.deepEqual(
    markers.map((m) => [m.commit, m.producerEpoch]),
    [[false, a.producerEpoch + 1]],
  );
  assert.equal(coord.txns.get('f')!.state, 'CompleteAbort');
  const c = await coord.initProducerId({
    transactionalId: 'f',
    transactionTimeoutMs: 5000,
    producerId: -1,
    producerEpoch: -1,
  });
  assert.deepEqual(c, { errorCode: 0, producerId: a.producerId, producerEpoch: a.producerEpoch + 2 });
  assert.equal(await coord.endTxn('f', a.producerId, a.producerEpoch, true), ErrorCode.PRODUCER_FENCED);
  assert.equal(
    (
      await coord.initProducerId({
        transactionalId: 'f',
        transactionTimeoutMs: 5000,
        producerId: a.producerId,
        producerEpoch: a.producerEpoch,
      })
    ).errorCode,
    ErrorCode.PRODUCER_FENCED,
    'the zombie cannot bump',
  );
});

test('a transaction open past its timeout is aborted (epoch bumped) by the periodic check', async () => {
  const { coord, clock, markers, store } = setup();
  await coord.finishLoading();
  const a = await coord.initProducerId({
    transactionalId: 'slow',
    transactionTimeoutMs: 2500,
    producerId: -1,
    producerEpoch: -1,
  });
  await coord.addPartitions('slow', a.producerId, a.producerEpoch, [{ topic: 'a', partition: 1 }]);
  clock.advance(2000);
  await settle(coord);
  assert.equal(coord.txns.get('slow')!.state, 'Ongoing');
  clock.advance(1000);
  await settle(coord);
  assert.equal(coord.txns.get('slow')!.state, 'CompleteAbort');
  assert.deepEqual(
    markers.map((m) => [m.topic, m.partition, m.commit, m.producerEpoch]),
    [['a', 1, false, a.producerEpoch + 1]],
  );
  assert.equal(lastValue(store, 'slow')!.producerEpoch, a.producerEpoch + 1);
  assert.equal(await coord.endTxn('slow', a.producerId, a.producerEpoch, true), ErrorCode.PRODUCER_FENCED);
  coord.shutdown();
});

test('idle transactional ids expire after transactional.id.expiration.ms (tombstone)', async () => {
  const { coord, clock, store } = setup();
  await coord.finishLoading();
  await coord.initProducerId({ transactionalId: 'old', transactionTimeoutMs: 5000, producerId: -1, producerEpoch: -1 });
  for (let i = 0; i < 5; i++) {
    clock.advance(10_000);
    await settle(coord);
  }
  assert.ok(coord.txns.has('old'));
  const b = await coord.initProducerId({
    transactionalId: 'busy',
    transactionTimeoutMs: 50_000,
    producerId: -1,
    producerEpoch: -1,
  });
  await coord.addPartitions('busy', b.producerId, b.producerEpoch, [{ topic: 'a', partition: 0 }]);
  for (let i = 0; i < 5; i++) {
    clock.advance(10_000);
    await settle(coord);
  }
  assert.ok(!coord.txns.has('old'));
  assert.ok(store.records.some((r) => r.transactionalId === 'old' && r.value === null));
  assert.ok(!store.records.some((r) => r.transactionalId === 'busy' && r.value === null));
  assert.ok(coord.txns.has('busy'));
  coord.shutdown();
});

test('replay: later records win, tombstones remove, PrepareCommit completes with markers after load', async () => {
  const first = setup();
  const a = await first.coord.initProducerId({
    transactionalId: 'p',
    transactionTimeoutMs: 5000,
    producerId: -1,
    producerEpoch: -1,
  });
  await first.coord.addPartitions('p', a.producerId, a.producerEpoch, [
    { topic: 'a', partition: 0 },
    { topic: 'b', partition: 1 },
  ]);
  await first.coord.initProducerId({
    transactionalId: 'gone',
    transactionTimeoutMs: 5000,
    producerId: -1,
    producerEpoch: -1,
  });
  // Crash after PrepareCommit: write it by hand (what endTxn writes first).
  const md = first.coord.txns.get('p')!;
  const { TxnMetadata } = await import('../../../broker/txn/state.js');
  const { txnLogValue } = await import('../../../broker/txn/records.js');
  first.store.records.push({
    transactionalId: 'p',
    value: txnLogValue(TxnMetadata.toLogValue({ ...md.snapshot(), state: 'PrepareCommit' })),
  });
  first.store.records.push({ transactionalId: 'gone', value: null });

  const second = setup();
  second.coord.loading = true;
  assert.equal(
    (
      await second.coord.initProducerId({
        transactionalId: 'p',
        transactionTimeoutMs: 5000,
        producerId: -1,
        producerEpoch: -1,
      })
    ).errorCode,
    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  );
  for (const r of first.store.records) second.coord.applyRecord(txnLogKey(r.transactionalId), r.value);
  assert.ok(!second.coord.txns.has('gone'));
  assert.equal(second.coord.txns.get('p')!.state, 'PrepareCommit');
  await second.coord.finishLoading();
  assert.deepEqual(second.markers.map((m) => [m.topic, m.partition, m.commit]).sort(), [
    ['a', 0, true],
    ['b', 1, true],
  ]);
  assert.equal(second.coord.txns.get('p')!.state, 'CompleteCommit');
  second.coord.shutdown();
});

test('failed writes change nothing; failed markers are retried while clients get CONCURRENT_TRANSACTIONS', async () => {
  let failing = true;
  const { coord, store, clock, markers } = setup({ failMarkers: () => failing });
  const a = await coord.initProducerId({
    transactionalId: 'w',
    transactionTimeoutMs: 5000,
    producerId: -1,
    producerEpoch: -1,
  });
  store.failNext = true;
  assert.deepEqual(await coord.addPartitions('w', a.producerId, a.producerEpoch, [{ topic: 'a', partition: 0 }]), [
    ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ]);
  assert.equal(coord.txns.get('w')!.state, 'Empty');
  await coord.addPartitions('w', a.producerId, a.producerEpoch, [{ topic: 'a', partition: 0 }]);
  assert.equal(await coord.endTxn('w', a.producerId, a.producerEpoch, true), 0, 'the decision is durable');
  await coord.idle(); // the first attempt failed; a retry is scheduled
  assert.equal(coord.txns.get('w')!.state, 'PrepareCommit');
  assert.equal(await coord.endTxn('w', a.producerId, a.producerEpoch, true), ErrorCode.CONCURRENT_TRANSACTIONS);
  assert.equal(
    (
      await coord.initProducerId({
        transactionalId: 'w',
        transactionTimeoutMs: 5000,
        producerId: -1,
        producerEpoch: -1,
      })
    ).errorCode,
    ErrorCode.CONCURRENT_TRANSACTIONS,
  );
  failing = false;
  clock.advance(500);
  await settle(coord);
  assert.equal(coord.txns.get('w')!.state, 'CompleteCommit');
  assert.equal(markers.length, 1);
});

test('EndTxn answers once PrepareCommit is durable; the id is busy until a held marker is written', {
  timeout: 20_000,
}, async () => {
  const gate = blocker();
  const { coord, store, markers, completed } = setup({
    hold: (topic, partition) => (topic === 'a' && partition === 1 ? gate.hold() : undefined),
  });
  const init = { transactionalId: 'h', transactionTimeoutMs: 5000, producerId: -1, producerEpoch: -1 };
  const { producerId: pid, producerEpoch: ep } = await coord.initProducerId(init);
  await coord.addPartitions('h', pid, ep, [
    { topic: 'a', partition: 0 },
    { topic: 'a', partition: 1 },
  ]);
  assert.equal(await coord.addOffsets('h', pid, ep, 'g'), 0);
  // The marker of a-1 cannot be written: EndTxn answers all the same, the decision being durable.
  assert.equal(await coord.endTxn('h', pid, ep, true), ErrorCode.NONE);
  assert.equal(lastValue(store, 'h')!.state, 'PrepareCommit');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(markers.map((m) => [m.topic, m.partition]).sort(), [
    ['__consumer_offsets', 7],
    ['a', 0],
  ]);
  assert.deepEqual(completed, [], 'transactional offsets wait for every marker');
  // Meanwhile the id's requests are refused with CONCURRENT_TRANSACTIONS (clients retry), a retried commit too.
  assert.equal(await coord.endTxn('h', pid, ep, true), ErrorCode.CONCURRENT_TRANSACTIONS);
  assert.equal(await coord.endTxn('h', pid, ep, false), ErrorCode.CONCURRENT_TRANSACTIONS);
  assert.equal((await coord.initProducerId(init)).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
  assert.deepEqual(await coord.addPartitions('h', pid, ep, [{ topic: 'a', partition: 2 }]), [
    ErrorCode.CONCURRENT_TRANSACTIONS,
  ]);
  assert.equal(await coord.addOffsets('h', pid, ep, 'g'), ErrorCode.CONCURRENT_TRANSACTIONS);
  assert.equal(coord.txns.get('h')!.state, 'PrepareCommit');
  // The destination is reachable again: the transaction completes.
  gate.open();
  await coord.idle();
  assert.equal(coord.txns.get('h')!.state, 'CompleteCommit');
  assert.equal(lastValue(store, 'h')!.state, 'CompleteCommit');
  assert.deepEqual(completed, [[pid, true]]);
  assert.equal(markers.length, 3);
  assert.equal(await coord.endTxn('h', pid, ep, true), ErrorCode.NONE, 'retried commit of a completed transaction');
  assert.equal(await coord.endTxn('h', pid, ep, false), ErrorCode.INVALID_TXN_STATE);
  assert.deepEqual(await coord.initProducerId(init), { errorCode: 0, producerId: pid, producerEpoch: ep + 1 });
});

test('a PrepareAbort retried while its markers are pending gets CONCURRENT_TRANSACTIONS, then NONE', {
  timeout: 20_000,
}, async () => {
  const gate = blocker();
  const { coord } = setup({ hold: () => gate.hold() });
  const { producerId: pid, producerEpoch: ep } = await coord.initProducerId({
    transactionalId: 'ab',
    transactionTimeoutMs: 5000,
    producerId: -1,
    producerEpoch: -1,
  });
  await coord.addPartitions('ab', pid, ep, [{ topic: 'a', partition: 0 }]);
  assert.equal(await coord.endTxn('ab', pid, ep, false), ErrorCode.NONE);
  assert.equal(coord.txns.get('ab')!.state, 'PrepareAbort');
  assert.equal(await coord.endTxn('ab', pid, ep, false), ErrorCode.CONCURRENT_TRANSACTIONS);
  assert.equal(await coord.endTxn('ab', pid, ep + 1, false), ErrorCode.PRODUCER_FENCED);
  gate.open();
  await coord.idle();
  assert.equal(await coord.endTxn('ab', pid, ep, false), ErrorCode.NONE);
  assert.equal(coord.txns.get('ab')!.state, 'CompleteAbort');
});
