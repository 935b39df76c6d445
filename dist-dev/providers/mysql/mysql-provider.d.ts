import type { Connection } from 'mysql2/promise';
import type { CredentialProvider } from '../provider.js';
export interface MysqlProviderOptions {
    /** Per connection attempt; default 10 s. */
    connectTimeoutMs?: number;
}
export declare const mysqlProvider: (options?: MysqlProviderOptions) => CredentialProvider;
/** 'user'@'host' as MySQL reads it, quoted by the driver's own escape(). */
export declare function accountSql(user: string, host: string): string;
/**
 * mysql2 quotes values with backslash escapes; under NO_BACKSLASH_ESCAPES the server reads a
 * backslash literally, and an escaped quote would end the string early — a password with a quote
 * could then change the statement. The admin session drops that mode before any value is sent.
 */
export declare function keepBackslashEscapes(conn: Connection, sqlMode: string): Promise<void>;
