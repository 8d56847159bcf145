/**
 * SCRAM credentials (KIP-554), as Kafka's controller (ScramControlManager) and metadata image (ScramImage)
 * keep them. A client sends a salt and the salted password (Hi(password, salt, iterations), RFC 5802); the
 * broker stores only what a SCRAM server needs (Kafka's ScramCredential): salt, StoredKey =
 * H(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key") and the iteration
 * count. Neither the password nor the salted password is kept.
 *
 * Validation (per user, Kafka's messages): an empty user name → UNACCEPTABLE_CREDENTIAL; mechanism other than
 * SCRAM-SHA-256 (1) / SCRAM-SHA-512 (2) → UNSUPPORTED_SASL_MECHANISM; iterations outside 4096..16384 →
 * UNACCEPTABLE_CREDENTIAL; deleting a credential that does not exist → RESOURCE_NOT_FOUND; a user named
 * more than once in one request (deletions and upsertions together) → DUPLICATE_RESOURCE.
 *
 * State: the SCRAM section of the metadata image (SCRAM_SECTION, records.ts), one record per user and
 * mechanism, so every node of a cluster sees the same users; `ScramCredentialStore` reads the image and alters
 * through the metadata store. A single node keeps `<data dir>/scram-credentials.json` (the format of before),
 * replaced atomically after every change:
 * `{"version":1,"credentials":[{"user":"alice","mechanism":"SCRAM-SHA-256","salt":"<base64>",
 * "storedKey":"<base64>","serverKey":"<base64>","iterations":8192}]}`. A file that does not parse refuses
 * start-up (StorageError). A cluster keeps each record under its etcd key (see SCRAM_SECTION).
 */
import { createHash, createHmac } from 'node:crypto';
import { StorageError } from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { parseJson } from './json-file.js';
import type { RecordSection, RecordUpdate } from './records.js';
import type { MetadataStore } from './store.js';

export const SCRAM_CREDENTIALS_FILE = 'scram-credentials.json';

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface ScramMechanism {
  /** Wire type in the SCRAM APIs. */
  readonly type: number;
  readonly name: ScramMechanismName;
  /** Node crypto hash name. */
  readonly hash: 'sha256' | 'sha512';
  readonly minIterations: number;
  readonly maxIterations: number;
}

export const SCRAM_MECHANISMS: readonly ScramMechanism[] = [
  { type: 1, name: 'SCRAM-SHA-256', hash: 'sha256', minIterations: 4096, maxIterations: 16384 },
  { type: 2, name: 'SCRAM-SHA-512', hash: 'sha512', minIterations: 4096, maxIterations: 16384 },
];

export function scramMechanism(typeOrName: number | string): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => m.type === typeOrName || m.name === typeOrName);
}

