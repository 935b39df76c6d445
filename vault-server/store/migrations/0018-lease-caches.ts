/**
 * `lease_roles` and `lease_grants` join the change-counter triggers (migration 0005), so a lease
 * request takes its role and the machine's lease grant from memory (read-lookups.ts), as a read
 * takes its grants; a change to either reaches every worker and replica on the next request.
 * Both change only through operators (a role created, changed or deleted; a grant added or
 * removed), never on the lease traffic itself.
 */
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';

const BUMP = 'update change_counter set n = n + 1 where id = 1';
/** The tables of this migration whose every change moves the change counter. */
const COUNTED = ['lease_roles', 'lease_grants'] as const;

export function leaseCachesMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const table of COUNTED) {
        if (dialect === 'postgres') {
          await sql.raw(`create trigger sk_changes_${table} after insert or update or delete on ${table} for each statement execute function sk_bump_change_counter()`).execute(db);
        } else {
          for (const op of ['insert', 'update', 'delete']) await sql.raw(`create trigger sk_changes_${table}_${op} after ${op} on ${table} begin ${BUMP}; end`).execute(db);
        }
      }
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of COUNTED) {
        if (dialect === 'postgres') await sql.raw(`drop trigger if exists sk_changes_${table} on ${table}`).execute(db);
        else for (const op of ['insert', 'update', 'delete']) await sql.raw(`drop trigger if exists sk_changes_${table}_${op}`).execute(db);
      }
    },
  };
}
