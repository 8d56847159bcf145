/**
 * SASL/SCRAM-SHA-256 and SCRAM-SHA-512 servers (RFC 5802, RFC 7677), as Kafka's ScramSaslServer, against the
 * credentials in `services.scramCredentials` (salt, StoredKey, ServerKey, iterations; never a password).
 *
 * Exchange: client-first `n,[a=<authzid>],n=<user>,r=<cnonce>[,<ext>...]` → server-first
 * `r=<cnonce><snonce>,s=<salt>,i=<iterations>`; client-final `c=<base64 gs2 header>,r=<nonce>,p=<proof>` →
 * server-final `v=<ServerSignature>`.
 *
 * Invariants:
 * - No channel binding: the gs2 header must be `n` (a `y` or `p=` one is refused, as Kafka does), and the
 *   client-final `c=` must be exactly the base64 of the client-first gs2 header.
 * - The client-final nonce must end with the full nonce the server sent (client nonce + server nonce), which
 *   starts with the client's; Kafka checks no more (librdkafka repeats its client nonce in front).
 * - The proof is checked with timingSafeEqual; any failure says only that the credentials are invalid.
 * - An unknown user gets a server-first message like a real one (a salt derived from the name with a
 *   per-process secret, so repeated probes see the same salt) and fails at the proof: no user probing.
 * - The `tokenauth` extension (delegation tokens) is refused; a reserved `m=` attribute too.
 * - Messages longer than MAX_MESSAGE bytes, not UTF-8, or of any other shape are SaslAuthenticationErrors.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SaslAuthenticationError } from '../../../protocol/errors.js';
import {
  type ScramCredential,
  type ScramMechanism,
  scramMechanism,
} from '../../../replication/metadata/scram-credentials.js';
import type { SaslMechanismFactory, SaslServer, SaslServerContext, SaslServerResult } from './mechanism.js';

export const MAX_MESSAGE = 4096;
const FAKE_SECRET = randomBytes(32);
const FAKE_ITERATIONS = 4096;
const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;

function fail(detail: string): never {
  throw new SaslAuthenticationError(`Authentication failed: ${detail}`);
}

function utf8(token: Buffer): string {
  if (token.length > MAX_MESSAGE) fail(`SCRAM message longer than ${MAX_MESSAGE} bytes`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(token);
  } catch {
    fail('SCRAM message is not UTF-8');
  }
}

/** RFC 5802 saslname: `=2C` is ',' and `=3D` is '='; any other '=' is invalid. */
export function decodeSaslName(s: string): string {
  if (/=(?!2C|3D)/.test(s)) fail('invalid user name encoding in SCRAM message');
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

export function encodeSaslName(s: string): string {
  return s.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

interface ClientFirst {
  gs2Header: string;
  user: string;
  nonce: string;
  bare: string;
}

/** Parse the client-first message (RFC 5802 §7). */
export function parseClientFirst(text: string): ClientFirst {
  const m = /^(n|y|p=[^,]*),(a=[^,]*)?,(.*)$/s.exec(text);
  if (!m) fail('invalid SCRAM client-first message');
  if (m[1] !== 'n') fail('SCRAM channel binding is not supported');
  const bare = m[3];
  const attrs = bare.split(',');
  if (attrs[0]?.startsWith('m=')) fail('SCRAM reserved attribute m= is not supported');
  if (!attrs[0]?.startsWith('n=') || !attrs[1]?.startsWith('r=')) fail('invalid SCRAM client-first message');
  const user = decodeSaslName(attrs[0].slice(2));
  const nonce = attrs[1].slice(2);
  if (user === '') fail('empty user name in SCRAM message');
  if (!NONCE.test(nonce)) fail('invalid nonce in SCRAM client-first message');
  for (const ext of attrs.slice(2)) {
    const eq = ext.indexOf('=');
    if (eq <= 0) fail('invalid extension in SCRAM client-first message');
    if (ext.slice(0, eq) === 'tokenauth') fail('delegation token authentication is not supported');
  }
  if (m[2] !== undefined && decodeSaslName(m[2].slice(2)) !== '' && decodeSaslName(m[2].slice(2)) !== user)
    fail('Client requested an authorization id that is different from username');
  return { gs2Header: `${m[1]},${m[2] ?? ''},`, user, nonce, bare };
}

interface ClientFinal {
  channelBinding: string;
  nonce: string;
  proof: Buffer;
  withoutProof: string;
}

/** Parse the client-final message (RFC 5802 §7). */
export function parseClientFinal(text: string): ClientFinal {
  const m = /^c=([^,]*),r=([^,]*)((?:,[^,]*)*),p=([A-Za-z0-9+/]+={0,2})$/s.exec(text);
  if (!m) fail('invalid SCRAM client-final message');
  return {
    channelBinding: m[1],
    nonce: m[2],
    proof: Buffer.from(m[4], 'base64'),
    withoutProof: text.slice(0, text.length - m[4].length - 3),
  };
}

function fakeCredential(mechanism: ScramMechanism, user: string): ScramCredential {
  const salt = createHmac('sha256', FAKE_SECRET).update(`${mechanism.name}\u0000${user}`).digest().subarray(0, 16);
  const size = mechanism.hash === 'sha256' ? 32 : 64;
  return { salt, storedKey: randomBytes(size), serverKey: randomBytes(size), iterations: FAKE_ITERATIONS };
}

class ScramServer implements SaslServer {
  private step: 'first' | 'final' | 'done' = 'first';
  private first: ClientFirst | undefined;
  private serverFirst = '';
  private nonce = '';
  private credential: ScramCredential | undefined;
  private known = false;

  constructor(
    private readonly m: ScramMechanism,
    private readonly ctx: SaslServerContext,
  ) {}

  get mechanism(): string {
    return this.m.name;
  }

  get authorizationId(): string {
    if (this.step !== 'done' || !this.first)
      throw new SaslAuthenticationError('SCRAM authentication has not completed');
    return this.first.user;
  }

  async evaluate(token: Buffer): Promise<SaslServerResult> {
    const text = utf8(token);
    if (this.step === 'first') return this.onClientFirst(text);
    if (this.step === 'final') return this.onClientFinal(text);
    fail('unexpected SCRAM message after completion');
  }

  private onClientFirst(text: string): SaslServerResult {
    const first = parseClientFirst(text);
    const stored = this.ctx.services.scramCredentials.credential(first.user, this.m.name);
    this.known = stored !== undefined;
    this.credential = stored ?? fakeCredential(this.m, first.user);
    this.first = first;
    this.nonce = first.nonce + randomBytes(18).toString('base64url');
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt.toString('base64')},i=${this.credential.iterations}`;
    this.step = 'final';
    return { response: Buffer.from(this.serverFirst, 'utf8'), complete: false };
  }

  private onClientFinal(text: string): SaslServerResult {
    const first = this.first!;
    const cred = this.credential!;
    const final = parseClientFinal(text);
    if (final.channelBinding !== Buffer.from(first.gs2Header, 'utf8').toString('base64'))
      fail('invalid SCRAM channel binding');
    // Kafka checks only that the nonce ends with the one it sent: librdkafka sends its client nonce twice.
    if (!final.nonce.endsWith(this.nonce)) fail('invalid SCRAM nonce');
    const authMessage = `${first.bare},${this.serverFirst},${final.withoutProof}`;
    const signature = createHmac(this.m.hash, cred.storedKey).update(authMessage, 'utf8').digest();
    const computed = createHash(this.m.hash).update(xor(final.proof, signature)).digest();
    const valid =
      final.proof.length === signature.length &&
      computed.length === cred.storedKey.length &&
      timingSafeEqual(computed, cred.storedKey) &&
      this.known;
    if (!valid) {
      this.ctx.log.debug({ mechanism: this.m.name }, 'SCRAM proof did not verify');
      throw new SaslAuthenticationError(
        `Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.m.name}`,
      );
    }
    const serverSignature = createHmac(this.m.hash, cred.serverKey).update(authMessage, 'utf8').digest();
    this.step = 'done';
    return { response: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), complete: true };
  }
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

function factory(name: 'SCRAM-SHA-256' | 'SCRAM-SHA-512'): SaslMechanismFactory {
  const m = scramMechanism(name)!;
  return { name, create: (ctx) => new ScramServer(m, ctx) };
}

export const scramSha256Mechanism = factory('SCRAM-SHA-256');
export const scramSha512Mechanism = factory('SCRAM-SHA-512');
