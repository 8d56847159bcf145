/**
 * Emits one TypeScript module per Kafka message: interfaces (the union of all versions' fields),
 * `defaultX()` builders, and one `decodeX`/`encodeX` pair covering every version in straight-line code
 * (version checks, no schema interpretation at run time). Versions that only Kafka 3.9.1 describes get a
 * second ("legacy") set of struct functions built from the 3.9.1 spec, filling the same interfaces.
 * Also emits a sample-value builder per message for the round-trip tests.
 *
 * The struct decoders and encoders are emitted by emit-decode.ts and emit-encode.ts; shared model and
 * version-condition helpers are in emit-shared.ts.
 */
import { isEmpty, intersect, type Range, type StructM, type FieldM, type TypeM, type MessageM } from './spec.js';
import { BadArgumentError } from '../errors.js';
import {
  BANNER,
  baseName,
  cond,
  kebab,
  NUMERIC,
  type EmitContext,
  type Iface,
  type MergedField,
  type Variant,
} from './emit-shared.js';
import { emitReadStruct } from './emit-decode.js';
import { emitWriteStruct } from './emit-encode.js';

export { BANNER, kebab } from './emit-shared.js';

export class ModuleEmitter implements EmitContext {
  private readonly ifaces = new Map<string, Iface>();
  private readonly byPath = new Map<string, Iface>();
  readonly structIface = new Map<StructM, Iface>();
  readonly needsIsDefault = new Set<Iface>();
  private readonly variants: Variant[] = [];
  private readonly prefix: string;

  constructor(
    private readonly primary: MessageM,
    legacy: MessageM | undefined,
  ) {
    this.prefix = baseName(primary.name);
    this.variants.push({ suffix: '', msg: primary, lo: primary.valid.min, hi: primary.valid.max });
    if (legacy && legacy.valid.min < primary.valid.min) {
      this.variants.push({ suffix: 'Legacy', msg: legacy, lo: legacy.valid.min, hi: primary.valid.min - 1 });
    }
    for (const va of this.variants) this.collect(va.msg.root, va);
  }

  get minVersion(): number {
    return Math.min(...this.variants.map((v) => v.lo));
  }

  get maxVersion(): number {
    return this.primary.valid.max;
  }

  private ifaceName(s: StructM): string {
    if (s.path === '') return this.primary.name;
    return s.specName.startsWith(this.prefix) ? s.specName : this.primary.name + s.specName;
  }

  private collect(s: StructM, va: Variant): Iface {
    let iface = this.byPath.get(s.path);
    if (!iface) {
      const name = this.ifaceName(s);
      iface = this.ifaces.get(name);
      if (!iface) {
        iface = { name, fields: [], byProp: new Map(), primary: va.suffix === '' ? s : undefined };
        this.ifaces.set(name, iface);
      }
      this.byPath.set(s.path, iface);
    }
    this.structIface.set(s, iface);
    for (const f of s.fields) {
      const inRange = !isEmpty(intersect(f.versions, { min: va.lo, max: va.hi }));
      if (!inRange && va.suffix !== '') continue;
      const ts = this.tsType(f, va);
      if (!iface.byProp.has(f.prop)) {
        const mf: MergedField = { prop: f.prop, ts, def: this.defaultExpr(f, f.type), about: f.about };
        iface.fields.push(mf);
        iface.byProp.set(f.prop, mf);
      }
    }
    return iface;
  }

  elemTs(t: TypeM, va: Variant): string {
    switch (t.kind) {
      case 'prim':
        switch (t.prim) {
          case 'bool':
            return 'boolean';
          case 'int64':
            return 'bigint';
          case 'string':
          case 'uuid':
            return 'string';
          case 'bytes':
          case 'records':
            return 'Buffer';
          default:
            return 'number';
        }
      case 'array':
        return `${this.elemTs(t.elem, va)}[]`;
      case 'struct':
        return this.collect(t.struct, va).name;
    }
  }

  private tsType(f: FieldM, va: Variant): string {
    const base = this.elemTs(f.type, va);
    const nullable = !isEmpty(f.nullable) || (f.type.kind === 'prim' && f.type.prim === 'records');
    return nullable ? `${base} | null` : base;
  }

