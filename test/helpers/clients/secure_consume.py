"""Consume COUNT records through a consumer group with confluent-kafka (librdkafka) over SASL_SSL, then commit.

usage: secure_consume.py BOOTSTRAP TOPIC GROUP COUNT CA_PEM MECHANISM USER PASSWORD
Prints "OK v,v,..." (the values in order) once COUNT records came and the commit succeeded, else "FAIL <why>"
(an authorization or authentication error included). Bounded: about 30 s.
"""
import sys
import time
from confluent_kafka import Consumer, KafkaException

bootstrap, topic, group, count, ca, mechanism, user, password = sys.argv[1:9]
count = int(count)
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'auto.offset.reset': 'earliest',
              'enable.auto.commit': False, 'security.protocol': 'SASL_SSL', 'ssl.ca.location': ca,
              'sasl.mechanism': mechanism, 'sasl.username': user, 'sasl.password': password})
got = []
try:
    c.subscribe([topic])
    deadline = time.time() + 30
    while len(got) < count and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().fatal() or 'AUTHORIZATION' in m.error().name() or 'AUTHENTICATION' in m.error().name():
                raise KafkaException(m.error())
            continue
        got.append(m.value().decode())
    if len(got) < count:
        raise RuntimeError('got %d of %d' % (len(got), count))
    c.commit(asynchronous=False)
    print('OK ' + ','.join(got))
except Exception as e:  # noqa: BLE001 - the test reads the reason
    print('FAIL %s: %s' % (type(e).__name__, e))
finally:
    c.close()
