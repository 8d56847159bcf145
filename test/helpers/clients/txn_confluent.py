"""librdkafka transactions via confluent_kafka: usage txn_confluent.py BOOTSTRAP IN OUT GROUP.

Commits c1,c2 to OUT, aborts a1, then consume-transform-produce: reads the 4 records of IN through
GROUP (read_committed, no auto commit), writes them upper-cased to OUT and commits the consumed offsets
with send_offsets_to_transaction. Finally reads OUT with read_committed and read_uncommitted consumers
and prints RESULT {json}. Every loop is bounded.
"""
import json, sys, time
from confluent_kafka import Consumer, Producer, TopicPartition

bootstrap, topic_in, topic_out, group = sys.argv[1:5]
p = Producer({'bootstrap.servers': bootstrap, 'transactional.id': 'py-txn', 'transaction.timeout.ms': 30000})
p.init_transactions(30)
p.begin_transaction()
p.produce(topic_out, b'c1', partition=0)
p.produce(topic_out, b'c2', partition=1)
p.commit_transaction(30)
p.begin_transaction()
p.produce(topic_out, b'a1', partition=0)
p.flush(30)
p.abort_transaction(30)

c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'isolation.level': 'read_committed',
              'enable.auto.commit': False, 'auto.offset.reset': 'earliest'})
c.subscribe([topic_in])
got = []
deadline = time.time() + 40
while len(got) < 4 and time.time() < deadline:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    got.append(m)
if len(got) < 4:
    print('FAIL consumed', len(got)); sys.exit(1)
p.begin_transaction()
for m in got:
    p.produce(topic_out, m.value().upper(), partition=m.partition())
p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 30)
p.commit_transaction(30)
c.close()


def read_all(isolation, want):
    r = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'py-check-' + isolation, 'isolation.level': isolation,
                  'enable.auto.commit': False, 'auto.offset.reset': 'earliest', 'enable.partition.eof': True})
    r.assign([TopicPartition(topic_out, 0, 0), TopicPartition(topic_out, 1, 0)])
    vals, eof = [], set()
    deadline = time.time() + 30
    while time.time() < deadline and (len(eof) < 2 or len(vals) < want):
        m = r.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                eof.add(m.partition())
            continue
        vals.append(m.value().decode())
    r.close()
    return vals


print('RESULT ' + json.dumps({'committed_view': read_all('read_committed', 6), 'uncommitted_view': read_all('read_uncommitted', 7)}))
