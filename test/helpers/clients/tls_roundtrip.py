"""Produce COUNT records and consume them back with confluent-kafka (librdkafka) over SSL.

usage: tls_roundtrip.py BOOTSTRAP TOPIC COUNT CA_PEM [CERT_PEM KEY_PEM]
Prints "OK <n>" when every record came back in order, else "FAIL <why>". Bounded: 30 s for each side.
"""
import sys
import time
from confluent_kafka import Consumer, Producer

bootstrap, topic, count, ca = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
tls = {'security.protocol': 'SSL', 'ssl.ca.location': ca}
if len(sys.argv) > 6:
    tls['ssl.certificate.location'] = sys.argv[5]
    tls['ssl.key.location'] = sys.argv[6]

p = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'message.timeout.ms': 30000, **tls})
failed = []
for i in range(count):
    p.produce(topic, key=b'k%d' % i, value=b'v%d' % i, partition=0,
              on_delivery=lambda err, msg: failed.append(str(err)) if err else None)
left = p.flush(30)
if left or failed:
    print('FAIL produce: %d left, errors %s' % (left, failed[:3]))
    sys.exit(1)

c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'tls-rt-' + topic, 'auto.offset.reset': 'earliest', **tls})
c.subscribe([topic])
got = []
deadline = time.time() + 30
while len(got) < count and time.time() < deadline:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    got.append(m.value().decode())
c.close()
want = ['v%d' % i for i in range(count)]
print('OK %d' % len(got) if got == want else 'FAIL consume: got %d, first %s' % (len(got), got[:3]))
