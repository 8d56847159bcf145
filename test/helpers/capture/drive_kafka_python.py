"""Capture driver for kafka-python: metadata for `golden`, 3 keyed records with a header, one CreateTopics.

Usage: /usr/bin/python3 drive_kafka_python.py <port>. The caller bounds the run time.
"""
import sys

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

port = int(sys.argv[1])
bootstrap = f"127.0.0.1:{port}"

producer = KafkaProducer(
    bootstrap_servers=bootstrap,
    client_id="golden-kafka-python",
    acks="all",
    linger_ms=1000,
    api_version_auto_timeout_ms=5000,
    request_timeout_ms=5000,
    max_block_ms=5000,
)
partitions = producer.partitions_for("golden")
assert partitions == {0}, partitions
futures = [
    producer.send("golden", key=f"k{i}".encode(), value=f"v{i}".encode(), headers=[("h", f"x{i}".encode())])
    for i in range(3)
]
producer.flush(timeout=10)
for f in futures:
    f.get(timeout=5)
producer.close(timeout=5)

admin = KafkaAdminClient(
    bootstrap_servers=bootstrap,
    client_id="golden-kafka-python",
    api_version_auto_timeout_ms=5000,
    request_timeout_ms=5000,
)
admin.create_topics([NewTopic(name="golden-admin", num_partitions=1, replication_factor=1)], timeout_ms=5000)
admin.close()
