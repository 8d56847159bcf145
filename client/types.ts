/** Record types shared by the producer and consumer. */

export interface ProducerRecord {
  topic: string;
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string>;
  partition?: number;
  /** Create time in ms since the epoch; default: now. */
  timestamp?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
}

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: string; value: Buffer | null }>;
}

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export type Isolation = 'read_committed' | 'read_uncommitted';
export interface TopicPartition {
  topic: string;
  partition: number;
}
