/**
 * MySQL and MariaDB errors → SikkerKeyError. Server errors are mapped by errno (stable across
 * both servers where they share a number; mysql2 names some MariaDB-only numbers after unrelated
 * MySQL errors, so names are not trusted), then network and TLS failures.
 *
 * A mysql2 error carries the whole statement in `sql` — with the password in it for ALTER USER —
 * so the original error is never kept as a cause: only its scrubbed copy.
 *
 * @example
 *   throw mysqlError(err, { step: 'update', engine: 'MariaDB', endpoint: 'db:3306', account: "'app'@'%'", admin: "'sk_admin'@'%'" });
 */
import { SikkerKeyError } from '../../protocol/errors.js';
export interface MysqlErrorContext {
    /** Values to keep out of the message and cause (the provider's secretValues()). */
    secrets?: Iterable<string>;
    step: 'admin-login' | 'login' | 'update' | 'retire' | 'preflight';
    /** "MySQL" or "MariaDB" (or "MySQL" before the server said which). */
    engine: string;
    endpoint: string;
    /** The account concerned as SQL, e.g. 'app'@'%' (the admin for admin-login). */
    account: string;
    /** The admin account as SQL, for fixes. */
    admin: string;
}
/** True when the error is the server's answer (it has a SQLSTATE). */
export declare function isServerError(err: unknown): boolean;
export declare function mysqlError(err: unknown, ctx: MysqlErrorContext): SikkerKeyError;
