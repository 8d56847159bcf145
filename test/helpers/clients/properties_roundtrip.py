"""Produce two records and read them back with confluent-kafka, configured by a librdkafka properties file.

usage: properties_roundtrip.py PROPERTIES_FILE TOPIC
The file's `key=value` lines (as `kcat -F` reads them; `#` comments) become the config dict of the producer and
of the consumer (which assigns partition 0 from the beginning: no group join). Prints "OK" when both records
came back in order, else "FAIL <why>". Bounded: 30 s for each side.
"""
import sys
import time
from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING

path, topic = sys.argv[1], sys.argv[2]
conf = {}
with open(path) as f:
    for line in f:
        line = line.strip()
        if line and not line.startswith('#') and '=' in line:
            key, value = line.split('=', 1)
            conf[key.strip()] = value.strip()

p = Producer({**conf, 'message.timeout.ms': 30000})
failed = []
for v in (b'one', b'two'):
    p.produce(topic, value=v, partition=0, on_delivery=lambda err, msg: failed.append(str(err)) if err else None)
left = p.flush(30)
if left or failed:
    print('FAIL produce: %d left, errors %s' % (left, failed[:3]))
    sys.exit(1)

c = Consumer({**conf, 'group.id': 'readme-' + topic, 'enable.auto.commit': False})
c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
got = []
deadline = time.time() + 30
while len(got) < 2 and time.time() < deadline:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    got.append(m.value().decode())
c.close()
print('OK' if got == ['one', 'two'] else 'FAIL consume: got %s' % got)
