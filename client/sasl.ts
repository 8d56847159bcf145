/**
 * Client side of SASL (what Runnel's own client and the broker's replica fetcher authenticate with):
 * SaslHandshake v1 + SaslAuthenticate over a connection, with PLAIN (RFC 4616), SCRAM-SHA-256/512
 * (RFC 5802/7677, no channel binding) or OAUTHBEARER (RFC 7628, KIP-255: a bearer token from the `token`
 * callback, asked for at each authentication; see client/oauthbearer-login.ts for Kafka's login options).
 *
 * Invariants: the SCRAM client checks that the server's nonce extends its own, that the iteration count is at
 * least 4096, and the server's signature (`v=`) before reporting success; any failure is a KafkaError
 * (SASL_AUTHENTICATION_FAILED, or the broker's own error code and message).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { decodeSaslHandshakeResponse } from '../protocol/generated/sasl-handshake-response.js';
import { encodeSaslHandshakeRequest } from '../protocol/generated/sasl-handshake-request.js';
import { decodeSaslAuthenticateResponse } from '../protocol/generated/sasl-authenticate-response.js';
import { encodeSaslAuthenticateRequest } from '../protocol/generated/sasl-authenticate-request.js';
import type { Reader } from '../protocol/wire/reader.js';
import type { Writer } from '../protocol/wire/writer.js';
import { KafkaError } from './errors.js';

/** The mechanisms that log in with a user name and password. */
export type SaslMechanismName = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface PasswordSaslOptions {
  mechanism: SaslMechanismName;
  username: string;
  password: string;
}

export interface OAuthBearerSaslOptions {
  mechanism: 'OAUTHBEARER';
  /** A bearer token (a JWT, compact serialization) for this authentication. */
  token: () => Promise<string>;
}

export type SaslOptions = PasswordSaslOptions | OAuthBearerSaslOptions;

/** One client exchange: the first token, then the answer to each server token (null once done). */
export interface SaslClientExchange {
  first(): Buffer;
  /** The next token for the server's `token`, or null when the exchange is complete and verified. */
  next(token: Buffer): Buffer | null;
}

function authFailed(message: string): KafkaError {
  return new KafkaError(ErrorCode.SASL_AUTHENTICATION_FAILED, message);
}

class PlainClient implements SaslClientExchange {
  constructor(private readonly o: PasswordSaslOptions) {}
  first(): Buffer {
    return Buffer.from(`\u0000${this.o.username}\u0000${this.o.password}`, 'utf8');
  }
  next(): null {
    return null;
  }
}

const saslName = (s: string): string => s.replace(/=/g, '=3D').replace(/,/g, '=2C');

/** RFC 5802 client; `nonce` is injectable for tests. */
export class ScramClient implements SaslClientExchange {
  private readonly hash: 'sha256' | 'sha512';
  private readonly bare: string;
  private step: 'first' | 'final' | 'verify' | 'done' = 'first';
  private serverSignature: Buffer | undefined;

  constructor(
    private readonly o: PasswordSaslOptions,
    private readonly nonce = randomBytes(24).toString('base64url'),
  ) {
    this.hash = o.mechanism === 'SCRAM-SHA-512' ? 'sha512' : 'sha256';
    this.bare = `n=${saslName(o.username)},r=${nonce}`;
  }

  first(): Buffer {
    this.step = 'final';
    return Buffer.from(`n,,${this.bare}`, 'utf8');
  }

  next(token: Buffer): Buffer | null {
    if (this.step === 'final') return this.final(token.toString('utf8'));
    if (this.step === 'verify') {
      const v = /^v=([A-Za-z0-9+/=]+)$/.exec(token.toString('utf8'));
      const got = v ? Buffer.from(v[1], 'base64') : Buffer.alloc(0);
      if (
        !this.serverSignature ||
        got.length !== this.serverSignature.length ||
        !timingSafeEqual(got, this.serverSignature)
      )
        throw authFailed('SCRAM server signature does not verify');
      this.step = 'done';
      return null;
    }
    throw authFailed('unexpected SCRAM server message');
  }

