/**
 * `--add-scram` (Kafka's `kafka-storage format --add-scram` syntax) and startBroker's `scramUsers`: SCRAM
 * credentials created at start, e.g. `SCRAM-SHA-256=[name=alice,password=alice-secret]`, with optional
 * `iterations=` (default 4096), `salt=` (base64; default random) and `saltedpassword=` (base64, instead of
 * `password=`; needs `salt=`). Values may be double-quoted.
 *
 * Invariant: a credential is created only when that user has none for that mechanism yet, so restarting with
 * the same flags never overwrites a password changed since (AlterUserScramCredentials).
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { ConfigError } from '../../config-model.js';
import {
  type ScramCredentialStore,
  type ScramUpsertion,
  scramMechanism,
} from '../../../replication/metadata/scram-credentials.js';

export interface ScramUserSpec {
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  name: string;
  password?: string;
  iterations?: number;
  /** base64 */
  salt?: string;
  /** base64 */
  saltedPassword?: string;
}

const KEYS = new Set(['name', 'password', 'iterations', 'salt', 'saltedpassword']);

/** Parse one `--add-scram` argument; ConfigError on bad syntax (never echoing the password). */
export function parseAddScram(arg: string): ScramUserSpec {
  const m = /^\s*([A-Za-z0-9-]+)\s*=\s*\[(.*)\]\s*$/s.exec(arg);
  if (!m) throw new ConfigError('--add-scram: expected MECHANISM=[name=...,password=...]');
  const mech = scramMechanism(m[1].toUpperCase());
  if (!mech) throw new ConfigError(`--add-scram: unknown SCRAM mechanism ${m[1]} (SCRAM-SHA-256 or SCRAM-SHA-512)`);
  const values = new Map<string, string>();
  const re = /\s*([A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*?))\s*(?:,|$)/gsy;
  const body = m[2];
  while (re.lastIndex < body.length) {
    const start = re.lastIndex;
    const kv = re.exec(body);
    if (!kv || re.lastIndex === start)
      throw new ConfigError('--add-scram: expected key=value pairs separated by commas');
    const key = kv[1].toLowerCase();
    if (!KEYS.has(key)) throw new ConfigError(`--add-scram: unknown key ${kv[1]}`);
    if (values.has(key)) throw new ConfigError(`--add-scram: ${key} is given twice`);
    values.set(key, kv[2] !== undefined ? kv[2].replace(/\\(.)/g, '$1') : kv[3]);
  }
  const name = values.get('name');
  if (!name) throw new ConfigError('--add-scram: name= is required');
  const spec: ScramUserSpec = { mechanism: mech.name, name };
  if (values.has('iterations')) {
    const it = Number(values.get('iterations'));
    if (!Number.isInteger(it) || it < mech.minIterations || it > mech.maxIterations)
      throw new ConfigError(`--add-scram: iterations must be ${mech.minIterations}..${mech.maxIterations}`);
    spec.iterations = it;
  }
  if (values.has('salt')) spec.salt = values.get('salt');
  if (values.has('password')) spec.password = values.get('password');
  if (values.has('saltedpassword')) spec.saltedPassword = values.get('saltedpassword');
  if ((spec.password === undefined) === (spec.saltedPassword === undefined))
    throw new ConfigError(`--add-scram: ${name}: give exactly one of password= and saltedpassword=`);
  if (spec.saltedPassword !== undefined && spec.salt === undefined)
    throw new ConfigError(`--add-scram: ${name}: saltedpassword= needs salt=`);
  return spec;
}

/** The AlterUserScramCredentials upsertion of one spec (the salted password computed when a password is given). */
export function scramUpsertion(spec: ScramUserSpec): ScramUpsertion {
  const mech = scramMechanism(spec.mechanism);
  if (!mech) throw new ConfigError(`unknown SCRAM mechanism ${spec.mechanism}`);
  const iterations = spec.iterations ?? 4096;
  const salt = spec.salt !== undefined ? Buffer.from(spec.salt, 'base64') : randomBytes(32);
  if (salt.length === 0) throw new ConfigError(`SCRAM user ${spec.name}: salt is empty`);
  const saltedPassword =
    spec.saltedPassword !== undefined
      ? Buffer.from(spec.saltedPassword, 'base64')
      : pbkdf2Sync(spec.password ?? '', salt, iterations, mech.hash === 'sha256' ? 32 : 64, mech.hash);
  return { name: spec.name, mechanism: mech.type, iterations, salt, saltedPassword };
}

/** Create each credential the store lacks; returns the `MECHANISM:name` of those created. */
export async function addScramUsers(
  store: ScramCredentialStore,
  specs: readonly (string | ScramUserSpec)[],
): Promise<string[]> {
  const created: string[] = [];
  for (const s of specs) {
    const spec = typeof s === 'string' ? parseAddScram(s) : s;
    if (store.credential(spec.name, spec.mechanism)) continue;
    const [r] = await store.alter([], [scramUpsertion(spec)]);
    if (r.code !== 0) throw new ConfigError(`SCRAM user ${spec.name}: ${r.message}`);
    created.push(`${spec.mechanism}:${spec.name}`);
  }
  return created;
}
