/**
 * `rotation.overdue` (issue "Webhooks and alerts"): `rotation_policies.overdue_for` holds the
 * scheduled fire time an overdue event was raised for, so the event fires once per overdue period
 * across restarts and replicas (the check compares it with the fire time now missed).
 */
import type { ColumnDataType, Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';

export function rotationOverdueMigration(dialect: Dialect): Migration {
  const ms: ColumnDataType = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('rotation_policies').addColumn('overdue_for', ms).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('rotation_policies').dropColumn('overdue_for').execute();
    },
  };
}
