/**
 * The "consumer" embedded protocol of classic groups (Kafka's ConsumerProtocol), as bytes: member metadata
 * (ConsumerProtocolSubscription) and member assignments (ConsumerProtocolAssignment) are each an int16
 * version followed by the struct at that version. The one reader and writer for them (client, group
 * coordinator and admin API all use these).
 *
 * As Kafka's ConsumerProtocol: written at our highest known version unless told otherwise; read at the
 * written version, or at our highest known one when the writer's is newer (newer versions only append
 * fields, so the bytes left unread are ignored); a negative version throws UnsupportedVersionError, and
 * missing bytes (shorter than the version, or than the struct) throw DecodeError. Pure codec: no I/O.
 * Callers that must not fail on a bad member's bytes (the broker) catch and decide what that means.
 */
import {
  ConsumerProtocolAssignmentVersions,
  decodeConsumerProtocolAssignment,
  encodeConsumerProtocolAssignment,
  type ConsumerProtocolAssignment,
} from './generated/consumer-protocol-assignment.js';
import {
  ConsumerProtocolSubscriptionVersions,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolSubscription,
  type ConsumerProtocolSubscription,
} from './generated/consumer-protocol-subscription.js';
import { UnsupportedVersionError } from './errors.js';
import { Reader } from './wire/reader.js';
import { Writer } from './wire/writer.js';

export type { ConsumerProtocolAssignment, ConsumerProtocolSubscription };

/** Highest ConsumerProtocolSubscription version we know (written by default). */
export const SUBSCRIPTION_VERSION: number = ConsumerProtocolSubscriptionVersions.max;
/** Highest ConsumerProtocolAssignment version we know (written by default). */
export const ASSIGNMENT_VERSION: number = ConsumerProtocolAssignmentVersions.max;

function framed(version: number, body: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  w.writeInt16(version);
  body(w);
  return w.toBuffer();
}

/** Read the int16 version prefix: negative → UnsupportedVersionError, above `highest` → `highest`. */
function readVersion(r: Reader, what: string, highest: number): number {
  const version = r.readInt16();
  if (version < 0) throw new UnsupportedVersionError(`Unsupported ${what} version: ${version}`);
  return Math.min(version, highest);
}

/** Member metadata bytes: the version, then the subscription at that version (0..3, default 3). */
export function encodeConsumerSubscription(s: ConsumerProtocolSubscription, version = SUBSCRIPTION_VERSION): Buffer {
  return framed(version, (w) => encodeConsumerProtocolSubscription(w, version, s));
}

/** Read member metadata bytes; throws DecodeError (truncated) or UnsupportedVersionError (negative version). */
export function decodeConsumerSubscription(b: Buffer): ConsumerProtocolSubscription {
  const r = new Reader(b);
  return decodeConsumerProtocolSubscription(r, readVersion(r, 'subscription', SUBSCRIPTION_VERSION));
}

/** Member assignment bytes: the version, then the assignment at that version (0..3, default 3). */
export function encodeConsumerAssignment(a: ConsumerProtocolAssignment, version = ASSIGNMENT_VERSION): Buffer {
  return framed(version, (w) => encodeConsumerProtocolAssignment(w, version, a));
}

/**
 * Read member assignment bytes; throws DecodeError (truncated, empty) or UnsupportedVersionError (negative
 * version).
 */
export function decodeConsumerAssignment(b: Buffer): ConsumerProtocolAssignment {
  const r = new Reader(b);
  return decodeConsumerProtocolAssignment(r, readVersion(r, 'assignment', ASSIGNMENT_VERSION));
}
