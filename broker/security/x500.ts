/**
 * The subject distinguished name of an X.509 certificate (DER) in RFC 2253 form, as Java's
 * `X500Principal.getName()` prints it (what Kafka's SSL principal is built from): RDNs last to first,
 * comma-separated, no spaces; the attributes of a multi-valued RDN joined by `+`; the RFC 2253 keywords
 * (CN, C, L, ST, O, OU, STREET, DC, UID) by name, any other attribute as its dotted OID with the value as `#` and
 * the hex of its DER encoding (e.g. emailAddress: `1.2.840.113549.1.9.1=#16...`); in string values
 * `, = + < > # ; " \` are escaped with a backslash, as are a leading or trailing space.
 *
 * Invariant: only reads inside the buffer; malformed DER throws a RangeError (callers refuse the peer).
 */

const KEYWORDS: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

/** DER string types whose value is printed as text. */
const STRING_TAGS = new Set([0x0c, 0x13, 0x14, 0x16, 0x1c, 0x1e]);
const ESCAPED = new Set([',', '=', '+', '<', '>', '#', ';', '"', '\\']);

interface Tlv {
  tag: number;
  /** Start of the whole element (tag byte). */
  start: number;
  /** Start and end of the content. */
  body: number;
  end: number;
}

function readTlv(buf: Buffer, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new RangeError('truncated DER');
  const tag = buf[pos];
  let len = buf[pos + 1];
  let body = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || body + n > limit) throw new RangeError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[body + i];
    body += n;
  }
  if (body + len > limit) throw new RangeError('DER element overruns its parent');
  return { tag, start: pos, body, end: body + len };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.body; p < parent.end; ) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

function oid(buf: Buffer, t: Tlv): string {
  if (t.tag !== 0x06 || t.end === t.body) throw new RangeError('expected an OID');
  const first = buf[t.body];
  const parts = [Math.min(2, Math.floor(first / 40)), first - Math.min(2, Math.floor(first / 40)) * 40];
  let v = 0;
  for (let i = t.body + 1; i < t.end; i++) {
    v = v * 128 + (buf[i] & 0x7f);
    if (!(buf[i] & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

function text(buf: Buffer, t: Tlv): string {
  const raw = buf.subarray(t.body, t.end);
  if (t.tag === 0x1e) {
    if (raw.length % 2 !== 0) throw new RangeError('odd BMPString');
    return Buffer.from(raw).swap16().toString('utf16le');
  }
  if (t.tag === 0x1c) {
    let s = '';
    for (let i = 0; i + 3 < raw.length; i += 4) s += String.fromCodePoint(raw.readUInt32BE(i));
    return s;
  }
  return t.tag === 0x0c ? raw.toString('utf8') : raw.toString('latin1');
}

function escapeValue(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    const edgeSpace = c === ' ' && (i === 0 || i === v.length - 1);
    out += ESCAPED.has(c) || edgeSpace ? `\\${c}` : c;
  }
  return out;
}

function attribute(buf: Buffer, ava: Tlv): string {
  const [type, value] = children(buf, ava);
  if (!type || !value) throw new RangeError('bad AttributeTypeAndValue');
  const id = oid(buf, type);
  const keyword = KEYWORDS[id];
  if (keyword && STRING_TAGS.has(value.tag)) return `${keyword}=${escapeValue(text(buf, value))}`;
  return `${id}=#${buf.subarray(value.start, value.end).toString('hex')}`;
}

/** The subject DN of a DER certificate in RFC 2253 form (see the header). */
export function subjectRfc2253(der: Buffer): string {
  const cert = readTlv(der, 0, der.length);
  const tbs = children(der, cert)[0];
  if (tbs?.tag !== 0x30) throw new RangeError('expected a TBSCertificate');
  const fields = children(der, tbs);
  // [0] version is optional; then serial, signature, issuer, validity, subject.
  const subject = fields[fields[0]?.tag === 0xa0 ? 5 : 4];
  if (subject?.tag !== 0x30) throw new RangeError('expected the subject Name');
  return children(der, subject)
    .map((rdn) =>
      children(der, rdn)
        .map((ava) => attribute(der, ava))
        .join('+'),
    )
    .reverse()
    .join(',');
}
