/**
 * Rotation in operation: when a policy's agents were last seen alive is tracked so that
 * `rotation.no_agent` fires once per episode, not on every scheduler tick; and an `alternating`
 * policy remembers its first user, the other one being `alternate_username`.
 */
import type { ColumnDataType, Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';

export function rotationOperationsMigration(dialect: Dialect): Migration {
  const ms: ColumnDataType = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('rotation_policies').addColumn('no_agent_since', ms).execute();
      await db.schema.alterTable('rotation_policies').addColumn('primary_username', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('rotation_policies').dropColumn('primary_username').execute();
      await db.schema.alterTable('rotation_policies').dropColumn('no_agent_since').execute();
    },
  };
}