  defaultExpr(f: FieldM, t: TypeM): string {
    const d = f.defaultRaw;
    if (d === 'null') return 'null';
    switch (t.kind) {
      case 'array':
        return '[]';
      case 'struct': {
        const iface = this.structIface.get(t.struct) ?? this.byPath.get(t.struct.path);
        return `default${iface ? iface.name : this.ifaceName(t.struct)}()`;
      }
      case 'prim':
        switch (t.prim) {
          case 'bool':
            return d === true || d === 'true' ? 'true' : 'false';
          case 'int64': {
            const s = d === undefined ? '0' : String(d);
            return `${BigInt(s).toString()}n`;
          }
          case 'string':
            return JSON.stringify(d === undefined ? '' : String(d));
          case 'uuid':
            return "'AAAAAAAAAAAAAAAAAAAAAA'";
          case 'bytes':
            return 'EMPTY_BUFFER';
          case 'records':
            return 'null';
          default: {
            if (!NUMERIC.has(t.prim)) throw new BadArgumentError(`no default for ${t.prim}`);
            const n = d === undefined ? 0 : Number(d);
            if (!Number.isFinite(n)) throw new BadArgumentError(`bad default ${String(d)} for ${f.name}`);
            return String(n);
          }
        }
    }
  }

  // ---------- samples (for tests) ----------

  private samplePrim(prim: string): string {
    return `g.${prim}()`;
  }

  private sampleExpr(t: TypeM, nullC: string, va: Variant): string {
    let e: string;
    switch (t.kind) {
      case 'prim':
        e = this.samplePrim(t.prim);
        break;
      case 'struct':
        e = `s${this.structIface.get(t.struct)!.name}${va.suffix}(v, g)`;
        break;
      case 'array':
        e = `g.array(() => ${this.sampleExpr(t.elem, 'never', va)})`;
        break;
    }
    if (nullC === 'never') return e;
    if (nullC === 'always') return `g.maybeNull(() => ${e})`;
    return `${nullC} ? g.maybeNull(() => ${e}) : ${e}`;
  }

  private emitSampleStruct(out: string[], s: StructM, va: Variant, emitted: Set<string>): void {
    const iface = this.structIface.get(s)!;
    const fnName = `s${iface.name}${va.suffix}`;
    if (emitted.has(fnName)) return;
    emitted.add(fnName);
    const S: Range = { min: va.lo, max: va.hi };
    const body: string[] = [];
    const nested: StructM[] = [];
    const noteNested = (t: TypeM): void => {
      if (t.kind === 'struct') nested.push(t.struct);
      if (t.kind === 'array') noteNested(t.elem);
    };
    for (const f of s.fields) {
      const V = intersect(f.versions, S);
      if (isEmpty(V)) continue;
      noteNested(f.type);
      const c = cond(V, S);
      const line = `o.${f.prop} = ${this.sampleExpr(f.type, cond(f.nullable, V), va)};`;
      body.push(c === 'always' ? `  ${line}` : `  if (${c}) ${line}`);
    }
    out.push(`function ${fnName}(v: number, g: SampleGen): m.${iface.name} {`);
    out.push(`  const o = m.default${iface.name}();`);
    out.push(...body);
    out.push('  return o;');
    out.push('}');
    out.push('');
    for (const n of nested) this.emitSampleStruct(out, n, va, emitted);
  }

  // ---------- modules ----------

