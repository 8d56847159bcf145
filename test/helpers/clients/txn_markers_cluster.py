"""librdkafka transactions over a cluster: usage txn_markers_cluster.py COORDINATOR_BOOTSTRAP ALL_BOOTSTRAP TOPIC N.

A transactional producer bootstrapped with one broker only (librdkafka asks its first connected broker for the
transaction coordinator and keeps it) writes to the N partitions of TOPIC: commits c0-<p>, c1-<p>, aborts a-<p>,
then commits d-<p>. Consumers assigned to every partition (no group) read TOPIC from offset 0 with
read_committed and read_uncommitted through ALL_BOOTSTRAP; prints RESULT {json}. Every loop is bounded.
"""
import json, sys, time
from confluent_kafka import Consumer, Producer, TopicPartition

coord, everyone, topic, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
p = Producer({'bootstrap.servers': coord, 'transactional.id': 'markers-cluster', 'transaction.timeout.ms': 60000,
              'enable.sparse.connections': True})
p.init_transactions(60)
for name, commit in (('c', True), ('a', False), ('d', True)):
    p.begin_transaction()
    for part in range(n):
        if name == 'c':
            p.produce(topic, ('c0-%d' % part).encode(), partition=part)
            p.produce(topic, ('c1-%d' % part).encode(), partition=part)
        else:
            p.produce(topic, ('%s-%d' % (name, part)).encode(), partition=part)
    p.flush(60)
    if commit:
        p.commit_transaction(60)
    else:
        p.abort_transaction(60)


def read_all(isolation, want):
    r = Consumer({'bootstrap.servers': everyone, 'group.id': 'markers-check-' + isolation,
                  'isolation.level': isolation, 'enable.auto.commit': False, 'auto.offset.reset': 'earliest',
                  'enable.partition.eof': True})
    r.assign([TopicPartition(topic, part, 0) for part in range(n)])
    vals, eof = [], set()
    deadline = time.time() + 60
    while time.time() < deadline and (len(eof) < n or len(vals) < want):
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


print('RESULT ' + json.dumps({'committed_view': read_all('read_committed', 3 * n),
                              'uncommitted_view': read_all('read_uncommitted', 4 * n)}))
