/**
 * The etcd layer under the replicated cluster's metadata store: connection and key prefix, CAS reads and
 * writes, watches that resume, a leased session, broker registration and leader election. Import it only on
 * the cluster path (with `etcd.endpoints` set): connectEtcd loads the etcd client.
 */
export { clusterPrefix, connectEtcd, EtcdConnection, type EtcdConnectOptions, type EtcdLog } from './connection.js';
export { Election, Leadership, type LeaderInfo } from './election.js';
export * from './kv.js';
export { BrokerRegistration, brokerKey, type BrokerInfo, type RegistrationState } from './registration.js';
export { EtcdSession, type SessionOptions, type SessionState } from './session.js';
export { EtcdWatch, watch, type WatchEvent, type WatchOptions } from './watch.js';
