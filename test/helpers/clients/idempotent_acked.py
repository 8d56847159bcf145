"""An idempotent acks=all producer (confluent-kafka / librdkafka) that runs until told to stop.

usage: idempotent_acked.py BOOTSTRAP TOPIC STOPFILE PREFIX
Produces keyed records with values PREFIX000000, PREFIX000001, ... (about 200 a second) until STOPFILE
exists (or 240 s pass), then flushes (bounded). Prints "ACK <partition> <offset> <value>" per acknowledged
record, "FAIL <value> <error>" per failed one and "ERR <error>" per client error (error_cb), flushed at once, so a test that kills brokers meanwhile knows
exactly what was acknowledged.
"""
import os
import sys
import time
from confluent_kafka import Producer

bootstrap, topic, stopfile, prefix = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def on_error(err):
    sys.stdout.write('ERR %s\n' % str(err).replace('\n', ' '))
    sys.stdout.flush()


p = Producer({
    'bootstrap.servers': bootstrap,
    'error_cb': on_error,
    'enable.idempotence': True,
    'acks': 'all',
    'linger.ms': 5,
    'message.timeout.ms': 120000,
    'retry.backoff.ms': 100,
    'socket.timeout.ms': 10000,
    'topic.metadata.refresh.interval.ms': 1000,
})


def report(err, msg):
    if err is None:
        sys.stdout.write('ACK %d %d %s\n' % (msg.partition(), msg.offset(), msg.value().decode()))
    else:
        sys.stdout.write('FAIL %s %s\n' % (msg.value().decode(), str(err).replace('\n', ' ')))
    sys.stdout.flush()


deadline = time.time() + 240
i = 0
while time.time() < deadline and not os.path.exists(stopfile):
    try:
        p.produce(topic, key=b'k%d' % (i % 30), value=(prefix + '%06d' % i).encode(), on_delivery=report)
        i += 1
    except BufferError:
        pass
    p.poll(0.005)
left = p.flush(60)
sys.stdout.write('DONE %d %d\n' % (i, left))
sys.stdout.flush()
