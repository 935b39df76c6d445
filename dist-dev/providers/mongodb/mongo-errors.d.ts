/**
 * MongoDB driver errors → SikkerKeyError. What the `mongodb` driver (7.x) really throws, as the
 * tests observe it through the real driver:
 * - a refused login is a `MongoServerError` with code 18 AuthenticationFailed (wrong password and
 *   unknown user alike: MongoDB does not say which), thrown by the first command;
 * - a missing privilege is code 13 Unauthorized; an unknown user for `updateUser` is 11 UserNotFound;
 * - an unreachable or TLS-failing server is a `MongoServerSelectionError` whose `reason` (a
 *   topology description) holds, per server, the network error with Node's error as `cause`.
 * Messages name users and endpoints, never a secret; driver text is passed through a redactor.
 *
 * @example
 *   try { await db.command({ updateUser: name, pwd, mechanisms: ['SCRAM-SHA-256'] }); }
 *   catch (err) { throw toProviderError(err, { action: 'update', ...ctx }); }
 */
import { SikkerKeyError } from '../../protocol/errors.js';
import type { TlsMode } from '../provider-config.js';
export interface MongoErrorContext {
    /** What we were doing, for the message. */
    action: 'connect' | 'update' | 'verify' | 'preflight';
    /** Whose connection: the admin's (initialize, update, preflight) or the target's (verify). */
    secret: 'admin' | 'target';
    /** host:port */
    endpoint: string;
    /** The user that logs in on this connection. */
    loginUser: string;
    /** The database that user authenticates against. */
    authSource: string;
    /** The user whose credential is being changed or checked (update/verify), if any. */
    subject?: string;
    /** The database the subject is defined on. */
    subjectDb?: string;
    tls: TlsMode;
    /** False when the driver mangles the login name in SCRAM (see scramNameRoundTrips). */
    nameRoundTrips?: boolean;
    /** Removes every secret value from driver text. */
    redact: (text: string) => string;
}
/**
 * The chain of causes, plus the per-server errors a MongoServerSelectionError keeps in
 * `reason.servers` (a Map of ServerDescription) — that is where ECONNREFUSED or a TLS failure is.
 */
export declare function deepChain(err: unknown): unknown[];
export declare function toProviderError(err: unknown, ctx: MongoErrorContext): SikkerKeyError;
