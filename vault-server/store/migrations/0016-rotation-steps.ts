/**
 * Rotation step timings (issue 29): `rotations.step_reports`, a JSON array of the reports agents
 * made on the job — per claim the vault's claimed/applied times, what the report led to, and the
 * step timings the agent sent with `confirm` / `fail` (modules/rotations/rotation-timeline.ts).
 * `GET /v1/rotations/{id}` and `rotation status` build the job's `timeline` from it. Null on rows
 * written before this migration (their timeline is what the row's columns show) and on jobs no
 * agent has reported on yet. Never a credential: step names, times and durations only.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';

export function rotationStepsMigration(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('rotations').addColumn('step_reports', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('rotations').dropColumn('step_reports').execute();
    },
  };
}