  private final(serverFirst: string): Buffer {
    const m = /^r=([^,]+),s=([^,]+),i=(\d+)(,.*)?$/.exec(serverFirst);
    if (!m) throw authFailed('invalid SCRAM server-first message');
    const [, nonce, salt, iterText] = m;
    const iterations = Number(iterText);
    if (!nonce.startsWith(this.nonce) || nonce.length === this.nonce.length) throw authFailed('invalid SCRAM nonce');
    if (iterations < 4096) throw authFailed(`SCRAM iteration count ${iterations} is below 4096`);
    const salted = pbkdf2Sync(
      this.o.password,
      Buffer.from(salt, 'base64'),
      iterations,
      this.hash === 'sha256' ? 32 : 64,
      this.hash,
    );
    const clientKey = createHmac(this.hash, salted).update('Client Key').digest();
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.bare},${serverFirst},${withoutProof}`;
    const signature = createHmac(this.hash, storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
    const serverKey = createHmac(this.hash, salted).update('Server Key').digest();
    this.serverSignature = createHmac(this.hash, serverKey).update(authMessage).digest();
    this.step = 'verify';
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }
}

/**
 * RFC 7628 client: `n,,\x01auth=Bearer <token>\x01\x01`. A server challenge (its error JSON) is answered with a
 * lone \x01, after which the server fails the exchange with that JSON as the message.
 */
class OAuthBearerClient implements SaslClientExchange {
  private answered = false;
  constructor(private readonly token: string) {}
  first(): Buffer {
    return Buffer.from(`n,,\u0001auth=Bearer ${this.token}\u0001\u0001`, 'utf8');
  }
  next(token: Buffer): Buffer | null {
    if (token.length === 0) return null;
    if (this.answered) throw authFailed(`OAUTHBEARER: ${token.toString('utf8')}`);
    this.answered = true;
    return Buffer.from('\u0001', 'utf8');
  }
}

/** The exchange of `o`; `token` is the bearer token already obtained for OAUTHBEARER. */
export function saslClient(o: SaslOptions, token?: string): SaslClientExchange {
  if (o.mechanism === 'PLAIN') return new PlainClient(o);
  if (o.mechanism === 'SCRAM-SHA-256' || o.mechanism === 'SCRAM-SHA-512') return new ScramClient(o);
  if (o.mechanism === 'OAUTHBEARER' && token !== undefined) return new OAuthBearerClient(token);
  throw new KafkaError(ErrorCode.UNSUPPORTED_SASL_MECHANISM, `SASL mechanism ${String(o.mechanism)} is not supported`);
}

/** How authenticate() sends one request and awaits its decoded response. */
export type SaslSend = <T>(
  apiKey: number,
  version: number,
  body: (w: Writer) => void,
  decode: (r: Reader, v: number) => T,
) => Promise<T>;

/**
 * Authenticate a connection: SaslHandshake v1, then SaslAuthenticate (v`authVersion`, default 1) until the
 * exchange completes. Resolves to the session lifetime the broker granted (ms; 0: unlimited).
 */
export async function authenticate(send: SaslSend, o: SaslOptions, authVersion = 1): Promise<number> {
  const hs = await send(
    17,
    1,
    (w) => encodeSaslHandshakeRequest(w, 1, { mechanism: o.mechanism }),
    decodeSaslHandshakeResponse,
  );
  if (hs.errorCode !== ErrorCode.NONE)
    throw new KafkaError(
      hs.errorCode,
      `SASL mechanism ${o.mechanism} is not enabled by the broker (enabled: ${hs.mechanisms.join(', ')})`,
    );
  const client = saslClient(o, o.mechanism === 'OAUTHBEARER' ? await o.token() : undefined);
  let token: Buffer | null = client.first();
  for (let round = 0; token !== null && round < 8; round++) {
    const t: Buffer = token;
    const res = await send(
      36,
      authVersion,
      (w) => encodeSaslAuthenticateRequest(w, authVersion, { authBytes: t }),
      decodeSaslAuthenticateResponse,
    );
    if (res.errorCode !== ErrorCode.NONE)
      throw new KafkaError(res.errorCode, res.errorMessage ?? 'SASL authentication failed');
    token = client.next(res.authBytes);
    if (token === null) return Number(res.sessionLifetimeMs);
  }
  throw authFailed('SASL exchange did not complete');
}
