/**
 * Audit search, retention and sinks (issue 25).
 * - `audit_events.actor_name`: the actor's name at write time, so a rename or a removal does not
 *   rewrite history. It is covered by the event's hash when present (canonicalEvent appends it),
 *   so it cannot be backfilled into rows written before this migration without breaking their
 *   hashes: those rows keep NULL, and a listing resolves their actor's *current* name (marked as
 *   such; see searchAudit in modules/audit/audit-search.ts).
 * - `audit_events_action_seq`: `--action` filters (the common one) page through an index instead
 *   of the whole log. Only this one index: every machine read appends an event, and each index is
 *   one more B-tree insert on that path. Time filters use 0001's `audit_events_at`, project filters
 *   `audit_events_project_seq`.
 * - `audit_prunes`: one row per retention sweep, the vault's Ed25519 signature over the last
 *   pruned event (its seq, hash, time), so `audit verify` can start from the boundary and still
 *   prove every event that was kept.
 * - `audit_sink_cursor`: how far each sink has durably delivered (at-least-once).
 */
import type { ColumnDataType, Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';

export function auditSearchMigration(dialect: Dialect): Migration {
  const ms: ColumnDataType = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('audit_events').addColumn('actor_name', 'text').execute();
      await db.schema.createIndex('audit_events_action_seq').on('audit_events').columns(['action', 'seq']).execute();
      await db.schema.createTable('audit_prunes')
        .addColumn('last_seq', ms, (c) => c.primaryKey())
        .addColumn('first_seq', ms, (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('at', ms, (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('pruned_at', ms, (c) => c.notNull())
        .addColumn('events', ms, (c) => c.notNull())
        .execute();
      await db.schema.createTable('audit_sink_cursor')
        .addColumn('sink', 'text', (c) => c.primaryKey())
        .addColumn('seq', ms, (c) => c.notNull())
        .addColumn('updated_at', ms, (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('audit_sink_cursor').execute();
      await db.schema.dropTable('audit_prunes').execute();
      await db.schema.dropIndex('audit_events_action_seq').execute();
      await db.schema.alterTable('audit_events').dropColumn('actor_name').execute();
    },
  };
}
