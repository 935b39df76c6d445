/**
 * Transactions and row locks without dialect branches in the modules.
 *
 * - `transaction(store, fn, { write })`: `write` (the default) takes the writer lock up front —
 *   SQLite `BEGIN IMMEDIATE` (see sqlite-dialect.ts for why Kysely's deferred BEGIN is not enough),
 *   PostgreSQL a plain read-write transaction. `write: false` is a read-only transaction on both
 *   (PostgreSQL `START TRANSACTION READ ONLY`; SQLite deferred BEGIN + `query_only`): a write in it fails.
 * - `forUpdate(dialect, qb)` / `forShare(dialect, qb)`: `FOR UPDATE` / `FOR SHARE` on PostgreSQL,
 *   nothing on SQLite, where the one writer already excludes every other writer.
 * - `isUniqueViolation(err)`: a unique or primary-key conflict, from either driver.
 *
 * Lock order (DESIGN §8): project rows first, in id order, then the audit head, so two
 * transactions never wait on each other in a cycle.
 *
 * @example
 *   await transaction(store, async (trx) => {
 *     const project = await forUpdate(store.dialect, trx.selectFrom('projects').selectAll().where('id', '=', id))
 *       .executeTakeFirstOrThrow();
 *     await trx.updateTable('projects').set({ locked_at: Date.now() }).where('id', '=', project.id).execute();
 *   });
 */
import type { SelectQueryBuilder, Transaction } from 'kysely';
import type { Database } from './database.js';
import type { Dialect, Store } from './open-store.js';
/** A dialect, or anything that carries one (a Store). */
export type DialectOf = Dialect | Pick<Store, 'dialect'>;
export interface RowLockOptions {
    /** PostgreSQL `SKIP LOCKED`: rows another transaction holds are left out instead of waited for. */
    skipLocked?: boolean;
}
export declare function forUpdate<DB, TB extends keyof DB, O>(on: DialectOf, qb: SelectQueryBuilder<DB, TB, O>, opts?: RowLockOptions): SelectQueryBuilder<DB, TB, O>;
export declare function forShare<DB, TB extends keyof DB, O>(on: DialectOf, qb: SelectQueryBuilder<DB, TB, O>, opts?: RowLockOptions): SelectQueryBuilder<DB, TB, O>;
export interface TransactionOptions {
    /** Whether the transaction may write (default true). */
    write?: boolean;
}
/** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
export declare function transaction<T>(store: Pick<Store, 'db'>, fn: (trx: Transaction<Database>) => Promise<T>, opts?: TransactionOptions): Promise<T>;
/** True when `err` (or an error it wraps) is a unique/primary-key violation on either dialect. */
export declare function isUniqueViolation(err: unknown): boolean;
