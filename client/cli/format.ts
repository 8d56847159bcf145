/**
 * Output formats of `runnel consume`: text (UTF-8 values, optional key/headers/offset fields joined by a
 * separator), json (one object a line; bytes that are not valid UTF-8 become {"base64": ...}) and hex.
 */
import type { ConsumerRecord } from '../types.js';

export type Format = 'text' | 'json' | 'hex';

/** What a line of output shows: a consumed record. */
export type PrintableRecord = ConsumerRecord;

export interface FormatOptions {
  format: Format;
  printKey?: boolean;
  printHeaders?: boolean;
  printOffset?: boolean;
  separator: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as a JSON value: a string when they are valid UTF-8, else {"base64": "..."}; null stays null. */
export function jsonBytes(b: Buffer | null): string | { base64: string } | null {
  if (b === null) return null;
  try {
    return utf8.decode(b);
  } catch {
    return { base64: b.toString('base64') };
  }
}

function textBytes(b: Buffer | null, format: Format): string {
  if (b === null) return 'null';
  return format === 'hex' ? b.toString('hex') : b.toString('utf8');
}

/** One output line (with its "\n") for a record. */
export function formatRecord(r: PrintableRecord, o: FormatOptions): string {
  if (o.format === 'json') {
    return `${JSON.stringify({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key: jsonBytes(r.key),
      value: jsonBytes(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: jsonBytes(h.value) })),
    })}\n`;
  }
  const fields: string[] = [];
  if (o.printOffset) fields.push(`${r.partition}:${r.offset}`);
  if (o.printHeaders) fields.push(r.headers.map((h) => `${h.key}=${textBytes(h.value, o.format)}`).join(','));
  if (o.printKey) fields.push(textBytes(r.key, o.format));
  fields.push(textBytes(r.value, o.format));
  return `${fields.join(o.separator)}\n`;
}
