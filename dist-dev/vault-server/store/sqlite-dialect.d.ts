/**
 * Kysely's SqliteDialect with the transaction behaviour the vault needs.
 *
 * Kysely's SqliteDriver (node_modules/kysely/dist/esm/dialect/sqlite/sqlite-driver.js) begins
 * every transaction with a plain `begin`, which SQLite treats as DEFERRED: the write lock is only
 * requested at the first write, and if another connection (another process on the same file)
 * wrote meanwhile, that upgrade fails at once with SQLITE_BUSY — busy_timeout does not help a
 * deferred transaction that already read. DESIGN §8 wants the writer lock up front, so:
 *
 * - `beginTransaction` issues `begin immediate`, unless Kysely's access mode says `read only`:
 *   then a deferred `begin` plus `pragma query_only` for the transaction's duration, so a
 *   read-only transaction refuses writes here just as PostgreSQL's `start transaction read only`
 *   does. The default (no access mode) is immediate: safe for any caller that forgets to say.
 * - the adapter reports transactional DDL (SQLite has it), so Kysely's Migrator runs each
 *   migration batch inside one immediate transaction: all or nothing, one migrator at a time.
 *
 * Within one process Kysely's SQLite driver has a single connection behind a mutex, so
 * transactions never interleave there; `begin immediate` is what orders separate processes.
 */
import type { SqliteDatabase as SqliteDatabaseLike, SqliteStatement } from 'kysely';
import { SqliteDialect } from 'kysely';
import type { DialectAdapter, Driver, SqliteDialectConfig } from 'kysely';
export declare class VaultSqliteDialect extends SqliteDialect {
    #private;
    constructor(config: SqliteDialectConfig);
    createDriver(): Driver;
    createAdapter(): DialectAdapter;
}
/**
 * The better-sqlite3 handle with a cache of prepared statements. Kysely prepares every query
 * afresh; the vault runs the same few dozen statements over and over, and preparing them again
 * cost about 0.7 ms of a 4 ms request. Statements are run to completion synchronously by
 * Kysely's driver, so sharing one prepared statement between queries is safe.
 */
export declare function withStatementCache(native: {
    prepare(sql: string): SqliteStatement;
    close(): void;
}, max?: number): SqliteDatabaseLike;
