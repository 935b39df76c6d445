/**
 * Status tells the truth (issue 22): a failed attempt records when it failed, which attempt it was
 * and the retry budget then in force, on the row that failed. `rotation status` shows the latest
 * failure until a later rotation succeeds — also once the retry that followed it is the latest
 * job, and while a job retried after an unproven failure is `pending` again (no `finished_at`).
 * Rows that failed before this migration keep these null; the status falls back to `finished_at`.
 */
import type { ColumnDataType, Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';

export function rotationFailuresMigration(dialect: Dialect): Migration {
  const ms: ColumnDataType = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('rotations').addColumn('error_at', ms).execute();
      await db.schema.alterTable('rotations').addColumn('error_attempt', 'integer').execute();
      await db.schema.alterTable('rotations').addColumn('error_max_attempts', 'integer').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const c of ['error_max_attempts', 'error_attempt', 'error_at']) await db.schema.alterTable('rotations').dropColumn(c).execute();
    },
  };
}
