/**
 * Encoder emission for the protocol code generator (emit.ts): one `write<Struct><suffix>(w, v, o)` function
 * per struct and variant, in straight-line code: a field is written under a version condition computed from
 * the spec (`cond`), compact or classic encodings chosen by the flexible versions, a null value written as null
 * where the version allows it and as the empty/default value where it does not; then the tagged-field section
 * of flexible versions (a tagged field is written only when it differs from its default, `isDefault<Struct>`
 * helpers being requested through `needsIsDefault`).
 * The generated text must not change with refactors here: `npm run gen:protocol` reproduces protocol/generated.
 */
import { intersect, isEmpty, type FieldM, type Range, type StructM, type TypeM } from './spec.js';
import { InternalError } from '../errors.js';
import { cond, positional, type EmitContext, type Variant } from './emit-shared.js';

function writePrim(prim: string, x: string, nullC: string, flexC: string, tsNullable: boolean): string {
  switch (prim) {
    case 'bool':
      return `w.writeBool(${x});`;
    case 'int8':
      return `w.writeInt8(${x});`;
    case 'int16':
      return `w.writeInt16(${x});`;
    case 'uint16':
      return `w.writeUint16(${x});`;
    case 'int32':
      return `w.writeInt32(${x});`;
    case 'uint32':
      return `w.writeUint32(${x});`;
    case 'int64':
      return `w.writeInt64(${x});`;
    case 'float64':
      return `w.writeFloat64(${x});`;
    case 'uuid':
      return `w.writeUuid(${x});`;
    case 'string': {
      const nn = tsNullable ? `${x} ?? ''` : x;
      const val = nullC === 'always' ? x : nullC === 'never' ? nn : `(${nullC} ? ${x} : ${nn})`;
      return flexC === 'always'
        ? `w.writeCompactString(${val});`
        : flexC === 'never'
          ? `w.writeString(${val});`
          : `if (${flexC}) w.writeCompactString(${val}); else w.writeString(${val});`;
    }
    case 'bytes':
    case 'records': {
      const nn = tsNullable ? `${x} ?? EMPTY_BUFFER` : x;
      const val = nullC === 'always' ? x : nullC === 'never' ? nn : `(${nullC} ? ${x} : ${nn})`;
      return flexC === 'always'
        ? `w.writeCompactBytes(${val});`
        : flexC === 'never'
          ? `w.writeBytes(${val});`
          : `if (${flexC}) w.writeCompactBytes(${val}); else w.writeBytes(${val});`;
    }
  }
  throw new InternalError(prim);
}

function emitWrite(
  ctx: EmitContext,
  out: string[],
  ind: string,
  x: string,
  t: TypeM,
  nullC: string,
  flexC: string,
  tsNullable: boolean,
  va: Variant,
  depth: number,
): void {
  switch (t.kind) {
    case 'prim':
      out.push(`${ind}${writePrim(t.prim, x, nullC, flexC, tsNullable)}`);
      return;
    case 'struct': {
      const fn = `write${ctx.structIface.get(t.struct)!.name}${va.suffix}`;
      if (!tsNullable) {
        out.push(`${ind}${fn}(w, v, ${x});`);
        return;
      }
      const e = `s${depth}`;
      out.push(`${ind}{`);
      out.push(`${ind}  const ${e} = ${x};`);
      if (nullC === 'never') {
        out.push(`${ind}  ${fn}(w, v, ${e} ?? default${ctx.structIface.get(t.struct)!.name}());`);
      } else {
        const marker = nullC === 'always' ? '' : `if (${nullC}) `;
        out.push(`${ind}  if (${e} === null) {`);
        out.push(`${ind}    ${marker}w.writeInt8(-1);`);
        if (nullC !== 'always')
          out.push(`${ind}    else ${fn}(w, v, default${ctx.structIface.get(t.struct)!.name}());`);
        out.push(`${ind}  } else {`);
        out.push(`${ind}    ${marker}w.writeInt8(1);`);
        out.push(`${ind}    ${fn}(w, v, ${e});`);
        out.push(`${ind}  }`);
      }
      out.push(`${ind}}`);
      return;
    }
    case 'array': {
      const a = `a${depth}`;
      const e = `e${depth}`;
      const len = (n: string): string =>
        flexC === 'always'
          ? `w.writeCompactArrayLength(${n});`
          : flexC === 'never'
            ? `w.writeArrayLength(${n});`
            : `if (${flexC}) w.writeCompactArrayLength(${n}); else w.writeArrayLength(${n});`;
      out.push(`${ind}{`);
      out.push(`${ind}  const ${a} = ${x};`);
      let loopInd = `${ind}  `;
      if (tsNullable) {
        if (nullC === 'never') {
          out.push(`${ind}  if (${a} === null) {`);
          out.push(`${ind}    ${len('0')}`);
        } else if (nullC === 'always') {
          out.push(`${ind}  if (${a} === null) {`);
          out.push(`${ind}    ${len('-1')}`);
        } else {
          out.push(`${ind}  if (${a} === null) {`);
          out.push(`${ind}    ${len(`${nullC} ? -1 : 0`)}`);
        }
        out.push(`${ind}  } else {`);
        loopInd = `${ind}    `;
      }
      out.push(`${loopInd}${len(`${a}.length`)}`);
      out.push(`${loopInd}for (const ${e} of ${a}) {`);
      emitWrite(ctx, out, `${loopInd}  `, e, t.elem, 'never', flexC, false, va, depth + 1);
      out.push(`${loopInd}}`);
      if (tsNullable) out.push(`${ind}  }`);
      out.push(`${ind}}`);
      return;
    }
  }
}

