/**
 * Code generator entry point: `npm run gen:protocol` (or `node dist/protocol/codegen/main.js [specRoot]`).
 *
 * Reads `<specRoot>/message` (Kafka 4.1.1) and `<specRoot>/message-3.9.1` (older versions that Kafka 4
 * removed) and writes:
 *   protocol/generated/<message>.ts     one module per message (requests, responses, headers, data types)
 *   protocol/generated/apis.ts          API key table: names, version ranges, flexible versions, modules
 *   protocol/generated/error-codes.ts   Kafka error codes (from errors.json) as data
 *   test/helpers/samples/<message>.ts   random sample values per message and version (round-trip tests)
 * The specs themselves are never copied into this repository.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMessage, isEmpty, loadSpecDir, type RawMessage } from './spec.js';
import { BANNER, kebab, ModuleEmitter } from './emit.js';

/** 3.9.1-only versions of these are ZooKeeper-era or early-access and are not served to clients. */
const NO_LEGACY = new Set([
  'LeaderAndIsr',
  'StopReplica',
  'UpdateMetadata',
  'ControlledShutdown',
  'AlterPartition',
  'ShareGroupHeartbeat',
  'ShareGroupDescribe',
  'ShareFetch',
  'ShareAcknowledge',
]);

export const GENERATED_DIRS = ['protocol/generated', 'test/helpers/samples'];

export function generate(specRoot: string): Map<string, string> {
  const current = loadSpecDir(join(specRoot, 'message'));
  const old = loadSpecDir(join(specRoot, 'message-3.9.1'));
  const files = new Map<string, string>();
  interface ApiRow {
    key: number;
    name: string;
    min: number;
    max: number;
    flexMin: number;
    unstableMax: boolean;
  }
  const apis = new Map<number, ApiRow>();

  for (const [name, raw] of current) {
    const primary = buildMessage(raw);
    if (isEmpty(primary.valid)) continue; // keys 4-7: reserved, no longer part of the protocol
    const base = name.replace(/(Request|Response)$/, '');
    const legacyRaw: RawMessage | undefined = NO_LEGACY.has(base) ? undefined : old.get(name);
    const legacy = legacyRaw ? buildMessage(legacyRaw) : undefined;
    const em = new ModuleEmitter(primary, legacy);
    files.set(`protocol/generated/${kebab(name)}.ts`, em.emitModule());
    files.set(`test/helpers/samples/${kebab(name)}.ts`, em.emitSamples());
    if (raw.type === 'request' && raw.apiKey !== undefined) {
      apis.set(raw.apiKey, {
        key: raw.apiKey,
        name: base,
        min: em.minVersion,
        max: em.maxVersion,
        flexMin: isEmpty(primary.flexible) ? Infinity : primary.flexible.min,
        unstableMax: raw.latestVersionUnstable === true,
      });
    }
  }

  const rows = [...apis.values()].sort((a, b) => a.key - b.key);
  const out: string[] = [BANNER];
  out.push('/**');
  out.push(' * Every Kafka API the codec knows: key, name, the versions it can decode and encode (Kafka 4.1.1');
  out.push(' * definitions, extended down with 3.9.1 ones where Kafka 4 removed old versions), the first flexible');
  out.push(' * version, and the generated modules. What the broker advertises is a separate, smaller registry.');
  out.push(' */');
  out.push('');
  out.push('export interface ApiInfo {');
  out.push('  readonly key: number;');
  out.push('  readonly name: string;');
  out.push('  readonly minVersion: number;');
  out.push('  readonly maxVersion: number;');
  out.push(
    '  /** First flexible version (compact encodings, tagged fields, request header v2, response header v1). */',
  );
  out.push('  readonly flexibleMin: number;');
  out.push('  /** Kafka marks the highest version as unstable (not advertised by a normal broker). */');
  out.push('  readonly latestVersionUnstable: boolean;');
  out.push('  /** Module names under protocol/generated (without extension). */');
  out.push('  readonly requestModule: string;');
  out.push('  readonly responseModule: string;');
  out.push('}');
  out.push('');
  out.push('export const APIS: readonly ApiInfo[] = [');
  for (const a of rows) {
    out.push(
      `  { key: ${a.key}, name: '${a.name}', minVersion: ${a.min}, maxVersion: ${a.max}, ` +
        `flexibleMin: ${a.flexMin === Infinity ? 'Infinity' : a.flexMin}, latestVersionUnstable: ${a.unstableMax}, ` +
        `requestModule: '${kebab(`${a.name}Request`)}', responseModule: '${kebab(`${a.name}Response`)}' },`,
    );
  }
  out.push('];');
  out.push('');
  out.push('const BY_KEY: (ApiInfo | undefined)[] = [];');
  out.push('for (const a of APIS) BY_KEY[a.key] = a;');
  out.push('');
  out.push('export function apiInfo(key: number): ApiInfo | undefined {');
  out.push('  return key >= 0 ? BY_KEY[key] : undefined;');
  out.push('}');
  out.push('');
  out.push('/** Request header version for a request: 2 when the request version is flexible, else 1. */');
  out.push('export function requestHeaderVersion(key: number, version: number): 1 | 2 {');
  out.push('  const a = apiInfo(key);');
  out.push('  return a !== undefined && version >= a.flexibleMin ? 2 : 1;');
  out.push('}');
  out.push('');
  out.push(
    '/** Response header version: 1 when the response version is flexible, else 0; ApiVersions (18) always 0. */',
  );
  out.push('export function responseHeaderVersion(key: number, version: number): 0 | 1 {');
  out.push('  if (key === 18) return 0;');
  out.push('  const a = apiInfo(key);');
  out.push('  return a !== undefined && version >= a.flexibleMin ? 1 : 0;');
  out.push('}');
  out.push('');
  out.push('/** Every generated message module (requests, responses, headers, data types). */');
  out.push(
    `export const MESSAGE_MODULES: readonly string[] = [${[...files.keys()]
      .filter((f) => f.startsWith('protocol/'))
      .map((f) => `'${f.slice('protocol/generated/'.length, -3)}'`)
      .sort()
      .join(', ')}];`,
  );
  out.push('');
  files.set('protocol/generated/apis.ts', out.join('\n'));
  files.set('protocol/generated/error-codes.ts', errorCodes(specRoot));
  return files;
}

