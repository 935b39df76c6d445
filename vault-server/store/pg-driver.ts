/**
 * The PostgreSQL driver, loaded on first use: a vault on SQLite (the default) never loads `pg`,
 * which would add a sixth of its start-up (every `sikkerkey-vault` command starts a process).
 *
 * @example
 *   const pg = await loadPg();
 *   const client = new pg.Client({ connectionString });
 */
import type PgModule from 'pg';

let loading: Promise<typeof PgModule> | undefined;

export function loadPg(): Promise<typeof PgModule> {
  loading ??= import('pg').then((m) => m.default);
  return loading;
}
