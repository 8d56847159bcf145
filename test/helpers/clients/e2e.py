"""End-to-end run of one Python Kafka client against a broker: create a topic, produce keyed records with
headers in each codec, consume everything from the beginning, look offsets up by time, delete the topic.

usage: e2e.py CLIENT BOOTSTRAP TOPIC COUNT CODECS
CLIENT is 'confluent' (librdkafka) or 'kafka-python'. CODECS is a comma list (none,gzip,snappy,lz4,zstd).
Prints 'OK <detail>' on success, or 'FAIL <why>' and exits 1. Every wait is bounded.
"""
import sys
import time

client, bootstrap, topic, count, codecs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5].split(',')
T0 = int(time.time() * 1000) - 600000  # timestamps in the past, one ms apart per record


def fail(why):
    print('FAIL ' + why)
    sys.stdout.flush()
    sys.exit(1)


def expected():
    out = []
    for ci, codec in enumerate(codecs):
        for i in range(count):
            n = ci * count + i
            out.append(('k%d' % (n % 97), 'v%d-%s' % (n, codec), T0 + n))
    return out


def check(records):
    exp = expected()
    got = [(k, v, ts) for (k, v, ts, hdrs) in records]
    if len(got) != len(exp):
        fail('consumed %d records, expected %d' % (len(got), len(exp)))
    if got != exp:
        for i, (a, b) in enumerate(zip(got, exp)):
            if a != b:
                fail('record %d: got %r expected %r' % (i, a, b))
    for (k, v, ts, hdrs) in records:
        if hdrs != [('idx', v.encode()), ('src', b'e2e')]:
            fail('headers of %s: %r' % (v, hdrs))


if client == 'confluent':
    from confluent_kafka import Producer, Consumer, TopicPartition, OFFSET_BEGINNING
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({'bootstrap.servers': bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)
    for ci, codec in enumerate(codecs):
        p = Producer({'bootstrap.servers': bootstrap, 'compression.type': codec, 'linger.ms': 5, 'acks': 'all'})
        for i in range(count):
            n = ci * count + i
            v = 'v%d-%s' % (n, codec)
            while True:
                try:
                    p.produce(topic, key='k%d' % (n % 97), value=v, partition=0, timestamp=T0 + n,
                              headers=[('idx', v.encode()), ('src', b'e2e')])
                    break
                except BufferError:
                    p.poll(0.05)
        if p.flush(30) != 0:
            fail('producer did not deliver everything (%s)' % codec)
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'e2e-unused', 'enable.auto.commit': False,
                  'enable.partition.eof': True})
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    records = []
    deadline = time.time() + 60
    while time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:
                break
            fail(str(m.error()))
        records.append((m.key().decode(), m.value().decode(), m.timestamp()[1], list(m.headers() or [])))
    check(records)
    want = T0 + len(codecs) * count // 2
    got = c.offsets_for_times([TopicPartition(topic, 0, want)], timeout=10)[0].offset
    if got != len(codecs) * count // 2:
        fail('offsets_for_times(%d) = %d' % (want, got))
    c.close()
    admin.delete_topics([topic])[topic].result(10)
    print('OK %d records, codecs %s' % (len(records), ','.join(codecs)))
elif client == 'kafka-python':
    from kafka import KafkaProducer, KafkaConsumer, TopicPartition
    from kafka.admin import KafkaAdminClient, NewTopic
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    admin.create_topics([NewTopic(topic, 1, 1)])
    for ci, codec in enumerate(codecs):
        p = KafkaProducer(bootstrap_servers=bootstrap, compression_type=None if codec == 'none' else codec, acks='all',
                          linger_ms=5)
        for i in range(count):
            n = ci * count + i
            v = 'v%d-%s' % (n, codec)
            p.send(topic, key=('k%d' % (n % 97)).encode(), value=v.encode(), partition=0, timestamp_ms=T0 + n,
                   headers=[('idx', v.encode()), ('src', b'e2e')])
        p.flush(30)
        p.close(10)
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000)
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    end = c.end_offsets([tp])[tp]
    records = []
    deadline = time.time() + 60
    while time.time() < deadline and c.position(tp) < end:
        for batch in c.poll(timeout_ms=500).values():
            for m in batch:
                records.append((m.key.decode(), m.value.decode(), m.timestamp, [(k, bytes(v)) for k, v in m.headers]))
    check(records)
    want = T0 + len(codecs) * count // 2
    got = c.offsets_for_times({tp: want})[tp].offset
    if got != len(codecs) * count // 2:
        fail('offsets_for_times(%d) = %d' % (want, got))
    c.close()
    admin.delete_topics([topic])
    admin.close()
    print('OK %d records, codecs %s' % (len(records), ','.join(codecs)))
else:
    fail('unknown client ' + client)
