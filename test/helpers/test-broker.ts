/**
 * An in-process broker for handler tests (random port, temp data dir, silent logs) and helpers to send
 * one request and decode its response with the generated codec.
 */
import { after, before } from 'node:test';
import { rm } from 'node:fs/promises';
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

export interface BrokerAndClientOptions extends StartBrokerOptions {
  /** Runs once the broker is up and the client connected: before the tests, and again after each restart(). */
  setup?: (broker: RunningBroker, client: RawClient) => Promise<void>;
  /** Runs before the client is closed and the broker stopped: after the tests, and before each restart(). */
  teardown?: (broker: RunningBroker, client: RawClient) => Promise<void>;
}

export interface BrokerAndClient {
  /** The running broker; only inside tests and hooks (it starts in a before() hook). */
  readonly broker: RunningBroker;
  /** A RawClient connected to `broker`; only inside tests and hooks. */
  readonly client: RawClient;
  /** Close the client, stop the broker and start it again on the same data directory, with a new client. */
  restart(): Promise<void>;
}

/**
 * The common handler-test fixture: registers node:test hooks that start a test broker (`opts` as for
 * testBroker) and connect one RawClient before the tests of the file, and close and stop them after.
 * Preparation that needs them goes in `setup`, not in a before() hook of the file: Node 20 runs top-level
 * before() hooks at once, without waiting for the earlier ones.
 */
export function useBrokerAndClient(opts: BrokerAndClientOptions = {}): BrokerAndClient {
  const { setup, teardown, ...startOpts } = opts;
  let broker: RunningBroker | undefined;
  let client: RawClient | undefined;
  /**
   * The temporary data directory of the first broker once restart() has taken it over (stop() no longer removes
   * it).
   */
  let keptDir: string | undefined;

  async function start(dataDir?: string): Promise<void> {
    broker = await testBroker(dataDir === undefined ? startOpts : { ...startOpts, dataDir });
    client = await RawClient.connect(broker.port);
    await setup?.(broker, client);
  }
  async function beforeStop(): Promise<void> {
    if (broker && client) await teardown?.(broker, client);
    client?.close();
    client = undefined;
  }

  before(() => start());
  after(async () => {
    await beforeStop();
    await broker?.stop();
    broker = undefined;
    if (keptDir) await rm(keptDir, { recursive: true, force: true });
  });

  function running(): RunningBroker {
    if (!broker) throw new Error('useBrokerAndClient: the broker runs only between its before() and after() hooks');
    return broker;
  }

  return {
    get broker(): RunningBroker {
      return running();
    },
    get client(): RawClient {
      if (!client)
        throw new Error('useBrokerAndClient: the client is connected only between its before() and after() hooks');
      return client;
    },
    async restart(): Promise<void> {
      if (startOpts.storage === 'memory') throw new Error('useBrokerAndClient: restart() needs disk storage');
      const old = running();
      await beforeStop();
      broker = undefined;
      if (startOpts.dataDir === undefined) {
        // Its own temporary directory, which old.stop() would remove: keep it for the next broker until after().
        keptDir = old.dataDir;
        await old.broker.stop();
      } else {
        await old.stop();
      }
      await start(old.dataDir);
    },
  };
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
