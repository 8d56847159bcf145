"""Idempotent producer via confluent_kafka (librdkafka): usage idempotent_produce.py BOOTSTRAP TOPIC COUNT.

Produces COUNT records (values v000000...) to partition 0 with enable.idempotence=true and small batches,
waits for every delivery report (bounded), and prints RESULT {"delivered": n, "failed": n, "errors": [...]}.
"""
import json, sys, time
from confluent_kafka import Producer

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = Producer({
    'bootstrap.servers': bootstrap,
    'enable.idempotence': True,
    'linger.ms': 2,
    'batch.num.messages': 7,
    'message.timeout.ms': 30000,
    'retry.backoff.ms': 50,
})
res = {'delivered': 0, 'failed': 0, 'errors': []}


def report(err, msg):
    if err is None:
        res['delivered'] += 1
    else:
        res['failed'] += 1
        if len(res['errors']) < 5:
            res['errors'].append(str(err))


deadline = time.time() + 40
for i in range(count):
    while time.time() < deadline:
        try:
            p.produce(topic, value=b'v%06d' % i, partition=0, on_delivery=report)
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
    if i % 10 == 9:
        p.flush(10)
p.flush(30)
print('RESULT ' + json.dumps(res))
sys.stdout.flush()
