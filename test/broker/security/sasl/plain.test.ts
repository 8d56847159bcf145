/**
 * SASL/PLAIN users from `plain.users.file` (broker/security/sasl/plain.ts): read at each authentication, so an
 * added user logs in without a restart; an authzid other than the user is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../../../protocol/generated/error-codes.js';
import { encodeSaslHandshakeRequest } from '../../../../protocol/generated/sasl-handshake-request.js';
import { decodeSaslHandshakeResponse } from '../../../../protocol/generated/sasl-handshake-response.js';
import { encodeSaslAuthenticateRequest } from '../../../../protocol/generated/sasl-authenticate-request.js';
import { decodeSaslAuthenticateResponse } from '../../../../protocol/generated/sasl-authenticate-response.js';
import { saslBroker, saslRaw } from '../../../helpers/sasl.js';
import type { RunningBroker } from '../../../../broker/index.js';

async function plainLogin(b: RunningBroker, token: string): Promise<number> {
  const c = await saslRaw(b);
  try {
    await c.request(
      17,
      1,
      (w) => encodeSaslHandshakeRequest(w, 1, { mechanism: 'PLAIN' }),
      decodeSaslHandshakeResponse,
    );
    const r = await c.request(
      36,
      1,
      (w) => encodeSaslAuthenticateRequest(w, 1, { authBytes: Buffer.from(token) }),
      decodeSaslAuthenticateResponse,
    );
    return r.errorCode;
  } finally {
    c.close();
  }
}

test('plain.users.file: users log in, a user added later too; a foreign authzid is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'runnel-plain-'));
  const file = join(dir, 'users');
  await writeFile(file, '# users\ncarol=carol-pw\n');
  const b = await saslBroker({ config: { 'listener.name.sasl_plaintext.plain.users.file': file } });
  try {
    assert.equal(await plainLogin(b, '\0carol\0carol-pw'), ErrorCode.NONE);
    assert.equal(await plainLogin(b, '\0alice\0alice-secret'), ErrorCode.NONE, 'JAAS users still log in');
    assert.equal(await plainLogin(b, '\0dave\0dave-pw'), ErrorCode.SASL_AUTHENTICATION_FAILED);
    await writeFile(file, 'carol=carol-pw\ndave=dave-pw\n');
    assert.equal(await plainLogin(b, '\0dave\0dave-pw'), ErrorCode.NONE);
    assert.equal(await plainLogin(b, 'carol\0carol\0carol-pw'), ErrorCode.NONE, 'authzid = user');
    assert.equal(await plainLogin(b, 'alice\0carol\0carol-pw'), ErrorCode.SASL_AUTHENTICATION_FAILED);
  } finally {
    await b.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
