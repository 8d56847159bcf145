/**
 * Reads Kafka's JSON message specs (JSON with whole-line `//` comments) and builds the model the emitter
 * walks: messages, structs (inline or from `commonStructs`), fields with their version ranges.
 *
 * Ranges are inclusive {min, max}; max = Infinity for "N+"; "none" is the empty range {min: 0, max: -1}.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BadArgumentError } from '../errors.js';

export interface Range {
  min: number;
  max: number;
}

export const EMPTY: Range = { min: 0, max: -1 };

export function parseRange(s: string | undefined): Range {
  if (s === undefined || s === 'none' || s === '') return EMPTY;
  if (s.endsWith('+')) return { min: Number(s.slice(0, -1)), max: Infinity };
  const dash = s.indexOf('-');
  if (dash > 0) return { min: Number(s.slice(0, dash)), max: Number(s.slice(dash + 1)) };
  const n = Number(s);
  if (!Number.isInteger(n)) throw new BadArgumentError(`bad version range ${JSON.stringify(s)}`);
  return { min: n, max: n };
}

export function isEmpty(r: Range): boolean {
  return r.max < r.min;
}

export function intersect(a: Range, b: Range): Range {
  const r = { min: Math.max(a.min, b.min), max: Math.min(a.max, b.max) };
  return isEmpty(r) ? EMPTY : r;
}

export function contains(r: Range, v: number): boolean {
  return v >= r.min && v <= r.max;
}

/** Strip whole-line and trailing `//` comments outside strings, then parse. */
export function parseJsonWithComments(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[++i] ?? '';
      } else if (c === '"') {
        inString = false;
      }
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
      continue;
    }
    out += c;
  }
  return JSON.parse(out);
}

export interface RawField {
  name: string;
  type: string;
  versions: string;
  taggedVersions?: string;
  tag?: number;
  nullableVersions?: string;
  flexibleVersions?: string;
  default?: string | number | boolean;
  ignorable?: boolean;
  about?: string;
  fields?: RawField[];
}

export interface RawMessage {
  apiKey?: number;
  type: 'request' | 'response' | 'header' | 'data';
  name: string;
  validVersions: string;
  flexibleVersions: string;
  latestVersionUnstable?: boolean;
  fields: RawField[];
  commonStructs?: { name: string; versions: string; fields: RawField[] }[];
}

export type Prim =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'uuid'
  | 'records';

const PRIMS = new Set<string>([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'bytes',
  'uuid',
  'records',
]);

export type TypeM = { kind: 'prim'; prim: Prim } | { kind: 'array'; elem: TypeM } | { kind: 'struct'; struct: StructM };

export interface FieldM {
  name: string;
  prop: string;
  type: TypeM;
  versions: Range;
  tagged: Range;
  tag: number | undefined;
  nullable: Range;
  /** Field-level flexibleVersions override (only RequestHeader.ClientId has one). */
  flexOverride: Range | undefined;
  defaultRaw: string | number | boolean | undefined;
  about: string;
}

export interface StructM {
  /** Dotted field-name path from the message root ("" for the root). */
  path: string;
  /** Name of the struct in the spec (message name for the root). */
  specName: string;
  fields: FieldM[];
}

export interface MessageM {
  raw: RawMessage;
  name: string;
  valid: Range;
  flexible: Range;
  root: StructM;
}

export function lowerCamel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export function buildMessage(raw: RawMessage): MessageM {
  const common = new Map<string, RawField[]>();
  for (const c of raw.commonStructs ?? []) common.set(c.name, c.fields);

  const buildStruct = (path: string, specName: string, rawFields: RawField[]): StructM => {
    const fields: FieldM[] = rawFields.map((f) => buildField(path, f));
    return { path, specName, fields };
  };

  const buildType = (path: string, f: RawField, t: string): TypeM => {
    if (t.startsWith('[]')) return { kind: 'array', elem: buildType(path, f, t.slice(2)) };
    if (PRIMS.has(t)) return { kind: 'prim', prim: t as Prim };
    const inline = f.fields;
    const fields = inline ?? common.get(t);
    if (!fields) throw new BadArgumentError(`${raw.name}: unknown struct type ${t} for field ${f.name}`);
    return { kind: 'struct', struct: buildStruct(path, t, fields) };
  };

  const buildField = (parentPath: string, f: RawField): FieldM => {
    const path = parentPath ? `${parentPath}.${f.name}` : f.name;
    return {
      name: f.name,
      prop: lowerCamel(f.name),
      type: buildType(path, f, f.type),
      versions: parseRange(f.versions),
      tagged: parseRange(f.taggedVersions),
      tag: f.tag,
      nullable: parseRange(f.nullableVersions),
      flexOverride: f.flexibleVersions !== undefined ? parseRange(f.flexibleVersions) : undefined,
      defaultRaw: f.default,
      about: f.about ?? '',
    };
  };

  return {
    raw,
    name: raw.name,
    valid: parseRange(raw.validVersions),
    flexible: parseRange(raw.flexibleVersions),
    root: buildStruct('', raw.name, raw.fields ?? []),
  };
}

export function loadSpecDir(dir: string): Map<string, RawMessage> {
  const out = new Map<string, RawMessage>();
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.json')) continue;
    const raw = parseJsonWithComments(readFileSync(join(dir, f), 'utf8')) as RawMessage;
    out.set(raw.name, raw);
  }
  return out;
}
