"""Capture driver for confluent-kafka (librdkafka): metadata for `golden`, 3 keyed records with a header,
one CreateTopics through the AdminClient.

Usage: /usr/bin/python3 drive_confluent_kafka.py <port>. The caller bounds the run time.
"""
import sys

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

port = int(sys.argv[1])
conf = {
    "bootstrap.servers": f"127.0.0.1:{port}",
    "client.id": "golden-confluent-kafka",
    "socket.timeout.ms": 5000,
    "message.timeout.ms": 10000,
    "linger.ms": 1000,
}

producer = Producer(conf)
md = producer.list_topics("golden", timeout=5)
assert "golden" in md.topics, md.topics
errors = []


def report(err, _msg):
    if err is not None:
        errors.append(err)


for i in range(3):
    producer.produce("golden", key=f"k{i}", value=f"v{i}", headers=[("h", f"x{i}".encode())], on_delivery=report)
left = producer.flush(10)
assert left == 0 and not errors, (left, errors)

admin = AdminClient(conf)
futures = admin.create_topics([NewTopic("golden-admin", num_partitions=1, replication_factor=1)], request_timeout=5)
for f in futures.values():
    f.result(timeout=10)
