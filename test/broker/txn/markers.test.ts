/**
 * TxnMarkerSender (broker/txn/markers.ts) against one real broker standing for "the leader elsewhere" (node 0 in
 * a stub metadata image; the sender is node 99): markers of one transaction for that broker go in one
 * WriteTxnMarkers request, partitions led by the sender are appended locally, unknown leaders / unreachable
 * brokers / UNKNOWN_TOPIC_OR_PARTITION are retried (the leader re-read from the image), a partition gone from the
 * image ends the write, a fenced marker is skipped, and close() / an abort signal end what is still retried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { partitionOf } from '../../helpers/partitions.js';
import { TxnMarkerSender } from '../../../broker/txn/markers.js';
import type { TxnMarker } from '../../../broker/txn/coordinator.js';
import type { MetadataImage } from '../../../replication/metadata/image.js';
import type { ReplicaManager } from '../../../replication/replica-manager.js';
import { SystemClock } from '../../../storage/clock.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { iterateBatches, parseControlRecordKey } from '../../../protocol/records/batch.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const env = useBrokerAndClient({ topics: [{ name: 'm', partitions: 3 }] });
const REMOTE = 0;
const SELF = 99;

/** A stub image: leaders by "topic-partition" and the remote broker's endpoint (port changeable). */
function stubImage(leaders: Map<string, number>, port: () => number): MetadataImage {
  return {
    partition: (topic: string, partition: number) => {
      const leader = leaders.get(`${topic}-${partition}`);
      return leader === undefined ? undefined : { partition, leader };
    },
    endpoint: (id: number) => (id === REMOTE ? { host: '127.0.0.1', port: port() } : undefined),
  } as unknown as MetadataImage;
}

interface Harness {
  sender: TxnMarkerSender;
  leaders: Map<string, number>;
  local: [string, number, TxnMarker][];
  /** WriteTxnMarkers requests served by the broker: partitions per request. */
  requests: string[][];
  setPort(p: number): void;
}

function harness(): Harness {
  const leaders = new Map<string, number>();
  const local: [string, number, TxnMarker][] = [];
  const requests: string[][] = [];
  let port = env.broker.port;
  env.broker.broker.requestObserver = (e) => {
    if (e.apiKey !== 27) return;
    const req = e.request as { markers: { topics: { name: string; partitionIndexes: number[] }[] }[] };
    requests.push(req.markers.flatMap((m) => m.topics.flatMap((t) => t.partitionIndexes.map((p) => `${t.name}-${p}`))));
  };
  const partitions = {
    appendTxnMarker: async (topic: string, partition: number, marker: TxnMarker) => {
      local.push([topic, partition, marker]);
      return { errorCode: ErrorCode.NONE, baseOffset: 0, lastOffset: 0 };
    },
  } as unknown as Pick<ReplicaManager, 'appendTxnMarker'>;
  const image = stubImage(leaders, () => port);
  const sender = new TxnMarkerSender({
    nodeId: SELF,
    clustered: true,
    image: () => image,
    partitions,
    clock: new SystemClock(),
    log: pino({ level: 'silent' }),
    backoffMs: 20,
  });
  return {
    sender,
    leaders,
    local,
    requests,
    setPort: (p) => {
      port = p;
    },
  };
}

/** Open a transaction of `pid` on m-partition on the broker. */
async function openTxn(pid: number, partition: number, seq: number): Promise<void> {
  const batch = await buildRecordBatch([{ value: `v${seq}` }], {
    producerId: BigInt(pid),
    producerEpoch: 0,
    baseSequence: seq,
    transactional: true,
  });
  await partitionOf(env.broker.broker, 'm', partition).appendAsLeader(batch);
}

/** Control records of m-partition for `pid`: 1 COMMIT, 0 ABORT. */
async function markerTypes(partition: number, pid: number): Promise<number[]> {
  const log = env.broker.broker.logs.getLog('m', partition)!;
  const res = await log.read(0, 1 << 20, { maxOffset: log.logEndOffset });
  const out: number[] = [];
  for (const b of iterateBatches(res.records)) {
    if (!b.isControl || b.producerId !== BigInt(pid)) continue;
    const [rec] = await b.recordsArray();
    out.push(parseControlRecordKey(rec!.key).type);
  }
  return out;
}

