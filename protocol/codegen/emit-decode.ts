/**
 * Decoder emission for the protocol code generator (emit.ts): one `read<Struct><suffix>(r, v)` function per
 * struct and variant, in straight-line code: a field is read under a version condition computed from the
 * spec (`cond`), compact or classic encodings chosen by the flexible versions, nullability checked (a null
 * array in a non-nullable field throws DecodeError), then the tagged-field section of flexible versions
 * (unknown tags skipped, known ones checked to end where their size says).
 * The generated text must not change with refactors here: `npm run gen:protocol` reproduces protocol/generated.
 */
import { intersect, isEmpty, type Range, type StructM, type TypeM } from './spec.js';
import { InternalError } from '../errors.js';
import { cond, pick, positional, type EmitContext, type Variant } from './emit-shared.js';

function readPrim(prim: string, nullC: string, flexC: string): string {
  switch (prim) {
    case 'bool':
      return 'r.readBool()';
    case 'int8':
      return 'r.readInt8()';
    case 'int16':
      return 'r.readInt16()';
    case 'uint16':
      return 'r.readUint16()';
    case 'int32':
      return 'r.readInt32()';
    case 'uint32':
      return 'r.readUint32()';
    case 'int64':
      return 'r.readInt64()';
    case 'float64':
      return 'r.readFloat64()';
    case 'uuid':
      return 'r.readUuid()';
    case 'string':
      return pick(
        flexC,
        pick(nullC, 'r.readCompactString()', 'r.readCompactStringNotNull()'),
        pick(nullC, 'r.readString()', 'r.readStringNotNull()'),
      );
    case 'bytes':
    case 'records':
      return pick(
        flexC,
        pick(nullC, 'r.readCompactBytes()', 'r.readCompactBytesNotNull()'),
        pick(nullC, 'r.readBytes()', 'r.readBytesNotNull()'),
      );
  }
  throw new InternalError(prim);
}

function emitRead(
  ctx: EmitContext,
  out: string[],
  ind: string,
  target: string,
  t: TypeM,
  nullC: string,
  flexC: string,
  va: Variant,
  depth: number,
  name: string,
): void {
  switch (t.kind) {
    case 'prim':
      out.push(`${ind}${target} = ${readPrim(t.prim, nullC, flexC)};`);
      return;
    case 'struct': {
      const fn = `read${ctx.structIface.get(t.struct)!.name}${va.suffix}`;
      if (nullC === 'never') out.push(`${ind}${target} = ${fn}(r, v);`);
      else if (nullC === 'always') out.push(`${ind}${target} = r.readInt8() < 0 ? null : ${fn}(r, v);`);
      else out.push(`${ind}${target} = ${nullC} && r.readInt8() < 0 ? null : ${fn}(r, v);`);
      return;
    }
    case 'array': {
      const n = `n${depth}`;
      const a = `a${depth}`;
      const i = `i${depth}`;
      out.push(`${ind}{`);
      out.push(`${ind}  const ${n} = ${pick(flexC, 'r.readCompactArrayLength()', 'r.readArrayLength()')};`);
      out.push(`${ind}  if (${n} < 0) {`);
      if (nullC === 'always') out.push(`${ind}    ${target} = null;`);
      else if (nullC === 'never')
        out.push(`${ind}    throw new DecodeError('null array in non-nullable field ${name}');`);
      else {
        out.push(`${ind}    if (!(${nullC})) throw new DecodeError('null array in non-nullable field ${name}');`);
        out.push(`${ind}    ${target} = null;`);
      }
      out.push(`${ind}  } else {`);
      out.push(`${ind}    const ${a}: ${ctx.elemTs(t.elem, va)}[] = new Array(${n});`);
      out.push(`${ind}    for (let ${i} = 0; ${i} < ${n}; ${i}++) {`);
      emitRead(ctx, out, `${ind}      `, `${a}[${i}]`, t.elem, 'never', flexC, va, depth + 1, name);
      out.push(`${ind}    }`);
      out.push(`${ind}    ${target} = ${a};`);
      out.push(`${ind}  }`);
      out.push(`${ind}}`);
      return;
    }
  }
}

/**
 * Emit `read<Struct><suffix>(r, v)` for `s` (once per name in `emitted`) and, after it, those of its
 * nested structs.
 */
export function emitReadStruct(ctx: EmitContext, out: string[], s: StructM, va: Variant, emitted: Set<string>): void {
  const iface = ctx.structIface.get(s)!;
  const fnName = `read${iface.name}${va.suffix}`;
  if (emitted.has(fnName)) return;
  emitted.add(fnName);
  const S: Range = { min: va.lo, max: va.hi };
  const msgFlex = va.msg.flexible;
  const body: string[] = [];
  const useFlex = new Set<string>();
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
    const flexC = cond(fr, P);
    const nullC = cond(f.nullable, P);
    const ind = c === 'always' ? '  ' : '    ';
    if (c !== 'always') body.push(`  if (${c}) {`);
    emitRead(ctx, body, ind, `o.${f.prop}`, f.type, nullC, flexC, va, 0, f.name);
    if (c !== 'always') body.push('  }');
  }
  // Tagged-field section.
  const flexC = cond(msgFlex, S);
  if (flexC !== 'never') {
    const tagged = s.fields.filter((f) => !isEmpty(intersect(f.tagged, S))).sort((a, b) => a.tag! - b.tag!);
    const ind = flexC === 'always' ? '  ' : '    ';
    if (flexC !== 'always') body.push(`  if (${flexC}) {`);
    if (tagged.length === 0) {
      body.push(`${ind}r.skipTaggedFields();`);
    } else {
      body.push(`${ind}const nt = r.readUVarint();`);
      body.push(`${ind}for (let t = 0; t < nt; t++) {`);
      body.push(`${ind}  const tag = r.readUVarint();`);
      body.push(`${ind}  const end = r.taggedFieldEnd();`);
      body.push(`${ind}  switch (tag) {`);
      for (const f of tagged) {
        const T = intersect(f.tagged, S);
        const c = cond(T, S);
        body.push(`${ind}    case ${f.tag}:`);
        const inner: string[] = [];
        emitRead(ctx, inner, `${ind}        `, `o.${f.prop}`, f.type, cond(f.nullable, T), 'always', va, 0, f.name);
        if (c === 'always') {
          body.push(...inner.map((l) => l.slice(2)));
          body.push(`${ind}      r.checkTaggedFieldEnd(end, ${f.tag});`);
        } else {
          body.push(`${ind}      if (${c}) {`);
          body.push(...inner);
          body.push(`${ind}        r.checkTaggedFieldEnd(end, ${f.tag});`);
          body.push(`${ind}      } else r.pos = end;`);
        }
        body.push(`${ind}      break;`);
      }
      body.push(`${ind}    default:`);
      body.push(`${ind}      r.pos = end;`);
      body.push(`${ind}  }`);
      body.push(`${ind}}`);
    }
    if (flexC !== 'always') body.push('  }');
  }
  void useFlex;
  out.push(`function ${fnName}(r: Reader, v: number): ${iface.name} {`);
  out.push(`  const o = default${iface.name}();`);
  out.push(...body);
  out.push('  return o;');
  out.push('}');
  out.push('');
  for (const n of nested) emitReadStruct(ctx, out, n, va, emitted);
}
