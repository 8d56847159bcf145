"""Produce numbered keyed records with confluent-kafka (librdkafka) and print each acknowledged one.

usage: produce_acked.py BOOTSTRAP TOPIC COUNT ACKS
Prints "ACK <partition> <offset> <value>" per delivered record, flushed at once, so a test that kills the
broker mid-stream knows exactly what was acknowledged. No retries: a record is either acknowledged or
reported failed, never sent twice. Stops by itself after COUNT records or 30 s.
"""
import sys
import time
from confluent_kafka import Producer

bootstrap, topic, count, acks = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
p = Producer({
    'bootstrap.servers': bootstrap,
    'acks': acks,
    'message.send.max.retries': 0,
    'linger.ms': 1,
    'message.timeout.ms': 5000,
    'socket.timeout.ms': 5000,
})


def report(err, msg):
    if err is None:
        sys.stdout.write('ACK %d %d %s\n' % (msg.partition(), msg.offset(), msg.value().decode()))
    else:
        sys.stdout.write('FAIL %s\n' % msg.value().decode())
    sys.stdout.flush()


deadline = time.time() + 30
for i in range(count):
    if time.time() > deadline:
        break
    while True:
        try:
            p.produce(topic, key=b'k%d' % (i % 10), value=b'v%06d' % i, partition=0, on_delivery=report)
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
    if i % 200 == 0:
        time.sleep(0.01)
p.flush(10)
