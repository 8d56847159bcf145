/**
 * SCRAM credentials through the admin APIs of KIP-554, as Kafka's admin client does them:
 * DescribeUserScramCredentials (key 50) lists users' mechanisms and iteration counts (never salts or keys);
 * AlterUserScramCredentials (key 51) deletes and upserts them. For an upsert the client picks a random salt
 * and sends SaltedPassword = Hi(password, salt, iterations) (RFC 5802: PBKDF2 with HMAC-SHA-256/512, output
 * the hash length, the password as UTF-8 bytes as Kafka's ScramFormatter takes it) — never the password.
 * The broker validates (mechanism, 4096..16384 iterations, duplicates) and answers per user.
 *
 * Invariants: a top-level or per-user error code becomes a KafkaError naming the user; the functions take a
 * connection and do no routing (client/admin.ts picks the broker).
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import * as alterResponse from '../protocol/generated/alter-user-scram-credentials-response.js';
import * as alterRequest from '../protocol/generated/alter-user-scram-credentials-request.js';
import * as describeResponse from '../protocol/generated/describe-user-scram-credentials-response.js';
import * as describeRequest from '../protocol/generated/describe-user-scram-credentials-request.js';
import type { Connection } from './connection.js';
import { check } from './errors.js';

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/** Kafka's ScramMechanism: wire type, hash and the iteration bounds brokers enforce. */
export const SCRAM_MECHANISMS: ReadonlyArray<{
  readonly name: ScramMechanismName;
  readonly type: number;
  readonly hash: 'sha256' | 'sha512';
  readonly hashBytes: number;
}> = [
  { name: 'SCRAM-SHA-256', type: 1, hash: 'sha256', hashBytes: 32 },
  { name: 'SCRAM-SHA-512', type: 2, hash: 'sha512', hashBytes: 64 },
];
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;
/** Iterations of an upsertion that does not say (kafka-configs' default). */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

function mechanism(name: string): (typeof SCRAM_MECHANISMS)[number] {
  const m = SCRAM_MECHANISMS.find((x) => x.name === name);
  if (!m) throw new Error(`unknown SCRAM mechanism ${JSON.stringify(name)} (${SCRAM_MECHANISMS.map((x) => x.name)})`);
  return m;
}

/** Hi(password, salt, iterations) of RFC 5802 for a mechanism: the SaltedPassword. */
export function scramSaltedPassword(
  mech: ScramMechanismName,
  password: string,
  salt: Buffer,
  iterations: number,
): Buffer {
  const m = mechanism(mech);
  return pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, m.hashBytes, m.hash);
}

export interface UserScramCredentials {
  user: string;
  /** Mechanisms the user has a credential for; an unknown wire type shows as UNKNOWN. */
  credentials: Array<{ mechanism: ScramMechanismName | 'UNKNOWN'; iterations: number }>;
}

export type ScramAlteration =
  | { user: string; mechanism: ScramMechanismName; password: string; iterations?: number; salt?: Buffer }
  | { user: string; mechanism: ScramMechanismName; delete: true };

/** DescribeUserScramCredentials: `users` null or empty = every user with a credential. */
export async function describeUserScramCredentials(
  conn: Connection,
  users: readonly string[] | null,
): Promise<UserScramCredentials[]> {
  const v = conn.versionFor(50, 0, 0);
  const res = await conn.send(
    50,
    v,
    (w) =>
      describeRequest.encodeDescribeUserScramCredentialsRequest(w, v, {
        users: users === null || users.length === 0 ? null : users.map((name) => ({ name })),
      }),
    describeResponse.decodeDescribeUserScramCredentialsResponse,
  );
  check(res.errorCode, res.errorMessage);
  return res.results.map((r) => {
    check(r.errorCode, r.errorMessage ?? `user ${r.user}`);
    return {
      user: r.user,
      credentials: r.credentialInfos.map((c) => ({
        mechanism: SCRAM_MECHANISMS.find((m) => m.type === c.mechanism)?.name ?? 'UNKNOWN',
        iterations: c.iterations,
      })),
    };
  });
}

/** AlterUserScramCredentials: every alteration in one request; the first per-user error is thrown. */
export async function alterUserScramCredentials(
  conn: Connection,
  alterations: readonly ScramAlteration[],
): Promise<void> {
  const deletions: Array<{ name: string; mechanism: number }> = [];
  const upsertions: Array<{
    name: string;
    mechanism: number;
    iterations: number;
    salt: Buffer;
    saltedPassword: Buffer;
  }> = [];
  for (const a of alterations) {
    const m = mechanism(a.mechanism);
    if ('delete' in a) {
      deletions.push({ name: a.user, mechanism: m.type });
      continue;
    }
    const iterations = a.iterations ?? DEFAULT_SCRAM_ITERATIONS;
    const salt = a.salt ?? randomBytes(32);
    const saltedPassword = scramSaltedPassword(m.name, a.password, salt, iterations);
    upsertions.push({ name: a.user, mechanism: m.type, iterations, salt, saltedPassword });
  }
  const v = conn.versionFor(51, 0, 0);
  const res = await conn.send(
    51,
    v,
    (w) => alterRequest.encodeAlterUserScramCredentialsRequest(w, v, { deletions, upsertions }),
    alterResponse.decodeAlterUserScramCredentialsResponse,
  );
  for (const r of res.results) check(r.errorCode, `user ${r.user}: ${r.errorMessage ?? 'refused'}`);
}