function errorCodes(specRoot: string): string {
  const errors = JSON.parse(readFileSync(join(specRoot, 'errors.json'), 'utf8')) as {
    code: number;
    name: string;
    retriable: boolean;
  }[];
  const out: string[] = [BANNER];
  out.push('/** Kafka protocol error codes, as data: handlers put them in responses. */');
  out.push('export const ErrorCode = {');
  for (const e of errors) out.push(`  ${e.name}: ${e.code},`);
  out.push('} as const;');
  out.push('');
  out.push('export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];');
  out.push('');
  out.push('/** Codes whose errors Kafka marks retriable. */');
  out.push(
    `export const RETRIABLE_ERROR_CODES: ReadonlySet<number> = new Set([${errors
      .filter((e) => e.retriable)
      .map((e) => e.code)
      .join(', ')}]);`,
  );
  out.push('');
  out.push('const NAMES = new Map<number, string>([');
  for (const e of errors) out.push(`  [${e.code}, '${e.name}'],`);
  out.push(']);');
  out.push('');
  out.push('export function errorName(code: number): string {');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: this line emits a template literal into the generated file
  out.push('  return NAMES.get(code) ?? `UNKNOWN_ERROR_${code}`;');
  out.push('}');
  out.push('');
  return out.join('\n');
}

export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}

function main(): void {
  const root = repoRoot();
  const specRoot = resolve(process.argv[2] ?? join(root, '..', 'shared', 'kafka-protocol'));
  if (!existsSync(join(specRoot, 'message'))) {
    process.stderr.write(`spec folder not found: ${specRoot}/message\n`);
    process.exit(2);
  }
  const files = generate(specRoot);
  for (const d of GENERATED_DIRS) {
    const dir = join(root, d);
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) {
      if (f.endsWith('.ts') && !files.has(`${d}/${f}`)) rmSync(join(dir, f));
    }
  }
  for (const [rel, text] of files) writeFileSync(join(root, rel), text);
  process.stdout.write(`generated ${files.size} files from ${specRoot}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