/** What a SCRAM server keeps per (user, mechanism): Kafka's ScramCredential. */
export interface ScramCredential {
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

/** The StoredKey and ServerKey of RFC 5802 from a salted password. */
export function scramKeys(mechanism: ScramMechanism, saltedPassword: Buffer): { storedKey: Buffer; serverKey: Buffer } {
  const clientKey = createHmac(mechanism.hash, saltedPassword).update('Client Key').digest();
  return {
    storedKey: createHash(mechanism.hash).update(clientKey).digest(),
    serverKey: createHmac(mechanism.hash, saltedPassword).update('Server Key').digest(),
  };
}

export interface ScramResult {
  user: string;
  code: number;
  message: string | null;
}

export interface ScramDeletion {
  name: string;
  mechanism: number;
}

export interface ScramUpsertion {
  name: string;
  mechanism: number;
  iterations: number;
  salt: Buffer;
  saltedPassword: Buffer;
}

export interface DescribedUser {
  user: string;
  code: number;
  message: string | null;
  credentials: Array<{ mechanism: number; iterations: number }>;
}

const DUPLICATE = 'A user credential cannot be altered twice in the same request';

function validateNameAndMechanism(name: string, mechanism: number): Omit<ScramResult, 'user'> | undefined {
  if (name === '') return { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Username must not be empty' };
  if (!scramMechanism(mechanism))
    return { code: ErrorCode.UNSUPPORTED_SASL_MECHANISM, message: 'Unknown SCRAM mechanism' };
  return undefined;
}

interface StoredEntry {
  user: string;
  mechanism: ScramMechanismName;
  salt: string;
  storedKey: string;
  serverKey: string;
  iterations: number;
}

/** One credential of the metadata image's SCRAM section, keyed `<user>/<mechanism>` (Kafka's ScramImage). */
export interface ScramCredentialRecord {
  readonly user: string;
  readonly mechanism: ScramMechanismName;
  readonly credential: ScramCredential;
}

const scramKey = (user: string, mechanism: ScramMechanismName): string => `${user}/${mechanism}`;

function toEntry(r: ScramCredentialRecord): StoredEntry {
  const c = r.credential;
  return {
    user: r.user,
    mechanism: r.mechanism,
    salt: c.salt.toString('base64'),
    storedKey: c.storedKey.toString('base64'),
    serverKey: c.serverKey.toString('base64'),
    iterations: c.iterations,
  };
}

function fromEntry(e: Partial<StoredEntry> | null | undefined): ScramCredentialRecord | undefined {
  const m = scramMechanism(e?.mechanism ?? '');
  if (!m || typeof e?.user !== 'string' || !Number.isInteger(e.iterations)) return undefined;
  const credential: ScramCredential = Object.freeze({
    salt: Buffer.from(String(e.salt), 'base64'),
    storedKey: Buffer.from(String(e.storedKey), 'base64'),
    serverKey: Buffer.from(String(e.serverKey), 'base64'),
    iterations: e.iterations as number,
  });
  return Object.freeze({ user: e.user, mechanism: m.name, credential });
}

/**
 * The SCRAM section of the metadata image (records.ts). Etcd: `scram-credentials/<user>/<mechanism>` = one
 * StoredEntry (base64 salt and keys). Local: the `scram-credentials.json` file of the header.
 */
export const SCRAM_SECTION: RecordSection<ScramCredentialRecord> = {
  name: 'scram-credentials',
  toJson: toEntry,
  fromJson: (json) => fromEntry(json as Partial<StoredEntry>),
  file: {
    name: SCRAM_CREDENTIALS_FILE,
    read(text, file) {
      const bad = (): StorageError => new StorageError(`${file} is not a SCRAM credentials file`);
      const doc = parseJson(text, bad) as { version?: unknown; credentials?: unknown } | null;
      if (doc?.version !== 1 || !Array.isArray(doc.credentials)) throw bad();
      const out = new Map<string, ScramCredentialRecord>();
      for (const e of doc.credentials as StoredEntry[]) {
        const r = fromEntry(e);
        if (!r) throw bad();
        out.set(scramKey(r.user, r.mechanism), r);
      }
      return out;
    },
    write: (records) => ({ version: 1, credentials: [...records.values()].map(toEntry) }),
  },
};

/**
 * SCRAM credentials as handlers and SASL use them, over the metadata store's SCRAM section: reads from the
 * image (synchronous; on every node of a cluster), changes through `updateRecords`.
 */
export class ScramCredentialStore {
  constructor(private readonly store: Pick<MetadataStore, 'image' | 'updateRecords'>) {}

  /** The credential a SASL/SCRAM exchange checks against, or undefined. */
  credential(user: string, mechanism: ScramMechanismName): ScramCredential | undefined {
    return this.store.image.record(SCRAM_SECTION, scramKey(user, mechanism))?.credential;
  }

  /** DescribeUserScramCredentials: null or empty `users` = every user with a credential. */
  describe(users: readonly string[] | null): DescribedUser[] {
    const records = this.store.image.records(SCRAM_SECTION);
    const asked = new Map<string, boolean>(); // name -> named more than once
    if (users === null || users.length === 0) for (const r of records.values()) asked.set(r.user, false);
    else for (const u of users) asked.set(u, asked.has(u));
    const out: DescribedUser[] = [];
    for (const [user, duplicate] of asked) {
      if (duplicate) {
        out.push({
          user,
          code: ErrorCode.DUPLICATE_RESOURCE,
          message: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
          credentials: [],
        });
        continue;
      }
      const credentials = SCRAM_MECHANISMS.flatMap((m) => {
        const c = records.get(scramKey(user, m.name))?.credential;
        return c ? [{ mechanism: m.type, iterations: c.iterations }] : [];
      });
      if (credentials.length === 0) {
        out.push({
          user,
          code: ErrorCode.RESOURCE_NOT_FOUND,
          message: `Attempt to describe a user credential that does not exist: ${user}`,
          credentials: [],
        });
      } else {
        out.push({ user, code: ErrorCode.NONE, message: null, credentials });
      }
    }
    return out;
  }

  /** AlterUserScramCredentials: one result per user named; valid changes are durable when this resolves. */
  alter(deletions: readonly ScramDeletion[], upsertions: readonly ScramUpsertion[]): Promise<ScramResult[]> {
    return this.store.updateRecords(SCRAM_SECTION, (records) => alterCredentials(records, deletions, upsertions));
  }
}

/** The changes and per-user results of an AlterUserScramCredentials request against the current records. */
function alterCredentials(
  records: ReadonlyMap<string, ScramCredentialRecord>,
  deletions: readonly ScramDeletion[],
  upsertions: readonly ScramUpsertion[],
): RecordUpdate<ScramCredentialRecord, ScramResult[]> {
  const results = new Map<string, Omit<ScramResult, 'user'>>();
  const toDelete = new Map<string, ScramDeletion>();
  const toUpsert = new Map<string, ScramUpsertion>();
  const duplicate = { code: ErrorCode.DUPLICATE_RESOURCE, message: DUPLICATE };
  for (const d of deletions) {
    if (results.has(d.name)) continue;
    if (toDelete.delete(d.name)) results.set(d.name, duplicate);
    else toDelete.set(d.name, d);
  }
  for (const u of upsertions) {
    if (results.has(u.name)) continue;
    if (toDelete.delete(u.name) || toUpsert.delete(u.name)) results.set(u.name, duplicate);
    else toUpsert.set(u.name, u);
  }
  const changes = new Map<string, ScramCredentialRecord | null>();
  for (const d of toDelete.values()) {
    const bad = validateNameAndMechanism(d.name, d.mechanism);
    const m = scramMechanism(d.mechanism);
    if (bad || !m) {
      results.set(d.name, bad ?? duplicate);
    } else if (!records.has(scramKey(d.name, m.name))) {
      results.set(d.name, {
        code: ErrorCode.RESOURCE_NOT_FOUND,
        message: 'Attempt to delete a user credential that does not exist',
      });
    } else {
      changes.set(scramKey(d.name, m.name), null);
      results.set(d.name, { code: ErrorCode.NONE, message: null });
    }
  }
  for (const u of toUpsert.values()) {
    const bad = validateNameAndMechanism(u.name, u.mechanism);
    const m = scramMechanism(u.mechanism);
    if (bad || !m) {
      results.set(u.name, bad ?? duplicate);
    } else if (u.iterations < m.minIterations) {
      results.set(u.name, { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Too few iterations' });
    } else if (u.iterations > m.maxIterations) {
      results.set(u.name, { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Too many iterations' });
    } else {
      const credential = { salt: Buffer.from(u.salt), ...scramKeys(m, u.saltedPassword), iterations: u.iterations };
      changes.set(scramKey(u.name, m.name), { user: u.name, mechanism: m.name, credential });
      results.set(u.name, { code: ErrorCode.NONE, message: null });
    }
  }
  return { changes, result: [...results].map(([user, r]) => ({ user, ...r })) };
}
