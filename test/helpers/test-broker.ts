/**
 * An in-process broker for handler tests (random port, temp data dir, silent logs) and helpers to send
 * one request and decode its response with the generated codec.
 */
import { pino } from 'pino';
import { startBroker, type RunningBroker, type StartBrokerOptions } from '../../broker/index.js';
import { setRootLogger } from '../../broker/logger.js';
import type { Reader } from '../../protocol/wire/reader.js';
import type { Writer } from '../../protocol/wire/writer.js';
import { RawClient } from './raw-client.js';

setRootLogger(pino({ level: process.env.RUNNEL_TEST_LOG ?? 'silent' }));

export async function testBroker(opts: StartBrokerOptions = {}): Promise<RunningBroker> {
  return startBroker(opts);
}

/** Send one request on `c` and decode its response. */
export async function call<Req, Res>(
  c: RawClient,
  apiKey: number,
  version: number,
  encode: (w: Writer, v: number, req: Req) => void,
  decode: (r: Reader, v: number) => Res,
  req: Req,
  timeoutMs = 10_000,
): Promise<Res> {
  return c.request(apiKey, version, (w) => encode(w, version, req), decode, timeoutMs);
}