function isDefaultExpr(ctx: EmitContext, f: FieldM, x: string): string {
  const t = f.type;
  const d = ctx.defaultExpr(f, t);
  if (d === 'null') return `${x} === null`;
  if (t.kind === 'array') return `${x} !== null && ${x}.length === 0`.replace(/^(.*)$/, '($1)');
  if (t.kind === 'struct') {
    const iface = ctx.structIface.get(t.struct)!;
    ctx.needsIsDefault.add(iface);
    return `isDefault${iface.name}(${x})`;
  }
  if (t.prim === 'bytes') return `(${x} !== null && ${x}.length === 0)`;
  return `${x} === ${d}`;
}

/**
 * Emit `write<Struct><suffix>(w, v, o)` for `s` (once per name in `emitted`) and, after it, those of its
 * nested structs.
 */
export function emitWriteStruct(ctx: EmitContext, out: string[], s: StructM, va: Variant, emitted: Set<string>): void {
  const iface = ctx.structIface.get(s)!;
  const fnName = `write${iface.name}${va.suffix}`;
  if (emitted.has(fnName)) return;
  emitted.add(fnName);
  const S: Range = { min: va.lo, max: va.hi };
  const msgFlex = va.msg.flexible;
  const body: string[] = [];
  const nested: StructM[] = [];
  const noteNested = (t: TypeM): void => {
    if (t.kind === 'struct') nested.push(t.struct);
    if (t.kind === 'array') noteNested(t.elem);
  };
  for (const f of s.fields) {
    const P = intersect(positional(f), S);
    const T = intersect(f.tagged, S);
    if (isEmpty(P) && isEmpty(T)) continue;
    noteNested(f.type);
    if (isEmpty(P)) continue;
    const fr = f.flexOverride ?? msgFlex;
    const c = cond(P, S);
    const ind = c === 'always' ? '  ' : '    ';
    if (c !== 'always') body.push(`  if (${c}) {`);
    const tsNullable = iface.byProp.get(f.prop)!.ts.endsWith('| null');
    emitWrite(ctx, body, ind, `o.${f.prop}`, f.type, cond(f.nullable, P), cond(fr, P), tsNullable, va, 0);
    if (c !== 'always') body.push('  }');
  }
  const flexC = cond(msgFlex, S);
  if (flexC !== 'never') {
    const tagged = s.fields.filter((f) => !isEmpty(intersect(f.tagged, S))).sort((a, b) => a.tag! - b.tag!);
    const ind = flexC === 'always' ? '  ' : '    ';
    if (flexC !== 'always') body.push(`  if (${flexC}) {`);
    if (tagged.length === 0) {
      body.push(`${ind}w.writeUVarint(0);`);
    } else {
      body.push(`${ind}let nt = 0;`);
      tagged.forEach((f, k) => {
        const c = cond(intersect(f.tagged, S), S);
        const pres = `!${isDefaultExpr(ctx, f, `o.${f.prop}`).replace(/^([^(].*)$/, '($1)')}`;
        body.push(`${ind}const t${k} = ${c === 'always' ? '' : `${c} && `}${pres};`);
        body.push(`${ind}if (t${k}) nt++;`);
      });
      body.push(`${ind}w.writeUVarint(nt);`);
      tagged.forEach((f, k) => {
        const T = intersect(f.tagged, S);
        const tsNullable = iface.byProp.get(f.prop)!.ts.endsWith('| null');
        body.push(`${ind}if (t${k}) {`);
        body.push(`${ind}  const tw = new Writer(64);`);
        const inner: string[] = [];
        emitWrite(ctx, inner, `${ind}  `, `o.${f.prop}`, f.type, cond(f.nullable, T), 'always', tsNullable, va, 0);
        body.push(...inner.map((l) => l.replace(/\bw\./g, 'tw.').replace(/\(w, v,/g, '(tw, v,')));
        body.push(`${ind}  w.writeUVarint(${f.tag});`);
        body.push(`${ind}  w.writeUVarint(tw.length);`);
        body.push(`${ind}  w.writeWriter(tw);`);
        body.push(`${ind}}`);
      });
    }
    if (flexC !== 'always') body.push('  }');
  }
  out.push(`function ${fnName}(w: Writer, v: number, o: ${iface.name}): void {`);
  out.push(...body);
  out.push('}');
  out.push('');
  for (const n of nested) emitWriteStruct(ctx, out, n, va, emitted);
}
