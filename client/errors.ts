/**
 * Errors the client throws. Kafka error codes that come back in responses become KafkaError (code, Kafka's
 * name, retriable as Kafka's Errors.java marks it); client-side faults use the nearest Kafka code too, so a
 * caller handles one type: a request that timed out → REQUEST_TIMED_OUT (7, retriable), a lost or refused
 * connection → NETWORK_EXCEPTION (13, retriable), an API the broker does not offer → UNSUPPORTED_VERSION (35).
 */
import { ErrorCode, RETRIABLE_ERROR_CODES, errorName } from '../protocol/generated/error-codes.js';

export class KafkaError extends Error {
  readonly code: number;
  /** Kafka's error name, e.g. UNKNOWN_TOPIC_OR_PARTITION. */
  override name: string;
  readonly retriable: boolean;
  constructor(code: number, message?: string | null) {
    const name = errorName(code);
    super(message ? `${name}: ${message}` : name);
    this.code = code;
    this.name = name;
    this.retriable = RETRIABLE_ERROR_CODES.has(code);
  }
}

/** Throw a KafkaError when `code` is not NONE. */
export function check(code: number, message?: string | null): void {
  if (code !== ErrorCode.NONE) throw new KafkaError(code, message);
}

export function timeoutError(what: string): KafkaError {
  return new KafkaError(ErrorCode.REQUEST_TIMED_OUT, what);
}

export function networkError(what: string): KafkaError {
  return new KafkaError(ErrorCode.NETWORK_EXCEPTION, what);
}

export function isRetriable(e: unknown): boolean {
  return e instanceof KafkaError && e.retriable;
}

/** Errors after which the metadata of a topic should be fetched again (Java: InvalidMetadataException). */
const METADATA_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.INCONSISTENT_TOPIC_ID,
  ErrorCode.NETWORK_EXCEPTION,
  ErrorCode.REPLICA_NOT_AVAILABLE,
]);

export function needsMetadataRefresh(code: number): boolean {
  return METADATA_ERRORS.has(code);
}

/** Coordinator moved or is not ready: find it again. */
export function isCoordinatorError(code: number): boolean {
  return code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE;
}
