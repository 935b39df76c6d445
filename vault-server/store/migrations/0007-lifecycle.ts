/**
 * Lifecycle (issue "A lifecycle for everything"): projects and secrets go to a trash before they
 * are purged (`deleted_at`, `deleted_by`); secrets carry a description and tags; a rotation policy
 * paused by a deletion or a machine's removal says so (`paused_reason`), so a restore resumes
 * exactly the policies it paused and none an operator paused by hand.
 *
 * A project in the trash keeps its secrets' own `deleted_at` untouched: restoring the project
 * brings back what was live in it, and a secret deleted before the project stays in the trash.
 */
import type { ColumnDataType, Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';

export function lifecycleMigration(dialect: Dialect): Migration {
  const ms: ColumnDataType = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('projects').addColumn('deleted_at', ms).execute();
      await db.schema.alterTable('projects').addColumn('deleted_by', 'text').execute();
      await db.schema.alterTable('secrets').addColumn('deleted_at', ms).execute();
      await db.schema.alterTable('secrets').addColumn('deleted_by', 'text').execute();
      await db.schema.alterTable('secrets').addColumn('description', 'text').execute();
      await db.schema.alterTable('secrets').addColumn('tags', 'text').execute();
      await db.schema.alterTable('rotation_policies').addColumn('paused_reason', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('rotation_policies').dropColumn('paused_reason').execute();
      for (const c of ['tags', 'description', 'deleted_by', 'deleted_at']) await db.schema.alterTable('secrets').dropColumn(c).execute();
      for (const c of ['deleted_by', 'deleted_at']) await db.schema.alterTable('projects').dropColumn(c).execute();
    },
  };
}
