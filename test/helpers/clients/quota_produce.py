"""Produce 1 KB records with confluent-kafka (librdkafka) as fast as the client goes, for a fixed time.

usage: quota_produce.py BOOTSTRAP TOPIC CLIENT_ID SECONDS
librdkafka honours throttle_time_ms itself (it holds back requests to a broker that throttled it). Prints
"OK <delivered> <throttle events> <largest throttle ms>" at the end; stops after SECONDS (drops what is still
queued) and exits within SECONDS + 10 s.
"""
import sys
import time
from confluent_kafka import Producer

bootstrap, topic, client_id, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
stats = {'delivered': 0, 'throttles': 0, 'max_throttle': 0}


def throttled(event):
    stats['throttles'] += 1
    stats['max_throttle'] = max(stats['max_throttle'], int(event.throttle_time * 1000))


def delivered(err, msg):
    if err is None:
        stats['delivered'] += 1


p = Producer({
    'bootstrap.servers': bootstrap,
    'client.id': client_id,
    'acks': '1',
    'linger.ms': 5,
    # Requests of at most 64 KB (librdkafka's default is 1 MB): the rate over 10 s is then not decided by
    # whether one more 1 MB request (a third of it) falls inside the window.
    'batch.size': 65536,
    'queue.buffering.max.messages': 20000,
    'message.timeout.ms': 60000,
    'throttle_cb': throttled,
})
value = b'x' * 1024
deadline = time.time() + seconds
while time.time() < deadline:
    try:
        p.produce(topic, value=value, partition=0, on_delivery=delivered)
    except BufferError:
        p.poll(0.05)
        continue
    p.poll(0)
p.purge(in_queue=True)
p.flush(10)
print('OK %d %d %d' % (stats['delivered'], stats['throttles'], stats['max_throttle']))
sys.stdout.flush()
