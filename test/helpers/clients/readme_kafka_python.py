"""Run README's kafka-python example: SNIPPET_FILE holds one `KafkaProducer(...)` expression as the README writes
it. Produces two records with that producer, then reads them back with a KafkaConsumer made of the same settings
(partition 0 assigned from the beginning: no group). Prints "OK" when both came back in order, else "FAIL <why>".

usage: readme_kafka_python.py SNIPPET_FILE TOPIC
Bounded: 30 s for each side.
"""
import sys
import time
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

path, topic = sys.argv[1], sys.argv[2]
with open(path) as f:
    snippet = f.read()
settings = {}


def capture(**kwargs):
    settings.update(kwargs)
    return KafkaProducer(**kwargs)


producer = eval(snippet, {'KafkaProducer': capture})
for v in (b'one', b'two'):
    producer.send(topic, value=v, partition=0).get(timeout=30)
producer.close(timeout=10)

consumer = KafkaConsumer(**settings, enable_auto_commit=False, consumer_timeout_ms=1000)
tp = TopicPartition(topic, 0)
consumer.assign([tp])
consumer.seek_to_beginning(tp)
got = []
deadline = time.time() + 30
while len(got) < 2 and time.time() < deadline:
    for batch in consumer.poll(timeout_ms=500).values():
        got.extend(m.value.decode() for m in batch)
consumer.close()
print('OK' if got == ['one', 'two'] else 'FAIL consume: got %s' % got)
