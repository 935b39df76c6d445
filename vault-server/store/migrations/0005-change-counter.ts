/**
 * The store's change counter (issue "The hot path", item 1): one row whose `n` goes up whenever
 * a row the vault caches in memory changes — identities, projects and their keys, secrets and
 * their versions, grants. Every worker and replica reads `n` on each request (one indexed row)
 * and drops its caches when it moved, so a disabled machine, a removed grant or a canary lock
 * takes effect on the very next request everywhere.
 *
 * The counter is kept by triggers, not by the application: no code path (an operator's command,
 * a rotation, a canary trip, a hand-made repair in SQL) can change a cached table and forget it.
 * `machines.last_seen_at`, which machine reads update every 15 s, is the one column left out, so
 * the steady read traffic does not empty the caches. A column a cache starts to read must be in
 * MACHINE_COLUMNS (a new migration that recreates the trigger).
 */
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';

/** The tables whose every change moves the counter. */
export const COUNTED_TABLES = ['projects', 'project_keys', 'secrets', 'secret_versions', 'grants', 'operators', 'ai_agents'] as const;
/** The `machines` columns whose change moves it (not `last_seen_at`). */
export const MACHINE_COLUMNS = ['name', 'public_key', 'key_id', 'status', 'expires_at', 'ip_allowlist', 'country_allowlist', 'time_window', 'constraints', 'labels'] as const;

const BUMP = 'update change_counter set n = n + 1 where id = 1';

/** Triggers that move the change counter on every insert, update and delete of each table (later migrations' tables). */
export async function addChangeTriggers(db: Kysely<unknown>, dialect: Dialect, tables: readonly string[]): Promise<void> {
  for (const table of tables) {
    if (dialect === 'postgres') {
      await sql.raw(`create trigger sk_changes_${table} after insert or update or delete on ${table} for each statement execute function sk_bump_change_counter()`).execute(db);
    } else {
      for (const op of ['insert', 'update', 'delete']) await sql.raw(`create trigger sk_changes_${table}_${op} after ${op} on ${table} begin ${BUMP}; end`).execute(db);
    }
  }
}

/** Drops what {@link addChangeTriggers} made (and the `machines` triggers below, by the same names). */
export async function dropChangeTriggers(db: Kysely<unknown>, dialect: Dialect, tables: readonly string[]): Promise<void> {
  for (const table of tables) {
    if (dialect === 'postgres') await sql.raw(`drop trigger if exists sk_changes_${table} on ${table}`).execute(db);
    else for (const op of ['insert', 'update', 'delete']) await sql.raw(`drop trigger if exists sk_changes_${table}_${op}`).execute(db);
  }
}

export function changeCounterMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createTable('change_counter')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('n', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
        .execute();
      await sql`insert into change_counter (id, n) values (1, 0)`.execute(db);
      if (dialect === 'postgres') {
        await sql.raw(`create function sk_bump_change_counter() returns trigger language plpgsql as $$ begin ${BUMP}; return null; end $$`).execute(db);
        for (const table of COUNTED_TABLES) {
          await sql.raw(`create trigger sk_changes_${table} after insert or update or delete on ${table} for each statement execute function sk_bump_change_counter()`).execute(db);
        }
        await sql.raw(`create trigger sk_changes_machines after insert or delete or update of ${MACHINE_COLUMNS.join(', ')} on machines for each statement execute function sk_bump_change_counter()`).execute(db);
        return;
      }
      for (const table of COUNTED_TABLES) {
        for (const op of ['insert', 'update', 'delete']) {
          await sql.raw(`create trigger sk_changes_${table}_${op} after ${op} on ${table} begin ${BUMP}; end`).execute(db);
        }
      }
      await sql.raw(`create trigger sk_changes_machines_insert after insert on machines begin ${BUMP}; end`).execute(db);
      await sql.raw(`create trigger sk_changes_machines_delete after delete on machines begin ${BUMP}; end`).execute(db);
      await sql.raw(`create trigger sk_changes_machines_update after update of ${MACHINE_COLUMNS.join(', ')} on machines begin ${BUMP}; end`).execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await dropChangeTriggers(db, dialect, [...COUNTED_TABLES, 'machines']);
      if (dialect === 'postgres') await sql.raw('drop function if exists sk_bump_change_counter()').execute(db);
      await db.schema.dropTable('change_counter').execute();
    },
  };
}
