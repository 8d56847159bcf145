/**
 * Build step (`npm run build`, after tsc). Makes the package.json "bin" (dist/broker/bin.cjs) executable:
 * tsc writes it 0644, and npm sets a bin's mode only when it links it at install time, not again after a
 * rebuild of a package that a link points at (`npm test` deletes dist/).
 * Bundles each entry with everything it imports into one CommonJS script, which broker/bin.cts runs
 * through the compile cache: dist/bundle/start.cjs (broker/start.ts, `runnel start`), dist/bundle/cli.cjs
 * (broker/cli.ts, every other command; with commander) and dist/bundle/index.cjs (broker/index.ts, the
 * embedded API that broker/entry.ts exports). The other dependencies stay outside the bundle and are
 * loaded from node_modules when used: native addons (CRC-32C, compression codecs, msgpackr's extractor)
 * and what loads only on demand (fastify, prom-client, pino-pretty). `import.meta.url` in the bundled
 * modules becomes the bundle's own URL, which resolves packages the same way (the createRequire calls in
 * logger, crc and replication/metadata/local-files).
 * Usage: node dist/broker/bundle.js
 */
import { chmodSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { InternalError } from '../protocol/errors.js';

/** Dependencies compiled into the bundle (needed by every start); the rest stay external. */
const BUNDLED = new Set(['pino', 'commander', 'crc-32']);

/** The specifiers of the import() calls left in a bundle's source. */
export function dynamicImportsLeft(source: string): string[] {
  return [...new Set([...source.matchAll(/\bimport\(\s*["'`]([^"'`]+)/g)].map((m) => m[1]))];
}

export async function buildBundles(root: string): Promise<string[]> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    bin?: Record<string, string>;
  };
  for (const bin of Object.values(pkg.bin ?? {})) chmodSync(join(root, bin), 0o755);
  const external = Object.keys(pkg.dependencies ?? {}).filter((d) => !BUNDLED.has(d));
  const entries = {
    'start.cjs': 'dist/broker/start.js',
    'cli.cjs': 'dist/broker/cli.js',
    'index.cjs': 'dist/broker/index.js',
  };
  const outfiles: string[] = [];
  for (const [out, entry] of Object.entries(entries)) {
    const outfile = join(root, 'dist/bundle', out);
    await build({
      entryPoints: [join(root, entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external,
      define: { 'import.meta.url': '__runnelBundleUrl' },
      banner: { js: "const __runnelBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
      // Whitespace and syntax only (names stay, so stack traces and error class names read as in the source):
      // a smaller script is read, hashed against its code cache and deserialized faster at start.
      minifyWhitespace: true,
      minifySyntax: true,
      logLevel: 'warning',
    });
    // An import() left in the script (of an external package or a node: module) cannot run in a vm.Script
    // compiled from code cache ("A dynamic import callback was not specified"): such modules use require.
    const left = dynamicImportsLeft(readFileSync(outfile, 'utf8'));
    if (left.length)
      throw new InternalError(`${out}: import() of ${left.join(', ')} stays in the bundle; load it with require`);
    outfiles.push(outfile);
  }
  return outfiles;
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && resolve(process.argv[1]) === self) {
  const root = resolve(dirname(self), '../..');
  buildBundles(root).then(
    (files) => process.stdout.write(`bundled ${files.map((f) => f.slice(root.length + 1)).join(', ')}\n`),
    (err: Error) => {
      process.stderr.write(`bundle: ${err.message}\n`);
      process.exit(1);
    },
  );
}
