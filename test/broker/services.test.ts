/**
 * The typed services handlers get (broker/services.ts): built once by Broker.start, read live where the
 * Broker's fields change after start (authorizer, test hooks), a stop signal per start, gone once stopped;
 * and no handler reaches the Broker itself (no `ctx.broker`, no `as Broker`, no import of broker.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startBroker } from '../../broker/index.js';
import { setRootLogger } from '../../broker/logger.js';
import { NotStartedError } from '../../protocol/errors.js';
import type { Authorizer } from '../../broker/authorizer.js';

setRootLogger(pino({ level: 'silent' }));

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const handlersDir = join(root, 'broker', 'handlers');

test('no handler casts or imports the Broker: they use ctx.services', {
  skip: !existsSync(handlersDir) && 'no sources next to dist',
}, () => {
  const files = readdirSync(handlersDir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 40, `expected the handler sources, found ${files.length} files`);
  const forbidden: [RegExp, string][] = [
    [/\bas\s+Broker\b/, '`as Broker`'],
    [/\bctx\.broker\b/, '`ctx.broker`'],
    [/from\s+'\.\.\/broker\.js'/, "an import of '../broker.js'"],
  ];
  const found: string[] = [];
  for (const f of files) {
    const lines = readFileSync(join(handlersDir, f), 'utf8').split(/\r?\n/);
    lines.forEach((line, i) => {
      for (const [re, what] of forbidden) if (re.test(line)) found.push(`broker/handlers/${f}:${i + 1}: ${what}`);
    });
  }
  assert.deepEqual(found, []);
  const usesServices = files.filter((f) => readFileSync(join(handlersDir, f), 'utf8').includes('ctx.services'));
  assert.ok(usesServices.length > 40, `expected most handlers to use ctx.services, found ${usesServices.length}`);
});

test('services: built by start, mutable parts read live, a stop signal per start, gone after stop', async () => {
  const b = await startBroker({ topics: ['svc'] });
  try {
    const s = b.broker.services;
    assert.equal(s.nodeId, b.broker.started.nodeId);
    assert.equal(s.dataDir, b.broker.started.dataDir);
    assert.equal(s.metadata, b.broker.metadata);
    assert.equal(s.partitions, b.broker.replicaManager);
    assert.equal(s.groups, b.broker.groups);
    assert.equal(s.transactions, b.broker.transactions);
    assert.equal(s.metadata.image.topic('svc')!.partitions, 1);
    assert.equal(typeof s.partitions.getPartition('svc', 0), 'object');

    assert.equal(s.authorizer, undefined);
    const fake: Authorizer = {
      authorize: (_c, actions) => actions.map(() => true),
      acls: () => [],
      createAcls: async () => [],
      deleteAcls: async () => [],
    };
    b.broker.authorizer = fake;
    assert.equal(s.authorizer, fake);
    b.broker.authorizer = undefined;
    assert.equal(s.authorizer, undefined);

    const hook = (): boolean => false;
    b.broker.dropProduceResponse = hook;
    assert.equal(s.testHooks.dropProduceResponse, hook);
    b.broker.dropProduceResponse = undefined;

    assert.equal(s.stopping.aborted, false);
    assert.equal(b.broker.stopping, false);
    await b.broker.stop();
    assert.equal(s.stopping.aborted, true);
    assert.equal(b.broker.stopping, true);
    assert.throws(() => b.broker.services, NotStartedError);

    // The same Broker started again: new services, not stopping.
    await b.broker.start();
    const again = b.broker.services;
    assert.notEqual(again, s);
    assert.equal(again.stopping.aborted, false);
    assert.equal(b.broker.stopping, false);
    assert.equal(again.metadata.image.topic('svc')!.partitions, 1);
  } finally {
    await b.stop();
  }
});
