/**
 * The package's entry point (`import { startBroker, startCluster } from 'runnel'`): broker/index.ts's API,
 * loaded from its bundle (dist/bundle/index.cjs, built by broker/bundle.ts) through the compile cache
 * (broker/compile-cache.cts). Importing it takes one file compiled from V8's code cache instead of some
 * 200 modules parsed and compiled, and the functions a first startBroker() ran come precompiled from the
 * second process on. Without a bundle, or with one older than the tsc output (a plain `tsc` after
 * `npm run build`), it re-exports broker/index.ts itself.
 * The types are broker/index.ts's (package.json "types").
 */
import { fileURLToPath } from 'node:url';
import { freshBundle, runWithCompileCache } from './compile-cache.cjs';
import type * as Api from './index.js';

const bundle = fileURLToPath(new URL('../bundle/index.cjs', import.meta.url));
const fresh = freshBundle(bundle, fileURLToPath(new URL('./index.js', import.meta.url)));
const api: typeof Api = fresh ? (runWithCompileCache(bundle).exports as typeof Api) : await import('./index.js');

export const { startBroker, startCluster, Broker, BrokerConfig, CONFIG_DEFS } = api;
