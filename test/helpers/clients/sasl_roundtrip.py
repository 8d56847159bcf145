"""Produce three records and consume them back over SASL_PLAINTEXT with kafka-python or confluent-kafka.

usage: sasl_roundtrip.py CLIENT BOOTSTRAP TOPIC MECHANISM USER PASSWORD
CLIENT is kafka-python or confluent. Prints "OK v0,v1,v2" when all three came back in order, else "FAIL ..."
(an authentication failure included). Every wait is bounded (about 30 s in all).
"""
import sys
import time

client, bootstrap, topic, mechanism, user, password = sys.argv[1:7]
values = ['v0', 'v1', 'v2']

try:
    if client == 'kafka-python':
        from kafka import KafkaConsumer, KafkaProducer
        common = dict(bootstrap_servers=bootstrap, security_protocol='SASL_PLAINTEXT', sasl_mechanism=mechanism,
                      sasl_plain_username=user, sasl_plain_password=password, api_version_auto_timeout_ms=10000)
        p = KafkaProducer(acks='all', **common)
        for v in values:
            p.send(topic, v.encode(), partition=0).get(timeout=10)
        p.close(5)
        c = KafkaConsumer(topic, group_id='sasl-kp', auto_offset_reset='earliest', consumer_timeout_ms=20000,
                          **common)
        got = []
        for m in c:
            got.append(m.value.decode())
            if len(got) == 3:
                break
        c.close()
    else:
        from confluent_kafka import Consumer, Producer
        common = {'bootstrap.servers': bootstrap, 'security.protocol': 'SASL_PLAINTEXT',
                  'sasl.mechanism': mechanism, 'sasl.username': user, 'sasl.password': password}
        errors = []
        p = Producer(dict(common, **{'acks': 'all', 'message.timeout.ms': 10000,
                                     'error_cb': lambda e: errors.append(str(e))}))
        failed = []
        for v in values:
            p.produce(topic, v.encode(), partition=0, on_delivery=lambda e, m: e and failed.append(str(e)))
        left = p.flush(15)
        if left or failed:
            raise RuntimeError('not delivered: %d (%s)' % (left + len(failed), '; '.join((errors + failed)[:3])))
        c = Consumer(dict(common, **{'group.id': 'sasl-cf', 'auto.offset.reset': 'earliest'}))
        c.subscribe([topic])
        got = []
        deadline = time.time() + 20
        while len(got) < 3 and time.time() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            got.append(m.value().decode())
        c.close()
    print(('OK ' if got == values else 'FAIL got ') + ','.join(got))
except Exception as e:  # noqa: BLE001 - the test reads the reason
    print('FAIL %s: %s' % (type(e).__name__, e))
