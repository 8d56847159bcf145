"""An idempotent acks=all producer (confluent-kafka / librdkafka) that runs until told to stop.

usage: idempotent_acked.py BOOTSTRAP TOPIC STOPFILE PREFIX
Produces keyed records with values PREFIX000000, PREFIX000001, ... (about 200 a second) until STOPFILE
exists (or 240 s pass), then flushes (bounded). Prints "ACK <partition> <offset> <value>" per acknowledged
record, "FAIL <value> <error>" per failed one and "ERR <error>" per client error (error_cb), flushed at once,
so a test that kills brokers meanwhile knows exactly what was acknowledged. With RDKAFKA_DEBUG (librdkafka debug contexts, e.g. broker,topic,msg,protocol,eos)
and RDKAFKA_DEBUG_LOG (a file) set, librdkafka's debug log goes to that file.
"""
import os
import sys
import logging
import time
from confluent_kafka import Producer

bootstrap, topic, stopfile, prefix = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def on_error(err):
    sys.stdout.write('ERR %s\n' % str(err).replace('\n', ' '))
    sys.stdout.flush()


debug = {}
if os.environ.get('RDKAFKA_DEBUG') and os.environ.get('RDKAFKA_DEBUG_LOG'):
    log = logging.getLogger('rdkafka')
    handler = logging.FileHandler(os.environ['RDKAFKA_DEBUG_LOG'])
    handler.setFormatter(logging.Formatter('%(asctime)s %(message)s'))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    debug = {'debug': os.environ['RDKAFKA_DEBUG'], 'logger': log}

p = Producer({
    **debug,
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
