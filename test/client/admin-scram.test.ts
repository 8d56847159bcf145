/**
 * Admin's SCRAM calls (client/admin-scram.ts) against an in-process broker: upserts arrive as salt + salted
 * password and the broker's stored StoredKey/ServerKey are those RFC 5802 derives from the password (computed
 * here independently, as a SCRAM login would check them); describe shows mechanisms and iterations; the
 * broker's refusals (iterations, missing credential) surface as KafkaError.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { Admin, KafkaError, scramSaltedPassword } from '../../client/index.js';
import { testBroker } from '../helpers/test-broker.js';
import type { RunningBroker } from '../../broker/index.js';

let b: RunningBroker;
let admin: Admin;
before(async () => {
  b = await testBroker();
  admin = new Admin({ bootstrap: b.bootstrapServers, clientId: 'admin-scram-test' });
});
after(async () => {
  await admin.close();
  await b.stop();
});

/** What a SCRAM server must hold for `password`: RFC 5802's StoredKey and ServerKey. */
function expectedKeys(hash: 'sha256' | 'sha512', password: string, salt: Buffer, iterations: number) {
  const salted = pbkdf2Sync(password, salt, iterations, hash === 'sha256' ? 32 : 64, hash);
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  return {
    storedKey: createHash(hash).update(clientKey).digest(),
    serverKey: createHmac(hash, salted).update('Server Key').digest(),
  };
}

test('scramSaltedPassword is Hi() of RFC 5802 (PBKDF2-HMAC, hash-length output)', () => {
  // RFC 7677's SCRAM-SHA-256 example: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096.
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
  const salted = scramSaltedPassword('SCRAM-SHA-256', 'pencil', salt, 4096);
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const authMessage =
    'n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,' +
    's=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const signature = createHmac('sha256', storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((x, i) => x ^ signature[i]!));
  assert.equal(proof.toString('base64'), 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
  assert.equal(scramSaltedPassword('SCRAM-SHA-512', 'pencil', salt, 4096).length, 64);
});

test('alterUserScramCredentials stores what SCRAM needs; describe lists mechanisms and iterations', async () => {
  const salt = Buffer.from('0123456789abcdef0123456789abcdef');
  await admin.alterUserScramCredentials([
    { user: 'alice', mechanism: 'SCRAM-SHA-256', password: 'alice-secret', iterations: 8192, salt },
    { user: 'bob', mechanism: 'SCRAM-SHA-512', password: 'bob-secret' },
  ]);
  const stored = b.broker.scramCredentials.credential('alice', 'SCRAM-SHA-256');
  assert.ok(stored);
  assert.equal(stored.iterations, 8192);
  assert.deepEqual(stored.salt, salt);
  const want = expectedKeys('sha256', 'alice-secret', salt, 8192);
  assert.deepEqual(stored.storedKey, want.storedKey);
  assert.deepEqual(stored.serverKey, want.serverKey);
  const bob = b.broker.scramCredentials.credential('bob', 'SCRAM-SHA-512');
  assert.ok(bob);
  assert.equal(bob.iterations, 4096, 'the default iteration count');
  assert.equal(bob.salt.length, 32, 'a random salt');
  assert.deepEqual(bob.storedKey, expectedKeys('sha512', 'bob-secret', bob.salt, 4096).storedKey);

  await admin.alterUserScramCredentials([{ user: 'alice', mechanism: 'SCRAM-SHA-512', password: 'p2' }]);
  assert.deepEqual(await admin.describeUserScramCredentials(['alice']), [
    {
      user: 'alice',
      credentials: [
        { mechanism: 'SCRAM-SHA-256', iterations: 8192 },
        { mechanism: 'SCRAM-SHA-512', iterations: 4096 },
      ],
    },
  ]);
  const all = await admin.describeUserScramCredentials();
  assert.deepEqual(all.map((u) => u.user).sort(), ['alice', 'bob']);
});

test('refusals: too few / too many iterations, missing credential, describe of an unknown user', async () => {
  const refused = (name: string, re: RegExp) => (e: unknown) =>
    e instanceof KafkaError && e.name === name && re.test(e.message);
  await assert.rejects(
    admin.alterUserScramCredentials([{ user: 'carol', mechanism: 'SCRAM-SHA-256', password: 'x', iterations: 100 }]),
    refused('UNACCEPTABLE_CREDENTIAL', /user carol: Too few iterations/),
  );
  await assert.rejects(
    admin.alterUserScramCredentials([{ user: 'carol', mechanism: 'SCRAM-SHA-256', password: 'x', iterations: 20000 }]),
    refused('UNACCEPTABLE_CREDENTIAL', /Too many iterations/),
  );
  assert.equal(b.broker.scramCredentials.credential('carol', 'SCRAM-SHA-256'), undefined);
  await assert.rejects(
    admin.alterUserScramCredentials([{ user: 'carol', mechanism: 'SCRAM-SHA-256', delete: true }]),
    refused('RESOURCE_NOT_FOUND', /user carol/),
  );
  await assert.rejects(admin.describeUserScramCredentials(['carol']), refused('RESOURCE_NOT_FOUND', /carol/));

  await admin.alterUserScramCredentials([{ user: 'dave', mechanism: 'SCRAM-SHA-256', password: 'd' }]);
  await admin.alterUserScramCredentials([{ user: 'dave', mechanism: 'SCRAM-SHA-256', delete: true }]);
  assert.equal(b.broker.scramCredentials.credential('dave', 'SCRAM-SHA-256'), undefined);
});
