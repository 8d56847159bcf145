"""Consume a topic through a consumer group (subscribe, committed offsets) and commit what was read.

usage: group_consume.py CLIENT BOOTSTRAP TOPIC GROUP EXPECTED
CLIENT is "confluent" (librdkafka) or "kafka-python". Reads until EXPECTED records arrived (or 40 s passed),
commits synchronously, keeps polling 2 s more to catch re-deliveries, closes (leaving the group) and prints
"REC <partition> <offset> <value>" per record, then "OK <count>" or "ERR ...".
"""
import sys
import time

client, bootstrap, topic, group, expected = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
got = []
deadline = time.time() + 40

if client == 'confluent':
    from confluent_kafka import Consumer
    c = Consumer({
        'bootstrap.servers': bootstrap,
        'group.id': group,
        'enable.auto.commit': False,
        'auto.offset.reset': 'earliest',
        'session.timeout.ms': 10000,
    })
    c.subscribe([topic])
    extra_until = None
    while time.time() < deadline and (extra_until is None or time.time() < extra_until):
        m = c.poll(0.2)
        if m is not None:
            if m.error():
                sys.stdout.write('ERR %s\n' % m.error())
                continue
            got.append((m.partition(), m.offset(), m.value().decode()))
        if extra_until is None and len(got) >= expected:
            c.commit(asynchronous=False)
            extra_until = time.time() + 2
    if got:
        try:
            c.commit(asynchronous=False)
        except Exception as e:  # nothing new since the last commit: librdkafka reports _NO_OFFSET
            if '_NO_OFFSET' not in str(e):
                raise
    c.close()
elif client == 'kafka-python':
    from kafka import KafkaConsumer
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                      auto_offset_reset='earliest', session_timeout_ms=10000, heartbeat_interval_ms=1000)
    extra_until = None
    while time.time() < deadline and (extra_until is None or time.time() < extra_until):
        batch = c.poll(timeout_ms=200)
        for tp, msgs in batch.items():
            for m in msgs:
                got.append((m.partition, m.offset, m.value.decode()))
        if extra_until is None and len(got) >= expected:
            c.commit()
            extra_until = time.time() + 2
    if got:
        c.commit()
    c.close()
else:
    sys.stdout.write('ERR unknown client %s\n' % client)
    sys.exit(2)

for p, o, v in got:
    sys.stdout.write('REC %d %d %s\n' % (p, o, v))
sys.stdout.write('OK %d\n' % len(got))
