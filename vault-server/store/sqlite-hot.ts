/**
 * The SQLite connection itself, for the few statements every signed request runs (the group
 * commit's BEGIN / SAVEPOINT / COMMIT, the nonce insert, the audit insert and chain head, the
 * change counter): each is prepared once on the connection and run synchronously, without Kysely
 * building, compiling and wrapping it in promises. Everything else keeps going through Kysely.
 *
 * Safe because better-sqlite3 has exactly one connection per process and runs every statement
 * to completion synchronously: a statement run here while the caller holds that connection (inside
 * a group-commit batch, which holds it from BEGIN to COMMIT) is part of that batch's transaction,
 * exactly as the same statement through Kysely would be. Outside a batch only reads run here,
 * and only while no transaction is open on the connection ({@link HotSql.inTransaction}), so they
 * see committed state only.
 *
 * @example
 *   const hot = store.hot;                               // undefined on PostgreSQL
 *   const n = hot?.get<{ n: number }>('select n from change_counter where id = 1')?.n;
 */
import type { Database as NativeDatabase, Statement } from 'better-sqlite3';

export interface HotSql {
  /** True while a transaction is open on the connection (a batch is running). */
  readonly inTransaction: boolean;
  /** Runs a statement that returns no rows; its number of changed rows. */
  run(sql: string, params?: readonly unknown[]): number;
  /** The first row of a query, or undefined. */
  get<T>(sql: string, params?: readonly unknown[]): T | undefined;
}

/** Statements prepared once on `native` (never shared with Kysely's statement cache: modes set here must not leak). */
export function hotSql(native: NativeDatabase): HotSql {
  const prepared = new Map<string, Statement>();
  const statement = (sql: string): Statement => {
    let stmt = prepared.get(sql);
    if (!stmt) {
      stmt = native.prepare(sql);
      prepared.set(sql, stmt);
    }
    return stmt;
  };
  return {
    get inTransaction() {
      return native.inTransaction;
    },
    run: (sql, params = []) => statement(sql).run(...params).changes,
    get: <T>(sql: string, params: readonly unknown[] = []) => statement(sql).get(...params) as T | undefined,
  };
}