  emitModule(): string {
    const name = this.primary.name;
    const out: string[] = [BANNER];
    const versions = `${this.minVersion}-${this.maxVersion}`;
    const flexMin = isEmpty(this.primary.flexible) ? 'none' : `${this.primary.flexible.min}+`;
    out.push(`/**`);
    out.push(` * ${name}: versions ${versions}, flexible ${flexMin}.`);
    if (this.variants.length > 1)
      out.push(
        ` * Versions ${this.variants[1].lo}-${this.variants[1].hi} use the Kafka 3.9.1 definition; the rest use 4.1.1.`,
      );
    out.push(` */`);
    out.push(`import { Reader } from '../wire/reader.js';`);
    out.push(`import { Writer } from '../wire/writer.js';`);
    out.push(`import { DecodeError, UnsupportedVersionError } from '../errors.js';`);
    out.push('');
    out.push('const EMPTY_BUFFER = Buffer.alloc(0);');
    out.push('void DecodeError;');
    out.push('void Writer;');
    out.push('');
    out.push(
      `export const ${name}Versions = { min: ${this.minVersion}, max: ${this.maxVersion}, ` +
        `flexibleMin: ${isEmpty(this.primary.flexible) ? 'Infinity' : this.primary.flexible.min} } as const;`,
    );
    out.push('');
    for (const iface of this.ifaces.values()) {
      out.push(`export interface ${iface.name} {`);
      for (const f of iface.fields) {
        if (f.about) out.push(`  /** ${f.about.replace(/\*\//g, '* /').replace(/\s+/g, ' ')} */`);
        out.push(`  ${f.prop}: ${f.ts};`);
      }
      out.push('}');
      out.push('');
      out.push(`export function default${iface.name}(): ${iface.name} {`);
      out.push(`  return {`);
      for (const f of iface.fields) out.push(`    ${f.prop}: ${f.def},`);
      out.push(`  };`);
      out.push('}');
      out.push('');
    }
    const readOut: string[] = [];
    const writeOut: string[] = [];
    const emittedR = new Set<string>();
    const emittedW = new Set<string>();
    for (const va of this.variants) {
      emitReadStruct(this, readOut, va.msg.root, va, emittedR);
      emitWriteStruct(this, writeOut, va.msg.root, va, emittedW);
    }
    // isDefault helpers for tagged struct fields (collected while emitting writes; nested structs recurse).
    const done = new Set<Iface>();
    for (
      let pending = [...this.needsIsDefault];
      pending.length > 0;
      pending = [...this.needsIsDefault].filter((i) => !done.has(i))
    ) {
      for (const iface of pending) {
        done.add(iface);
        out.push(`function isDefault${iface.name}(o: ${iface.name}): boolean {`);
        out.push(`  const d = default${iface.name}();`);
        const terms = iface.fields.map((f) => {
          const x = `o.${f.prop}`;
          const y = `d.${f.prop}`;
          if (f.ts.includes('[]'))
            return `(${x} === null ? ${y} === null : ${y} !== null && ${x}.length === ${y}.length)`;
          if (f.ts.startsWith('Buffer')) return `(${x} === null ? ${y} === null : ${y} !== null && ${x}.equals(${y}))`;
          const nested = this.ifaces.get(f.ts.replace(' | null', ''));
          if (nested) {
            this.needsIsDefault.add(nested);
            return f.ts.endsWith('| null')
              ? `(${x} === null ? ${y} === null : ${y} !== null && isDefault${nested.name}(${x}))`
              : `isDefault${nested.name}(${x})`;
          }
          return `${x} === ${y}`;
        });
        out.push(`  return ${terms.join(' && ') || 'true'};`);
        out.push('}');
        out.push('');
      }
    }
    out.push(...readOut, ...writeOut);
    const legacy = this.variants[1];
    const rootIface = this.structIface.get(this.primary.root)!.name;
    out.push(`export function decode${name}(r: Reader, v: number): ${rootIface} {`);
    out.push(
      `  if (v < ${this.minVersion} || v > ${this.maxVersion}) ` +
        `throw new UnsupportedVersionError(\`${name} version \${v} is not supported\`);`,
    );
    if (legacy) out.push(`  if (v <= ${legacy.hi}) return read${rootIface}Legacy(r, v);`);
    out.push(`  return read${rootIface}(r, v);`);
    out.push('}');
    out.push('');
    out.push(`export function encode${name}(w: Writer, v: number, o: ${rootIface}): void {`);
    out.push(
      `  if (v < ${this.minVersion} || v > ${this.maxVersion}) ` +
        `throw new UnsupportedVersionError(\`${name} version \${v} is not supported\`);`,
    );
    if (legacy) out.push(`  if (v <= ${legacy.hi}) return write${rootIface}Legacy(w, v, o);`);
    out.push(`  write${rootIface}(w, v, o);`);
    out.push('}');
    out.push('');
    return out.join('\n');
  }

  emitSamples(): string {
    const name = this.primary.name;
    const out: string[] = [BANNER];
    out.push(`import * as m from '../../../protocol/generated/${kebab(name)}.js';`);
    out.push(`import type { SampleGen } from '../sample-gen.js';`);
    out.push('');
    const emitted = new Set<string>();
    for (const va of this.variants) this.emitSampleStruct(out, va.msg.root, va, emitted);
    const rootIface = this.structIface.get(this.primary.root)!.name;
    const legacy = this.variants[1];
    out.push(`export function sample${name}(v: number, g: SampleGen): m.${rootIface} {`);
    if (legacy) out.push(`  if (v <= ${legacy.hi}) return s${rootIface}Legacy(v, g);`);
    out.push(`  return s${rootIface}(v, g);`);
    out.push('}');
    out.push('');
    return out.join('\n');
  }
}
