/**
 * A campaigner in a process of its own, for tests that SIGKILL a leader: connects to the etcd given as
 * argv[2], opens a session (TTL argv[4] ms), campaigns as node argv[3], prints `LEADER <epoch>` once elected
 * and then stays until killed.
 */
import { connectEtcd } from '../../replication/etcd/connection.js';
import { Election } from '../../replication/etcd/election.js';
import { EtcdSession } from '../../replication/etcd/session.js';

const [endpoint, nodeId, ttlMs, cluster] = process.argv.slice(2);
const conn = connectEtcd({ endpoints: [endpoint], cluster: cluster ?? 'runnel' });
const session = new EtcdSession(conn, { ttlMs: Number(ttlMs) });
await session.start();
const leadership = await new Election(session, Number(nodeId)).campaign();
process.stdout.write(`LEADER ${leadership.epoch}\n`);
setInterval(() => {}, 60_000);
