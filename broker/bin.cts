#!/usr/bin/env node
/**
 * The `runnel` executable (package.json "bin"). Runs the CLI from its bundles (built by broker/bundle.ts)
 * through the compile cache (broker/compile-cache.cts), so that a start compiles one file from V8's code
 * cache instead of parsing and compiling some 200 modules: dist/bundle/start.cjs for `runnel start`
 * (broker/start.ts), dist/bundle/cli.cjs for every other command (broker/cli.ts). Without a bundle, or
 * with one older than the tsc output (a plain `tsc` after `npm run build`), it runs broker/cli.ts's output
 * instead; both behave the same.
 */
import { join } from 'node:path';
import { freshBundle, runWithCompileCache } from './compile-cache.cjs';

// CommonJS (a .cts file) so that starting needs no ES module loader: it is some milliseconds of a start.
const isStart = process.argv[2] === 'start';
const bundle = join(__dirname, '..', 'bundle', isStart ? 'start.cjs' : 'cli.cjs');
if (!freshBundle(bundle, join(__dirname, isStart ? 'start.js' : 'cli.js'))) void import('./cli.js');
else {
  const { exports } = runWithCompileCache(bundle);
  // start.cjs exports main(); cli.cjs runs on load.
  if (isStart) (exports as { main(argv: string[]): void }).main(process.argv);
}
