/**
 * Runnel's client over SASL (client/sasl.ts, client/connection.ts `sasl`): a Connection authenticates with
 * PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 and is then served; a wrong password rejects open().
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../client/connection.js';
import type { SaslOptions } from '../../client/sasl.js';
import { encodeMetadataRequest, defaultMetadataRequest } from '../../protocol/generated/metadata-request.js';
import { decodeMetadataResponse } from '../../protocol/generated/metadata-response.js';
import type { RunningBroker } from '../../broker/index.js';
import { saslBroker, saslPort } from '../helpers/sasl.js';

let b: RunningBroker;
before(async () => {
  b = await saslBroker();
});
after(async () => {
  await b.stop();
});

const open = (sasl: SaslOptions) =>
  Connection.open({
    host: '127.0.0.1',
    port: saslPort(b),
    clientId: 'sasl-client',
    connectTimeoutMs: 5000,
    requestTimeoutMs: 5000,
    sasl,
  });

test('Connection with sasl: PLAIN and SCRAM authenticate, then Metadata is served', async () => {
  for (const sasl of [
    { mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' },
    { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin-secret' },
    { mechanism: 'SCRAM-SHA-512', username: 'admin', password: 'admin-secret' },
  ] as const) {
    const c = await open(sasl);
    try {
      const md = await c.send(
        3,
        9,
        (w) => encodeMetadataRequest(w, 9, { ...defaultMetadataRequest(), topics: [] }),
        decodeMetadataResponse,
      );
      assert.equal(md.brokers.length, 1, sasl.mechanism);
    } finally {
      c.close();
    }
  }
});

test('Connection with sasl: a wrong password rejects open() with the broker error', async () => {
  await assert.rejects(
    open({ mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'x' }),
    /SASL_AUTHENTICATION_FAILED/,
  );
  await assert.rejects(open({ mechanism: 'PLAIN', username: 'alice', password: 'x' }), /Invalid username or password/);
});
