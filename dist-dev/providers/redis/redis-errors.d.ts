/**
 * Redis errors → SikkerKeyError. Replies are recognised by their prefix (WRONGPASS, NOAUTH,
 * NOPERM, ERR …), then network and TLS failures.
 *
 * Redis echoes a failing ACL SETUSER rule in its error ("Error in ACL SETUSER modifier '…'"):
 * the provider sends password hashes, not passwords, and every message is redacted anyway.
 *
 * @example
 *   throw redisError(err, { step: 'update', endpoint: '10.0.0.7:6379', username: 'app', admin: 'sk_admin' });
 */
import { SikkerKeyError } from '../../protocol/errors.js';
export interface RedisErrorContext {
    step: 'admin-login' | 'login' | 'update' | 'retire' | 'preflight' | 'initialize';
    endpoint: string;
    username: string;
    admin: string;
    /** Values to keep out of the message and cause. */
    secrets?: Iterable<string>;
}
export declare function isServerReply(err: unknown): boolean;
export declare function redisError(err: unknown, ctx: RedisErrorContext): SikkerKeyError;
