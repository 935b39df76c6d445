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

export function forUpdate<DB, TB extends keyof DB, O>(on: DialectOf, qb: SelectQueryBuilder<DB, TB, O>, opts: RowLockOptions = {}): SelectQueryBuilder<DB, TB, O> {
  if (dialectOf(on) !== 'postgres') return qb;
  const locked = qb.forUpdate();
  return opts.skipLocked ? locked.skipLocked() : locked;
}

/**
 * Takes the `FOR UPDATE` lock of the rows `qb` selects and reads nothing: on PostgreSQL the
 * locking select; on SQLite nothing at all, the one writer already excludes every other.
 */
export async function lockForUpdate<DB, TB extends keyof DB, O>(on: DialectOf, qb: SelectQueryBuilder<DB, TB, O>): Promise<void> {
  if (dialectOf(on) === 'postgres') await qb.forUpdate().execute();
}

export function forShare<DB, TB extends keyof DB, O>(on: DialectOf, qb: SelectQueryBuilder<DB, TB, O>, opts: RowLockOptions = {}): SelectQueryBuilder<DB, TB, O> {
  if (dialectOf(on) !== 'postgres') return qb;
  const locked = qb.forShare();
  return opts.skipLocked ? locked.skipLocked() : locked;
}

export interface TransactionOptions {
  /** Whether the transaction may write (default true). */
  write?: boolean;
}

/** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
export async function transaction<T>(store: Pick<Store, 'db'>, fn: (trx: Transaction<Database>) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
  return store.db.transaction().setAccessMode(opts.write ?? true ? 'read write' : 'read only').execute(fn);
}

const UNIQUE_CODES = new Set([
  '23505', // PostgreSQL unique_violation (primary keys included)
  'SQLITE_CONSTRAINT_UNIQUE',
  'SQLITE_CONSTRAINT_PRIMARYKEY',
]);

/** True when `err` (or an error it wraps) is a unique/primary-key violation on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && UNIQUE_CODES.has(code)) return true;
    current = current.cause;
  }
  return false;
}

function dialectOf(on: DialectOf): Dialect {
  return typeof on === 'string' ? on : on.dialect;
}
