/**
 * Access policies (issue 24): when, from where, how often and how many times a secret may be read.
 * - `access_policies`: one named policy per project; every axis optional (null = not set).
 * - `secrets.policy_id`: the one policy bound to a secret (null = none). No foreign key: SQLite
 *   cannot drop a column a foreign key names, and `policy delete` refuses a bound policy itself.
 * - `access_policy_state`: one row per bound secret, taken `FOR UPDATE` by every read the policy
 *   counts (reads served under maxReads, reads since the last queued rotation). Written by reads,
 *   so it is NOT a counted table: its changes must not empty the caches.
 * - `access_policy_reads`: the served reads of the last 24 h per secret (sliding rate caps),
 *   pruned by the reads themselves; in the store, so replicas and workers count the same reads.
 * - `access_policy_cosigns`: a second machine's approval of one read by a named machine, used once.
 *
 * - `label_grants`: grants by machine label (`grant add --label web …`): every active machine
 *   carrying the label holds them; a machine pending approval never does.
 *
 * `access_policies` and `label_grants` join the change-counter triggers (migration 0005), so a
 * read takes them from memory; a change reaches every worker and replica on the next read.
 */
import type { ColumnDataType, Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';
import { addChangeTriggers, dropChangeTriggers } from './0005-change-counter.js';

/** The tables of this migration whose every change moves the change counter. */
const COUNTED = ['access_policies', 'label_grants'] as const;

export function accessPoliciesMigration(dialect: Dialect): Migration {
  const ms: ColumnDataType = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createTable('access_policies')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('time_window', 'text')
        .addColumn('ip_allowlist', 'text')
        .addColumn('max_reads_per_minute', 'integer')
        .addColumn('max_reads_per_day', 'integer')
        .addColumn('cosign_window_ms', ms)
        .addColumn('cosign_machine_id', 'text')
        .addColumn('expires_at', ms)
        .addColumn('max_reads', 'integer')
        .addColumn('rotate_after_reads', 'integer')
        .addColumn('created_at', ms, (c) => c.notNull())
        .addColumn('updated_at', ms, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addUniqueConstraint('access_policies_project_name', ['project_id', 'name'])
        .execute();
      await db.schema.alterTable('secrets').addColumn('policy_id', 'text').execute();
      await db.schema.createTable('access_policy_state')
        .addColumn('secret_id', 'text', (c) => c.primaryKey())
        .addColumn('reads_served', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('reads_since_rotation', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('bound_at', ms, (c) => c.notNull())
        .execute();
      await db.schema.createTable('access_policy_reads')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('secret_id', 'text', (c) => c.notNull())
        .addColumn('at', ms, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('access_policy_reads_secret_at').on('access_policy_reads').columns(['secret_id', 'at']).execute();
      await db.schema.createTable('access_policy_cosigns')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('secret_id', 'text', (c) => c.notNull())
        .addColumn('requester_machine_id', 'text', (c) => c.notNull())
        .addColumn('cosigner_machine_id', 'text', (c) => c.notNull())
        .addColumn('created_at', ms, (c) => c.notNull())
        .addColumn('expires_at', ms, (c) => c.notNull())
        .addColumn('used_at', ms)
        .execute();
      await db.schema.createIndex('access_policy_cosigns_lookup').on('access_policy_cosigns').columns(['secret_id', 'requester_machine_id', 'expires_at']).execute();
      await db.schema.createTable('label_grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('secret_id', 'text', (c) => c.references('secrets.id').onDelete('cascade'))
        .addColumn('fields', 'text')
        .addColumn('created_at', ms, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .execute();
      await db.schema.createIndex('label_grants_project_label').on('label_grants').columns(['project_id', 'label']).execute();
      await addChangeTriggers(db, dialect, COUNTED);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await dropChangeTriggers(db, dialect, COUNTED);
      await db.schema.dropTable('label_grants').execute();
      await db.schema.dropTable('access_policy_cosigns').execute();
      await db.schema.dropTable('access_policy_reads').execute();
      await db.schema.dropTable('access_policy_state').execute();
      await db.schema.alterTable('secrets').dropColumn('policy_id').execute();
      await db.schema.dropTable('access_policies').execute();
    },
  };
}
