import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import {
  encodeAlterUserScramCredentialsRequest,
  type AlterUserScramCredentialsRequest,
} from '../../../protocol/generated/alter-user-scram-credentials-request.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  decodeAlterUserScramCredentialsResponse,
} from '../../../protocol/generated/alter-user-scram-credentials-response.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  encodeDescribeUserScramCredentialsRequest,
} from '../../../protocol/generated/describe-user-scram-credentials-request.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  decodeDescribeUserScramCredentialsResponse,
} from '../../../protocol/generated/describe-user-scram-credentials-response.js';

const env = useBrokerAndClient();
const SHA256 = 1;
const SHA512 = 2;
const PASSWORD = 'correct horse battery staple';
const saltedPasswords: Buffer[] = [];

/** What Kafka's admin client sends: a random salt and Hi(password, salt, i) (RFC 5802 = PBKDF2-HMAC). */
function upsertion(name: string, mechanism: number, iterations = 4096) {
  const salt = randomBytes(16);
  const hash = mechanism === SHA512 ? 'sha512' : 'sha256';
  const saltedPassword = pbkdf2Sync(PASSWORD, salt, iterations, mechanism === SHA512 ? 64 : 32, hash);
  saltedPasswords.push(saltedPassword);
  return { name, mechanism, iterations, salt, saltedPassword };
}

async function alter(req: Partial<AlterUserScramCredentialsRequest>) {
  const res = await call(
    env.client,
    51,
    0,
    encodeAlterUserScramCredentialsRequest,
    decodeAlterUserScramCredentialsResponse,
    { deletions: [], upsertions: [], ...req },
  );
  return new Map(res.results.map((r) => [r.user, [r.errorCode, r.errorMessage] as const]));
}

async function describe(users: string[] | null) {
  const res = await call(
    env.client,
    50,
    0,
    encodeDescribeUserScramCredentialsRequest,
    decodeDescribeUserScramCredentialsResponse,
    { users: users === null ? null : users.map((name) => ({ name })) },
  );
  assert.equal(res.errorCode, 0);
  return res.results;
}

test('upserts store salt, StoredKey, ServerKey and iterations (RFC 5802); the typed lookup returns them', async () => {
  const u = upsertion('alice', SHA256, 8192);
  const res = await alter({ upsertions: [u, upsertion('bob', SHA512)] });
  assert.deepEqual(res.get('alice'), [0, null]);
  assert.deepEqual(res.get('bob'), [0, null]);
  const cred = env.broker.broker.scramCredentials.credential('alice', 'SCRAM-SHA-256')!;
  assert.ok(cred);
  const clientKey = createHmac('sha256', u.saltedPassword).update('Client Key').digest();
  assert.deepEqual(cred.salt, u.salt);
  assert.deepEqual(cred.storedKey, createHash('sha256').update(clientKey).digest());
  assert.deepEqual(cred.serverKey, createHmac('sha256', u.saltedPassword).update('Server Key').digest());
  assert.equal(cred.iterations, 8192);
  assert.equal(env.broker.broker.scramCredentials.credential('alice', 'SCRAM-SHA-512'), undefined);
  // A second mechanism for the same user in a later request is added beside the first.
  assert.deepEqual((await alter({ upsertions: [upsertion('alice', SHA512, 5000)] })).get('alice'), [0, null]);
  const [alice] = await describe(['alice']);
  assert.deepEqual(alice!.credentialInfos, [
    { mechanism: SHA256, iterations: 8192 },
    { mechanism: SHA512, iterations: 5000 },
  ]);
});

test("Kafka's per-user validation", async () => {
  const res = await alter({
    deletions: [
      { name: 'ghost', mechanism: SHA256 },
      { name: 'dup', mechanism: SHA256 },
      { name: 'dup2', mechanism: SHA256 },
      { name: 'badmech-del', mechanism: 0 },
    ],
    upsertions: [
      upsertion('', SHA256),
      upsertion('few', SHA256, 4095),
      upsertion('many', SHA512, 16385),
      upsertion('badmech', 3),
      upsertion('dup', SHA512),
      upsertion('dup3', SHA256),
      upsertion('dup3', SHA512),
      upsertion('fine', SHA256, 16384),
    ],
  });
  assert.deepEqual(res.get('ghost'), [
    ErrorCode.RESOURCE_NOT_FOUND,
    'Attempt to delete a user credential that does not exist',
  ]);
  assert.deepEqual(res.get(''), [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty']);
  assert.deepEqual(res.get('few'), [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations']);
  assert.deepEqual(res.get('many'), [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations']);
  assert.deepEqual(res.get('badmech'), [ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism']);
  assert.deepEqual(res.get('badmech-del'), [ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism']);
  const dup = [ErrorCode.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request'];
  assert.deepEqual(res.get('dup'), dup);
  assert.deepEqual(res.get('dup3'), dup);
  assert.deepEqual(res.get('dup2'), [
    ErrorCode.RESOURCE_NOT_FOUND,
    'Attempt to delete a user credential that does not exist',
  ]);
  assert.deepEqual(res.get('fine'), [0, null]);
  assert.equal(res.size, 10);
  assert.equal(env.broker.broker.scramCredentials.credential('dup3', 'SCRAM-SHA-256'), undefined);
});

test('describe: all users, RESOURCE_NOT_FOUND and DUPLICATE_RESOURCE per user', async () => {
  const all = await describe(null);
  assert.deepEqual(all.map((r) => r.user).sort(), ['alice', 'bob', 'fine']);
  assert.deepEqual((await describe([])).length, 3);
  const res = await describe(['bob', 'nobody', 'bob', 'fine']);
  const byUser = new Map(res.map((r) => [r.user, r]));
  assert.equal(res.length, 3);
  assert.equal(byUser.get('bob')!.errorCode, ErrorCode.DUPLICATE_RESOURCE);
  assert.equal(byUser.get('nobody')!.errorMessage, 'Attempt to describe a user credential that does not exist: nobody');
  assert.equal(byUser.get('nobody')!.errorCode, ErrorCode.RESOURCE_NOT_FOUND);
  assert.deepEqual(byUser.get('fine')!.credentialInfos, [{ mechanism: SHA256, iterations: 16384 }]);
});

test('deletion removes one mechanism; credentials survive a restart; the file holds no password', async () => {
  assert.deepEqual((await alter({ deletions: [{ name: 'alice', mechanism: SHA512 }] })).get('alice'), [0, null]);
  const before = env.broker.broker.scramCredentials.credential('alice', 'SCRAM-SHA-256')!;
  const text = await readFile(join(env.broker.dataDir, 'scram-credentials.json'), 'utf8');
  assert.ok(!text.includes(PASSWORD));
  assert.ok(!text.includes(Buffer.from(PASSWORD).toString('base64')));
  for (const sp of saltedPasswords) assert.ok(!text.includes(sp.toString('base64')), 'no salted password');
  assert.match(text, /"storedKey"/);
  await env.restart();
  const after = env.broker.broker.scramCredentials.credential('alice', 'SCRAM-SHA-256')!;
  assert.deepEqual(after, before);
  const [alice] = await describe(['alice']);
  assert.deepEqual(alice!.credentialInfos, [{ mechanism: SHA256, iterations: 8192 }]);
  assert.deepEqual((await describe(['bob']))[0]!.credentialInfos, [{ mechanism: SHA512, iterations: 4096 }]);
});
