/**
 * `runnel user add|alter|list|delete`: SCRAM users (KIP-554) through the Admin client —
 * DescribeUserScramCredentials and AlterUserScramCredentials, as `kafka-configs --entity-type users` does them.
 * The password is salted and hashed here (SaltedPassword = Hi(password, salt, iterations), client/admin-scram.ts);
 * it is never sent. `add` refuses a credential that exists and `alter` one that does not (Kafka's API only
 * upserts; the check is a describe first). The broker validates the rest (4096..16384 iterations).
 */
import type { ScramMechanismName, UserScramCredentials } from '../admin-scram.js';
import { type CommonOptions, OperationError, out, table } from './common.js';
import { type AdminView, isKafkaError, withAdmin } from './view.js';

export const SCRAM_MECHANISM_NAMES: readonly ScramMechanismName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

interface UpsertOptions extends CommonOptions {
  mechanism: ScramMechanismName;
  password: string;
  iterations?: number;
}

interface DeleteOptions extends CommonOptions {
  mechanism: ScramMechanismName;
}

/** The user's credentials, or none (RESOURCE_NOT_FOUND is "no credential"). */
async function credentialsOf(admin: AdminView, name: string): Promise<UserScramCredentials['credentials']> {
  try {
    const [u] = await admin.describeUserScramCredentials([name]);
    return u?.credentials ?? [];
  } catch (e) {
    if (isKafkaError(e, 'RESOURCE_NOT_FOUND')) return [];
    throw e;
  }
}

/** Broker refusals of an upsert, with what to do about them. */
function explain(e: unknown): unknown {
  if (isKafkaError(e, 'UNACCEPTABLE_CREDENTIAL'))
    return new OperationError(`${(e as Error).message} (SCRAM iterations must be from 4096 to 16384)`);
  return e;
}

async function upsert(name: string, opts: UpsertOptions, mode: 'add' | 'alter'): Promise<number> {
  return withAdmin(opts, async (admin) => {
    const has = (await credentialsOf(admin, name)).some((c) => c.mechanism === opts.mechanism);
    if (mode === 'add' && has)
      throw new OperationError(`user ${name} already has a ${opts.mechanism} credential (use: runnel user alter)`);
    if (mode === 'alter' && !has)
      throw new OperationError(`user ${name} has no ${opts.mechanism} credential (use: runnel user add)`);
    await admin
      .alterUserScramCredentials([
        { user: name, mechanism: opts.mechanism, password: opts.password, iterations: opts.iterations },
      ])
      .catch((e: unknown) => {
        throw explain(e);
      });
    const [stored] = await admin.describeUserScramCredentials([name]);
    const c = stored?.credentials.find((x) => x.mechanism === opts.mechanism);
    out(`${mode === 'add' ? 'added' : 'altered'} ${opts.mechanism} credential of user ${name}`);
    out(c ? ` (${c.iterations} iterations)\n` : '\n');
    return 0;
  });
}

export function userAdd(name: string, opts: UpsertOptions): Promise<number> {
  return upsert(name, opts, 'add');
}

export function userAlter(name: string, opts: UpsertOptions): Promise<number> {
  return upsert(name, opts, 'alter');
}

interface ListOptions extends CommonOptions {
  json?: boolean;
}

export async function userList(names: string[], opts: ListOptions): Promise<number> {
  return withAdmin(opts, async (admin) => {
    const users = (await admin.describeUserScramCredentials(names)).sort((a, b) =>
      names.length > 0 ? names.indexOf(a.user) - names.indexOf(b.user) : a.user < b.user ? -1 : 1,
    );
    if (opts.json) {
      out(`${JSON.stringify(users, null, 2)}\n`);
      return 0;
    }
    if (users.length === 0) return 0;
    out(
      table(
        ['USER', 'MECHANISM', 'ITERATIONS'],
        users.flatMap((u) => u.credentials.map((c) => [u.user, c.mechanism, c.iterations])),
      ),
    );
    return 0;
  });
}

export async function userDelete(name: string, opts: DeleteOptions): Promise<number> {
  return withAdmin(opts, async (admin) => {
    await admin.alterUserScramCredentials([{ user: name, mechanism: opts.mechanism, delete: true }]).catch((e) => {
      throw isKafkaError(e, 'RESOURCE_NOT_FOUND')
        ? new OperationError(`user ${name} has no ${opts.mechanism} credential`)
        : e;
    });
    out(`deleted ${opts.mechanism} credential of user ${name}\n`);
    return 0;
  });
}
