import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { MemoryFileSystem } from '../../../storage/memory-fs.js';
import { ensureDirDurable } from '../../../storage/fs.js';
import {
  SCRAM_CREDENTIALS_FILE,
  ScramCredentialStore,
  scramKeys,
  scramMechanism,
} from '../../../replication/metadata/scram-credentials.js';
import { StorageError } from '../../../protocol/errors.js';
import { LocalMetadataStore } from '../../../replication/metadata/local-store.js';

const DIR = '/data';
const open = async (fs: MemoryFileSystem) =>
  new ScramCredentialStore(await LocalMetadataStore.open(DIR, { nodeId: 1, fs }));

test('RFC 7677 test vector: StoredKey and ServerKey of SCRAM-SHA-256 for "pencil"', () => {
  // RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
  const saltedPassword = pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
  const { storedKey, serverKey } = scramKeys(scramMechanism('SCRAM-SHA-256')!, saltedPassword);
  // The RFC's server signature over its AuthMessage, HMAC(ServerKey, AuthMessage), is
  // 6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=.
  const authMessage =
    'n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,' +
    's=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  assert.equal(
    createHmac('sha256', serverKey).update(authMessage).digest('base64'),
    '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  );
  // The client proof of the RFC (ClientKey XOR ClientSignature) verifies against StoredKey.
  const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
  const signature = createHmac('sha256', storedKey).update(authMessage).digest();
  const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
  assert.deepEqual(createHash('sha256').update(clientKey).digest(), storedKey);
});

test('credentials are durable when alter() resolves; a corrupt file refuses to open', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, DIR);
  const store = await open(fs);
  const salt = Buffer.from('salt');
  const saltedPassword = pbkdf2Sync('pw', salt, 4096, 64, 'sha512');
  const res = await store.alter([], [{ name: 'u', mechanism: 2, iterations: 4096, salt, saltedPassword }]);
  assert.deepEqual(res, [{ user: 'u', code: 0, message: null }]);
  fs.powerLoss();
  const reopened = await open(fs);
  assert.deepEqual(reopened.credential('u', 'SCRAM-SHA-512'), {
    salt,
    ...scramKeys(scramMechanism(2)!, saltedPassword),
    iterations: 4096,
  });
  await fs.writeFile(`${DIR}/${SCRAM_CREDENTIALS_FILE}`, Buffer.from('{"version":1,"credentials":[{"user":"u"}]}'));
  await assert.rejects(open(fs), StorageError);
});
