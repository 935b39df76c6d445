/**
 * Webhooks (issue 22): what 0001's `webhooks` and `webhook_deliveries` lacked.
 * - `webhooks`: the previous signing secret and when it stops being sent (`rotate-secret
 *   --overlap`), and the failing bookkeeping: `failures_since` (the first failed attempt since the
 *   last success) and `failing_since` (set once the failures have lasted an hour; one
 *   `webhook.failing` event each time it is set).
 * - `webhook_deliveries`: a lease (`lease_until`, `claimed_by`) so a worker that crashed mid-send
 *   leaves its deliveries to the next one, the last attempt's latency, and `give_up_at` (24 h
 *   after creation or after an operator's redeliver).
 * - `alert_rules`: "send these events (of this project, at least this severity) to that webhook".
 */
import type { ColumnDataType, Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';

export function webhooksMigration(dialect: Dialect): Migration {
  const ms: ColumnDataType = dialect === 'postgres' ? 'bigint' : 'integer';
  const bin: ColumnDataType = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('webhooks').addColumn('secret_previous_sealed', bin).execute();
      await db.schema.alterTable('webhooks').addColumn('previous_expires_at', ms).execute();
      await db.schema.alterTable('webhooks').addColumn('failures_since', ms).execute();
      await db.schema.alterTable('webhooks').addColumn('failing_since', ms).execute();
      await db.schema.alterTable('webhooks').addColumn('secret_version', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await db.schema.alterTable('webhook_deliveries').addColumn('lease_until', ms).execute();
      await db.schema.alterTable('webhook_deliveries').addColumn('claimed_by', 'text').execute();
      await db.schema.alterTable('webhook_deliveries').addColumn('last_latency_ms', 'integer').execute();
      await db.schema.alterTable('webhook_deliveries').addColumn('give_up_at', ms).execute();
      await db.schema.createTable('alert_rules')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('project_id', 'text', (c) => c.references('projects.id').onDelete('cascade'))
        .addColumn('min_severity', 'text', (c) => c.notNull())
        .addColumn('created_at', ms, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .execute();
      await db.schema.createIndex('alert_rules_webhook').on('alert_rules').column('webhook_id').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('alert_rules').execute();
      for (const c of ['give_up_at', 'last_latency_ms', 'claimed_by', 'lease_until']) await db.schema.alterTable('webhook_deliveries').dropColumn(c).execute();
      for (const c of ['secret_version', 'failing_since', 'failures_since', 'previous_expires_at', 'secret_previous_sealed']) await db.schema.alterTable('webhooks').dropColumn(c).execute();
    },
  };
}
