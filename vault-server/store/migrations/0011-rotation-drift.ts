/**
 * `rotation.drift` (issue "Webhooks and alerts"): the agent's periodic probe of the live
 * credential. Per policy: how often to probe (`drift_interval_ms`, default 15 min, 0 = never),
 * when the next probe is due (`drift_due_at`; null = now; a claim moves it forward by a lease so
 * two agents do not probe at once), what the last probe found, and since when the database has
 * refused the live credential (`drift_failing_since`: one event per failing streak).
 */
import type { ColumnDataType, Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';

export const DEFAULT_DRIFT_INTERVAL_MS = 15 * 60_000;

export function rotationDriftMigration(dialect: Dialect): Migration {
  const ms: ColumnDataType = dialect === 'postgres' ? 'bigint' : 'integer';
  const columns: ReadonlyArray<readonly [string, ColumnDataType]> = [
    ['drift_due_at', ms], ['drift_checked_at', ms], ['drift_ok', 'integer'], ['drift_code', 'text'], ['drift_message', 'text'], ['drift_failing_since', ms],
  ];
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('rotation_policies').addColumn('drift_interval_ms', ms, (c) => c.notNull().defaultTo(DEFAULT_DRIFT_INTERVAL_MS)).execute();
      for (const [name, type] of columns) await db.schema.alterTable('rotation_policies').addColumn(name, type).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const [name] of [...columns].reverse()) await db.schema.alterTable('rotation_policies').dropColumn(name).execute();
      await db.schema.alterTable('rotation_policies').dropColumn('drift_interval_ms').execute();
    },
  };
}
