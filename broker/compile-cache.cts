/**
 * Runs a CommonJS bundle (broker/bundle.ts builds them) with V8's code cache, so that a process does not
 * parse and compile the broker again each time it starts — the larger part of `runnel start`'s start-up
 * time on Node 20, which has no built-in compile cache (Node 22's module.enableCompileCache does the same
 * thing for every module).
 *
 * The script is compiled with vm.Script and the cached data of an earlier run, if there is one; V8 checks
 * that data (its version, flags and the source) and ignores it when it does not match. When no usable
 * data was given, new data is written once the process has run for WRITE_AFTER_MS (so that the functions
 * compiled while starting are in it) or at exit, whichever comes first.
 *
 * Cache files: `<dir>/<name>-<size>-<mtime>-<node version>-<arch>.v8`: a rebuilt bundle gets a new file
 * (hashing the source would cost more than the rest of loading it). The directory is
 * RUNNEL_COMPILE_CACHE if set ("off" turns the cache off), else `<os tmpdir>/runnel-compile-cache-<uid>`.
 * It is created with mode 0700, and a directory that another user owns or others can write to is not
 * used: code cache is code. Any failure to read or write the cache only means running without it.
 */
import { lstatSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Script, constants as vmConstants } from 'node:vm';

const WRITE_AFTER_MS = 1000;

export interface CompileCacheResult {
  /** The cache file used or to be written; undefined when the cache is off or unusable. */
  cacheFile: string | undefined;
  /** 'hit': V8 took the cached data; 'rejected': it did not match; 'miss': there was none; 'off'. */
  state: 'hit' | 'rejected' | 'miss' | 'off';
  /** The bundle's module.exports. */
  exports: unknown;
  /** Writes the cache now if it is due (the timer and the exit hook call this; tests may too). */
  flush(): void;
}

/** The cache directory for this user, created if needed; undefined when the cache is off or the directory is unsafe. */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const setting = env.RUNNEL_COMPILE_CACHE;
  if (setting === 'off' || setting === '0') return undefined;
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const dir = setting || join(tmpdir(), `runnel-compile-cache-${uid ?? 'user'}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory()) return undefined;
    if (uid !== undefined && (st.uid !== uid || (st.mode & 0o022) !== 0)) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * Whether `bundle` exists and was built after `builtFrom`, the tsc output it bundles: a later plain `tsc`
 * (which rewrites every output) makes a bundle stale, and then the unbundled modules run instead.
 */
export function freshBundle(bundle: string, builtFrom: string): boolean {
  try {
    return statSync(bundle).mtimeMs >= statSync(builtFrom).mtimeMs;
  } catch {
    return false;
  }
}

/** Loads `file` (a CommonJS script) as a module, through the code cache in `cacheDir` (null: no cache). */
export function runWithCompileCache(
  file: string,
  cacheDir: string | null | undefined = compileCacheDir(),
): CompileCacheResult {
  const source = readFileSync(file, 'utf8');
  let cacheFile: string | undefined;
  let cached: Buffer | undefined;
  if (cacheDir) {
    const st = statSync(file);
    cacheFile = join(
      cacheDir,
      `${basename(file)}-${st.size}-${Math.trunc(st.mtimeMs)}-${process.version}-${process.arch}.v8`,
    );
    try {
      cached = readFileSync(cacheFile);
    } catch {
      cached = undefined;
    }
  }
  // A #! line (the bundle keeps the CLI's) is not JavaScript inside the wrapper: comment it out.
  const body = source.startsWith('#!') ? `//${source.slice(2)}` : source;
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${body}\n})`;
  const script = new Script(wrapper, {
    filename: file,
    cachedData: cached,
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const state: CompileCacheResult['state'] = !cacheFile
    ? 'off'
    : !cached
      ? 'miss'
      : script.cachedDataRejected
        ? 'rejected'
        : 'hit';

  let due = state === 'miss' || state === 'rejected';
  const flush = (): void => {
    if (!due || !cacheFile) return;
    due = false;
    try {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      renameSync(tmp, cacheFile);
    } catch {
      // Running without a cache is fine.
    }
  };
  if (due) {
    setTimeout(flush, WRITE_AFTER_MS).unref();
    process.once('exit', flush);
  }

  const module = { exports: {} as unknown, filename: file, id: file, loaded: false };
  const fn = script.runInThisContext() as (e: unknown, r: NodeRequire, m: unknown, f: string, d: string) => void;
  fn.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  module.loaded = true;
  return { cacheFile, state, exports: module.exports, flush };
}
