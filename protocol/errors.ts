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

/**
 * Faults of Runnel itself rather than of the bytes it was sent: a broken invariant, a call the current state
 * does not allow, a failure a test injected. A connection that meets one while handling a request logs it as
 * an error with its stack (a malformed request is only a warning) and closes.
 */
export class BrokerFault extends RunnelError {}

/** A broken invariant: a bug in Runnel (or in how it was built), never the input's fault. */
export class InternalError extends BrokerFault {
  constructor(message: string) {
    super('ERR_INTERNAL', message);
  }
}

/** A component used before it was started or after it was stopped. */
export class NotStartedError extends BrokerFault {
  constructor(message: string) {
    super('ERR_NOT_STARTED', message);
  }
}

/**
 * A call the current state does not allow: an illegal transition, a partition that is not open, a data dir
 * of another node.
 */
export class IllegalStateError extends BrokerFault {
  constructor(message: string) {
    super('ERR_ILLEGAL_STATE', message);
  }
}

/** A failure injected on purpose by a test hook (a failed write, a dropped response). */
export class InjectedFaultError extends BrokerFault {
  constructor(message: string) {
    super('ERR_INJECTED_FAULT', message);
  }
}

/** A caller of an API or tool passed something it cannot use (an option value, a file without what it needs). */
export class BadArgumentError extends RunnelError {
  constructor(message: string) {
    super('ERR_BAD_ARGUMENT', message);
  }
}

/**
 * A process of a development cluster (broker/dev-cluster.ts: startCluster, `runnel dev`) that cannot be found,
 * started or stopped: no etcd binary, a node that exits or does not register in time.
 */
export class DevClusterError extends RunnelError {
  constructor(message: string) {
    super('ERR_DEV_CLUSTER', message);
  }
}

/**
 * Faults of the etcd coordination layer (replication/etcd/): etcd unreachable or failing a call
 * (ERR_ETCD_UNAVAILABLE), a node id another broker holds (ERR_DUPLICATE_BROKER_REGISTRATION), a session whose
 * lease is gone (ERR_LEASE_LOST), a watch whose start revision was compacted away (ERR_WATCH_COMPACTED), a
 * leader that no longer is (ERR_NOT_CONTROLLER), a component closed under a caller (ERR_CLOSED).
 */
export class CoordinationError extends BrokerFault {}

/**
 * A SASL exchange that fails (wrong password, unknown user, malformed or oversized client message, invalid or
 * expired token): answered with SASL_AUTHENTICATION_FAILED and `message`, then the connection is closed. The
 * message never tells an unknown user from a wrong password.
 */
export class SaslAuthenticationError extends RunnelError {
  constructor(message: string) {
    super('ERR_SASL_AUTHENTICATION', message, 58);
  }
}
