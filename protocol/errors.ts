/**
 * Thrown errors, from one place. Kafka error codes travel as data in responses; these classes are for
 * faults: bytes that cannot be decoded, a storage failure, a broken invariant. Each carries a stable
 * `code` string and, where one applies, the Kafka error code a handler should answer with.
 */

export class RunnelError extends Error {
  readonly code: string;
  /** Kafka protocol error code that best describes this fault (see errors.json), if any. */
  readonly kafkaCode: number;
  constructor(code: string, message: string, kafkaCode = -1) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.kafkaCode = kafkaCode;
  }
}

/** Bytes on the wire that do not form a valid message: truncated, negative or oversized lengths, bad varints. */
export class DecodeError extends RunnelError {
  constructor(message: string) {
    super('ERR_DECODE', message, 42 /* INVALID_REQUEST */);
  }
}

/** An API key or version outside what the codec knows. */
export class UnsupportedVersionError extends RunnelError {
  constructor(message: string) {
    super('ERR_UNSUPPORTED_VERSION', message, 35 /* UNSUPPORTED_VERSION */);
  }
}

/** A record batch or message set that fails validation (bad CRC, bad magic, bad lengths). */
export class CorruptRecordError extends RunnelError {
  constructor(message: string) {
    super('ERR_CORRUPT_RECORD', message, 2 /* CORRUPT_MESSAGE */);
  }
}

/** A compression codec that is unknown or cannot be used here. */
export class CompressionError extends RunnelError {
  constructor(message: string, kafkaCode = 76 /* UNSUPPORTED_COMPRESSION_TYPE */) {
    super('ERR_COMPRESSION', message, kafkaCode);
  }
}

/** A value that cannot be encoded (a string too long, a uuid of the wrong size, ...). */
export class EncodeError extends RunnelError {
  constructor(message: string) {
    super('ERR_ENCODE', message);
  }
}

/** Storage faults: I/O failures, corrupt files found outside recovery. */
export class StorageError extends RunnelError {
  constructor(message: string, kafkaCode = 56 /* KAFKA_STORAGE_ERROR */) {
    super('ERR_STORAGE', message, kafkaCode);
  }
}
