/**
 * Request and response framing: every message on the socket is an int32 size followed by a header and a
 * body. Request header v1 (classic) or v2 (adds tagged fields) by the request version's flexibility;
 * response header v0 or v1 likewise, except ApiVersions responses, which always use v0 (KIP-511).
 */
import { apiInfo, requestHeaderVersion, responseHeaderVersion } from './generated/apis.js';
import { decodeRequestHeader, encodeRequestHeader, type RequestHeader } from './generated/request-header.js';
import { encodeResponseHeader } from './generated/response-header.js';
import { DecodeError } from './errors.js';
import { Reader } from './wire/reader.js';
import { Writer } from './wire/writer.js';

export interface ParsedHeader {
  header: RequestHeader;
  /** Reader positioned at the start of the body. */
  body: Reader;
  /** False when the API key is unknown or the version is outside what the codec knows. */
  known: boolean;
}

/**
 * Parse the header of one request frame (the bytes after the int32 size). An unknown key or version still
 * yields the correlation id (header v1 layout) so the caller can answer or log before closing.
 */
export function parseRequestHeader(frame: Buffer): ParsedHeader {
  if (frame.length < 8) throw new DecodeError(`request frame of ${frame.length} bytes is shorter than a header`);
  const key = frame.readInt16BE(0);
  const version = frame.readInt16BE(2);
  const info = apiInfo(key);
  const known = info !== undefined && version >= info.minVersion && version <= info.maxVersion;
  const r = new Reader(frame);
  const header = decodeRequestHeader(r, known ? requestHeaderVersion(key, version) : 1);
  return { header, body: r, known };
}

/** Encode a response frame: int32 size + response header + body, as chunks for a vectored write. */
export function encodeResponseFrame(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  body: (w: Writer) => void,
): Buffer[] {
  const w = new Writer(512);
  w.writeInt32(0); // size, patched below
  encodeResponseHeader(w, responseHeaderVersion(apiKey, apiVersion), { correlationId });
  body(w);
  const chunks = w.chunks();
  chunks[0].writeInt32BE(w.length - 4, 0);
  return chunks;
}

/** Encode a request frame (for clients and tests): int32 size + request header + body. */
export function encodeRequestFrame(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: (w: Writer) => void,
): Buffer[] {
  const w = new Writer(512);
  w.writeInt32(0);
  encodeRequestHeader(w, requestHeaderVersion(apiKey, apiVersion), {
    requestApiKey: apiKey,
    requestApiVersion: apiVersion,
    correlationId,
    clientId,
  });
  body(w);
  const chunks = w.chunks();
  chunks[0].writeInt32BE(w.length - 4, 0);
  return chunks;
}
