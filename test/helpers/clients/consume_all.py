"""Read a partition from the beginning to its end with confluent-kafka (manual assignment, no group).

usage: consume_all.py BOOTSTRAP TOPIC PARTITION
Prints "REC <offset> <key> <value> <timestamp>" per record and "END <high watermark>"; stops at the end
of the partition or after 30 s.
"""
import sys
import time
from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

bootstrap, topic, partition = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = Consumer({
    'bootstrap.servers': bootstrap,
    'group.id': 'unused-manual-assignment',
    'enable.auto.commit': False,
    'enable.partition.eof': True,
    'auto.offset.reset': 'earliest',
})
c.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
deadline = time.time() + 30
while time.time() < deadline:
    m = c.poll(0.5)
    if m is None:
        continue
    if m.error():
        if m.error().code() == -191:  # _PARTITION_EOF
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, partition), timeout=5)
            sys.stdout.write('END %d\n' % hi)
            break
        sys.stdout.write('ERR %s\n' % m.error())
        break
    key = m.key().decode() if m.key() is not None else '-'
    sys.stdout.write('REC %d %s %s %d\n' % (m.offset(), key, m.value().decode(), m.timestamp()[1]))
c.close()