const marker = (producerId: number, commit: boolean, coordinatorEpoch = 0): TxnMarker => ({
  producerId,
  producerEpoch: 0,
  coordinatorEpoch,
  commit,
});

test("one transaction's markers for a broker share one request; its own partitions are appended locally", async () => {
  const h = harness();
  try {
    for (const p of [0, 1, 2]) {
      h.leaders.set(`m-${p}`, REMOTE);
      await openTxn(100, p, 0);
    }
    h.leaders.set('own-0', SELF);
    const m = marker(100, true);
    await Promise.all([
      h.sender.write('m', 0, m),
      h.sender.write('m', 1, m),
      h.sender.write('m', 2, m),
      h.sender.write('own', 0, m),
    ]);
    assert.deepEqual(h.requests, [['m-0', 'm-1', 'm-2']], 'one WriteTxnMarkers request with the three partitions');
    assert.deepEqual(h.local, [['own', 0, m]]);
    for (const p of [0, 1, 2]) {
      assert.deepEqual(await markerTypes(p, 100), [1], `COMMIT on m-${p}`);
      const log = env.broker.broker.logs.getLog('m', p)!;
      assert.equal(log.lastStableOffset, log.logEndOffset);
    }
  } finally {
    h.sender.close();
  }
});

test('unknown leader, unreachable broker, UNKNOWN_TOPIC_OR_PARTITION are retried; a gone partition ends', async () => {
  const h = harness();
  try {
    await openTxn(200, 0, 0);
    // Leader unknown at first, then the remote broker at a port nobody listens on, then the real one.
    h.leaders.set('m-0', -1);
    h.setPort(1);
    const written = h.sender.write('m', 0, marker(200, false));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(h.requests.length, 0);
    h.leaders.set('m-0', REMOTE);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(h.requests.length, 0, 'nothing reached the broker yet');
    h.setPort(env.broker.port);
    await written;
    assert.deepEqual(await markerTypes(0, 200), [0], 'ABORT written once the leader was reachable');

    // The image knows a topic the leader has not created yet: retried until it exists there.
    h.leaders.set('late-0', REMOTE);
    const late = h.sender.write('late', 0, marker(201, true));
    const deadline = Date.now() + 10_000;
    while (h.requests.filter((r) => r.includes('late-0')).length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(h.requests.filter((r) => r.includes('late-0')).length >= 2, 'retried');
    await env.broker.broker.metadata.createTopic('late', { partitions: 1 });
    await late;
    const log = env.broker.broker.logs.getLog('late', 0)!;
    assert.equal(log.logEndOffset, 1, 'the marker landed once the partition existed');

    // Gone from the image: done without a request.
    const before = h.requests.length;
    h.leaders.set('gone-0', -1);
    const gone = h.sender.write('gone', 0, marker(202, true));
    h.leaders.delete('gone-0');
    await gone;
    assert.equal(h.requests.length, before);
  } finally {
    h.sender.close();
  }
});

test('a fenced marker is skipped; close() and an abort signal end the writes still retried', async () => {
  const h = harness();
  try {
    h.leaders.set('m-1', REMOTE);
    await openTxn(300, 1, 0);
    await h.sender.write('m', 1, marker(300, true, 5));
    await openTxn(300, 1, 1);
    // Older coordinator epoch: TRANSACTION_COORDINATOR_FENCED at the leader, nothing more to do.
    await h.sender.write('m', 1, marker(300, false, 4));
    assert.deepEqual(await markerTypes(1, 300), [1], 'only the first marker was written');

    h.leaders.set('nowhere-0', -1);
    const ac = new AbortController();
    const aborted = h.sender.write('nowhere', 0, marker(301, true), ac.signal);
    const closed = h.sender.write('nowhere', 0, marker(302, true));
    ac.abort();
    await assert.rejects(aborted, /abandoned/);
    h.sender.close();
    await assert.rejects(closed, /abandoned/);
    await assert.rejects(h.sender.write('m', 1, marker(303, true)), /abandoned/, 'a closed sender writes nothing');
  } finally {
    h.sender.close();
  }
});
