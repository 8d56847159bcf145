"""A confluent-kafka (librdkafka) group member for test/client/interop.test.ts: joins GROUP for TOPIC with the
range,roundrobin strategies and prints its assignment (a JSON list of partitions) each time it changes, until
SECONDS have passed. usage: mixed_group.py BOOTSTRAP GROUP TOPIC SECONDS"""
import sys, time, json
from confluent_kafka import Consumer

c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': sys.argv[2], 'auto.offset.reset': 'earliest',
              'partition.assignment.strategy': 'range,roundrobin', 'session.timeout.ms': 6000,
              'heartbeat.interval.ms': 200, 'log_level': 0})
c.subscribe([sys.argv[3]])
end = time.time() + float(sys.argv[4])
last = None
while time.time() < end:
    c.poll(0.1)
    a = sorted(p.partition for p in c.assignment())
    if a != last:
        print(json.dumps(a), flush=True)
        last = a
c.close()
