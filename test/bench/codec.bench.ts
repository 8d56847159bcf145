/**
 * Codec benchmark (`npm run bench:codec`), not a test: MB/s for decoding a Produce request carrying
 * 1 MiB of records and encoding a Fetch response carrying 1 MiB of records (records are slices, never
 * copied), CRC-32C of 1 MiB, and Metadata/ApiVersions request decode + response encode per second.
 */
import { randomBytes } from 'node:crypto';
import { parseRequestHeader, encodeRequestFrame, encodeResponseFrame } from '../../protocol/frame.js';
import {
  decodeProduceRequest,
  encodeProduceRequest,
  defaultProduceRequest,
} from '../../protocol/generated/produce-request.js';
import {
  encodeFetchResponse,
  defaultFetchResponse,
  defaultFetchResponsePartitionData,
} from '../../protocol/generated/fetch-response.js';
import {
  decodeMetadataRequest,
  encodeMetadataRequest,
  defaultMetadataRequest,
} from '../../protocol/generated/metadata-request.js';
import {
  encodeMetadataResponse,
  defaultMetadataResponse,
  defaultMetadataResponseTopic,
  defaultMetadataResponsePartition,
} from '../../protocol/generated/metadata-response.js';
import {
  decodeApiVersionsRequest,
  encodeApiVersionsRequest,
  defaultApiVersionsRequest,
} from '../../protocol/generated/api-versions-request.js';
import {
  encodeApiVersionsResponse,
  defaultApiVersionsResponse,
} from '../../protocol/generated/api-versions-response.js';
import { crc32c } from '../../protocol/records/crc.js';

const MiB = 1024 * 1024;

function measure(name: string, bytesPerOp: number, op: () => void, seconds = 1): void {
  for (let i = 0; i < 200; i++) op(); // warm up
  let n = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < 100; i++) op();
    n += 100;
    elapsed = process.hrtime.bigint() - start;
  }
  const secs = Number(elapsed) / 1e9;
  const ops = n / secs;
  const rate = bytesPerOp > 0 ? `${((ops * bytesPerOp) / 1e6).toFixed(0).padStart(8)} MB/s` : '';
  process.stdout.write(`${name.padEnd(52)} ${ops.toFixed(0).padStart(10)} ops/s ${rate}\n`);
}

const records = randomBytes(MiB);

// Produce v9 (flexible) and v7 (classic) requests with one partition carrying 1 MiB.
for (const v of [7, 9]) {
  const req = defaultProduceRequest();
  req.acks = -1;
  req.timeoutMs = 30000;
  req.topicData = [{ name: 'bench', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records }] }];
  const frame = Buffer.concat(encodeRequestFrame(0, v, 1, 'bench', (w) => encodeProduceRequest(w, v, req))).subarray(4);
  measure(`Produce v${v} request decode (1 MiB records)`, frame.length, () => {
    const { body } = parseRequestHeader(frame);
    decodeProduceRequest(body, v);
  });
}

// Fetch v11 and v12 responses carrying 1 MiB of records.
for (const v of [11, 12]) {
  const res = defaultFetchResponse();
  const p = defaultFetchResponsePartitionData();
  p.records = records;
  p.highWatermark = 1000n;
  res.responses = [{ topic: 'bench', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [p] }];
  measure(`Fetch v${v} response encode (1 MiB records)`, MiB, () => {
    encodeResponseFrame(1, v, 1, (w) => encodeFetchResponse(w, v, res));
  });
}

measure('CRC-32C of 1 MiB', MiB, () => {
  crc32c(records);
});

// Metadata v12 request (3 topics) decode + response (10 topics x 4 partitions) encode.
{
  const v = 12;
  const req = defaultMetadataRequest();
  req.topics = ['a', 'b', 'c'].map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }));
  const frame = Buffer.concat(encodeRequestFrame(3, v, 1, 'bench', (w) => encodeMetadataRequest(w, v, req))).subarray(
    4,
  );
  const res = defaultMetadataResponse();
  res.brokers = [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }];
  res.clusterId = 'cluster';
  for (let t = 0; t < 10; t++) {
    const topic = defaultMetadataResponseTopic();
    topic.name = `topic-${t}`;
    for (let i = 0; i < 4; i++) {
      const part = defaultMetadataResponsePartition();
      part.partitionIndex = i;
      part.leaderId = 1;
      part.replicaNodes = [1];
      part.isrNodes = [1];
      topic.partitions.push(part);
    }
    res.topics.push(topic);
  }
  measure('Metadata v12 request decode + response encode', 0, () => {
    const { body } = parseRequestHeader(frame);
    decodeMetadataRequest(body, v);
    encodeResponseFrame(3, v, 1, (w) => encodeMetadataResponse(w, v, res));
  });
}

// ApiVersions v3 request decode + response encode (60 API keys).
{
  const v = 3;
  const req = defaultApiVersionsRequest();
  req.clientSoftwareName = 'bench';
  req.clientSoftwareVersion = '1.0';
  const frame = Buffer.concat(
    encodeRequestFrame(18, v, 1, 'bench', (w) => encodeApiVersionsRequest(w, v, req)),
  ).subarray(4);
  const res = defaultApiVersionsResponse();
  for (let k = 0; k < 60; k++) res.apiKeys.push({ apiKey: k, minVersion: 0, maxVersion: 9 });
  measure('ApiVersions v3 request decode + response encode', 0, () => {
    const { body } = parseRequestHeader(frame);
    decodeApiVersionsRequest(body, v);
    encodeResponseFrame(18, v, 1, (w) => encodeApiVersionsResponse(w, v, res));
  });
}
