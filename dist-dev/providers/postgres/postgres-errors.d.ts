/**
 * PostgreSQL errors → SikkerKeyError. SQLSTATE codes (server answers) are mapped first, then
 * network and TLS failures. Messages name the role and the server, never a password.
 *
 * @example
 *   try { await client.connect(); } catch (err) {
 *     throw pgError(err, { step: 'admin-login', endpoint: '10.0.0.5:5432', username: 'sk_admin', admin: 'sk_admin' });
 *   }
 */
import { SikkerKeyError } from '../../protocol/errors.js';
export interface PgErrorContext {
    /** Values to keep out of the message and cause (the provider's secretValues()). */
    secrets?: Iterable<string>;
    /** What was being done: logging in as the admin, logging in as the user under test, or changing a password. */
    step: 'admin-login' | 'login' | 'update' | 'preflight';
    /** host:port. */
    endpoint: string;
    /** The role concerned (the admin for admin-login). */
    username: string;
    admin: string;
    /** How to fix a privilege error on this server version. */
    privilegeHint?: string;
}
/** True when the error is PostgreSQL's answer (an ErrorResponse with a SQLSTATE). */
export declare function isServerError(err: unknown): boolean;
export declare function pgError(err: unknown, ctx: PgErrorContext): SikkerKeyError;
