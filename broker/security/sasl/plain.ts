/**
 * SASL/PLAIN server (RFC 4616), as Kafka's PlainSaslServer: one client message
 * `[authzid] NUL authcid NUL passwd` (UTF-8), checked against the listener's users: the `user_<name>="<pw>"`
 * options of `listener.name.<l>.plain.sasl.jaas.config` (or `sasl.jaas.config`) and the `name=password` lines of
 * `plain.users.file`, both read at each authentication.
 *
 * Invariants: a wrong password and an unknown user fail alike ("Invalid username or password"), and the
 * password comparison takes the same time for both (fixed-length digests, timingSafeEqual); an authzid must be
 * empty or the user name; any other shape of message is a SaslAuthenticationError.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SaslAuthenticationError } from '../../../protocol/errors.js';
import { ConfigError } from '../../config-model.js';
import { jaasUsers, parseJaasConfig } from './jaas.js';
import type { SaslMechanismFactory, SaslServer, SaslServerContext, SaslServerResult } from './mechanism.js';

export const PLAIN = 'PLAIN';
const INVALID = 'Authentication failed: Invalid username or password';
const MAX_MESSAGE = 8192;
const EMPTY = Buffer.alloc(0);

/** `name=password` lines (`#` comments and blank lines skipped); ConfigError naming the line on bad syntax. */
export function parseUsersFile(text: string, file: string): Map<string, string> {
  const users = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${file}: line ${i + 1} is not name=password`);
    users.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return users;
}

/** The PLAIN users of one listener: JAAS `user_` options, then the users file (which wins for a name in both). */
export async function plainUsers(
  ctx: Pick<SaslServerContext, 'listenerName' | 'services'>,
): Promise<Map<string, string>> {
  const { config } = ctx.services;
  const jaas = config.listenerValue(ctx.listenerName, 'sasl.jaas.config', PLAIN) as string | null;
  const users = jaas ? jaasUsers(parseJaasConfig(jaas)) : new Map<string, string>();
  const file = config.listenerValue(ctx.listenerName, 'plain.users.file') as string | null;
  if (file) for (const [u, p] of parseUsersFile(await readFile(file, 'utf8'), file)) users.set(u, p);
  return users;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

class PlainServer implements SaslServer {
  readonly mechanism = PLAIN;
  private user: string | undefined;

  constructor(private readonly ctx: SaslServerContext) {}

  get authorizationId(): string {
    if (this.user === undefined) throw new SaslAuthenticationError('PLAIN authentication has not completed');
    return this.user;
  }

  async evaluate(token: Buffer): Promise<SaslServerResult> {
    if (this.user !== undefined) throw new SaslAuthenticationError('Unexpected SASL/PLAIN token after completion');
    if (token.length > MAX_MESSAGE) throw new SaslAuthenticationError('Invalid SASL/PLAIN response: too long');
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(token);
    } catch {
      throw new SaslAuthenticationError('Invalid SASL/PLAIN response: not UTF-8');
    }
    const parts = text.split('\u0000');
    if (parts.length !== 3)
      throw new SaslAuthenticationError(`Invalid SASL/PLAIN response: expected 3 tokens, got ${parts.length}`);
    const [authzid, user, password] = parts;
    if (user === '') throw new SaslAuthenticationError('Authentication failed: username not specified');
    if (password === '') throw new SaslAuthenticationError('Authentication failed: password not specified');
    const users = await plainUsers(this.ctx);
    const expected = users.get(user);
    // Same work whether or not the user exists.
    const ok = timingSafeEqual(digest(expected ?? `\u0000${password}`), digest(password)) && expected !== undefined;
    if (!ok) throw new SaslAuthenticationError(INVALID);
    if (authzid !== '' && authzid !== user)
      throw new SaslAuthenticationError(
        'Authentication failed: Client requested an authorization id that is different from username',
      );
    this.user = user;
    return { response: EMPTY, complete: true };
  }
}

export const plainMechanism: SaslMechanismFactory = {
  name: PLAIN,
  create: (ctx) => new PlainServer(ctx),
};
