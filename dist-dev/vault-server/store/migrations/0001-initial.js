/**
 * The first schema: every table of DESIGN §4, so later work only adds columns and indexes.
 * Column conventions (ids, ms timestamps, 0/1 booleans, JSON as text, binary) are in
 * `../database.ts`, which describes these tables for Kysely and must change with them.
 *
 * Decisions worth knowing:
 * - `rotations`: one partial unique index on (secret_id) over the unfinished states covers every
 *   kind (rotate, retire, preflight). A retire job finishes the previous rotation's strategy (it
 *   drops the old credential after the grace period) and the next rotation must wait for it anyway;
 *   a preflight probes the same credentials. So "at most one unfinished rotation per secret" holds
 *   across kinds, and the index alone makes scheduling exactly-once across replicas.
 * - fences are per rotation (`rotations.fence`, incremented by each claim), not a global counter:
 *   a fence is only ever compared with the same rotation's, and a global counter row would be one
 *   more hot row every claim locks.
 * - `secret_versions`: at most one `live` version per secret (partial unique index).
 * - `audit_head` is created with its one row (id 1, seq 0, 64 zeros): the row every appender locks
 *   must exist before the first append.
 * - foreign keys cascade only into pure children (project keys, versions, grants, extensions,
 *   deliveries); audit events reference nothing, so they outlive what they describe.
 */
import { sql } from 'kysely';
const GENESIS_HASH = '0'.repeat(64);
export function initialMigration(dialect) {
    const ms = dialect === 'postgres' ? 'bigint' : 'integer';
    const bin = dialect === 'postgres' ? 'bytea' : 'blob';
    const flag = (column) => sql `${sql.ref(column)} in (0, 1)`;
    return {
        async up(db) {
            const s = db.schema;
            await s.createTable('vault_meta')
                .addColumn('key', 'text', (c) => c.primaryKey())
                .addColumn('value', bin, (c) => c.notNull())
                .addColumn('updated_at', ms, (c) => c.notNull())
                .execute();
            await s.createTable('projects')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('name', 'text', (c) => c.notNull().unique())
                .addColumn('master_key_wrapped', bin, (c) => c.notNull())
                .addColumn('key_version', 'integer', (c) => c.notNull())
                .addColumn('locked_at', ms)
                .addColumn('locked_reason', 'text')
                .addColumn('created_at', ms, (c) => c.notNull())
                .execute();
            await s.createTable('project_keys')
                .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
                .addColumn('key_version', 'integer', (c) => c.notNull())
                .addColumn('wrapped', bin, (c) => c.notNull())
                .addColumn('created_at', ms, (c) => c.notNull())
                .addPrimaryKeyConstraint('project_keys_pk', ['project_id', 'key_version'])
                .execute();
            await s.createTable('secrets')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
                .addColumn('name', 'text', (c) => c.notNull())
                .addColumn('kind', 'text', (c) => c.notNull())
                .addColumn('is_canary', 'integer', (c) => c.notNull().defaultTo(0).check(flag('is_canary')))
                .addColumn('canary_lock_machine_projects', 'integer', (c) => c.notNull().defaultTo(0).check(flag('canary_lock_machine_projects')))
                .addColumn('current_version', 'integer')
                .addColumn('created_at', ms, (c) => c.notNull())
                .addUniqueConstraint('secrets_project_name_uq', ['project_id', 'name'])
                .execute();
            await s.createTable('secret_versions')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('secret_id', 'text', (c) => c.notNull().references('secrets.id').onDelete('cascade'))
                .addColumn('version', 'integer', (c) => c.notNull())
                .addColumn('state', 'text', (c) => c.notNull())
                .addColumn('ciphertext', bin, (c) => c.notNull())
                .addColumn('wrapped_data_key', bin, (c) => c.notNull())
                .addColumn('project_key_version', 'integer', (c) => c.notNull())
                .addColumn('created_at', ms, (c) => c.notNull())
                .addColumn('promoted_at', ms)
                .addColumn('created_by', 'text')
                .addUniqueConstraint('secret_versions_secret_version_uq', ['secret_id', 'version'])
                .execute();
            await s.createIndex('secret_versions_one_live').unique().on('secret_versions').column('secret_id')
                .where(sql `state = 'live'`).execute();
            await s.createTable('operators')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('name', 'text', (c) => c.notNull().unique())
                .addColumn('role', 'text', (c) => c.notNull())
                .addColumn('public_key', bin, (c) => c.notNull())
                .addColumn('key_id', 'text', (c) => c.notNull().unique())
                .addColumn('status', 'text', (c) => c.notNull())
                .addColumn('created_at', ms, (c) => c.notNull())
                .addColumn('created_by', 'text')
                .execute();
            await s.createTable('machines')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('name', 'text', (c) => c.notNull().unique())
                .addColumn('public_key', bin, (c) => c.notNull())
                .addColumn('key_id', 'text', (c) => c.notNull().unique())
                .addColumn('labels', 'text', (c) => c.notNull())
                .addColumn('status', 'text', (c) => c.notNull())
                .addColumn('expires_at', ms)
                .addColumn('ip_allowlist', 'text')
                .addColumn('country_allowlist', 'text')
                .addColumn('time_window', 'text')
                .addColumn('constraints', 'text')
                .addColumn('created_via', 'text', (c) => c.notNull())
                .addColumn('created_by', 'text')
                .addColumn('token_id', 'text')
                .addColumn('approved_at', ms)
                .addColumn('approved_by', 'text')
                .addColumn('last_seen_at', ms)
                .addColumn('disabled_at', ms)
                .addColumn('created_at', ms, (c) => c.notNull())
                .execute();
            await s.createIndex('machines_status_expires').on('machines').columns(['status', 'expires_at']).execute();
            await s.createTable('ai_agents')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('name', 'text', (c) => c.notNull().unique())
                .addColumn('public_key', bin, (c) => c.notNull())
                .addColumn('key_id', 'text', (c) => c.notNull().unique())
                .addColumn('scopes', 'text', (c) => c.notNull())
                .addColumn('status', 'text', (c) => c.notNull())
                .addColumn('created_at', ms, (c) => c.notNull())
                .addColumn('created_by', 'text')
                .execute();
            await s.createTable('grants')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('machine_id', 'text', (c) => c.notNull().references('machines.id').onDelete('cascade'))
                .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
                .addColumn('secret_id', 'text', (c) => c.references('secrets.id').onDelete('cascade'))
                .addColumn('fields', 'text')
                .addColumn('created_at', ms, (c) => c.notNull())
                .addColumn('created_by', 'text')
                .execute();
            await s.createIndex('grants_machine_project').on('grants').columns(['machine_id', 'project_id']).execute();
            await s.createIndex('grants_project').on('grants').column('project_id').execute();
            await s.createIndex('grants_secret').on('grants').column('secret_id').execute();
            for (const table of ['enrollment_tokens', 'bootstrap_tokens']) {
                await s.createTable(table)
                    .addColumn('id', 'text', (c) => c.primaryKey())
                    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
                    .addColumn('name', 'text')
                    .addColumn('grants', 'text', (c) => c.notNull())
                    .addColumn('constraints', 'text')
                    .addColumn('labels', 'text')
                    .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
                    .addColumn('max_uses', 'integer')
                    .addColumn('expires_at', ms, (c) => c.notNull())
                    .addColumn('revoked_at', ms)
                    .addColumn('machine_lifetime_ms', ms)
                    .addColumn('requires_approval', 'integer', (c) => c.notNull().defaultTo(0).check(flag('requires_approval')))
                    .addColumn('created_by', 'text', (c) => c.notNull())
                    .addColumn('created_by_kind', 'text', (c) => c.notNull())
                    .addColumn('created_at', ms, (c) => c.notNull())
                    .execute();
            }
            await s.createTable('machine_extensions')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('machine_id', 'text', (c) => c.notNull().references('machines.id').onDelete('cascade'))
                .addColumn('previous_expires_at', ms)
                .addColumn('new_expires_at', ms)
                .addColumn('reason', 'text')
                .addColumn('actor', 'text', (c) => c.notNull())
                .addColumn('created_at', ms, (c) => c.notNull())
                .addColumn('reverted_at', ms)
                .addColumn('reverted_by', 'text')
                .execute();
            await s.createIndex('machine_extensions_machine').on('machine_extensions').columns(['machine_id', 'created_at']).execute();
            await s.createTable('rotation_policies')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('secret_id', 'text', (c) => c.notNull().unique().references('secrets.id').onDelete('cascade'))
                .addColumn('provider', 'text', (c) => c.notNull())
                .addColumn('strategy', 'text', (c) => c.notNull())
                .addColumn('schedule', 'text')
                .addColumn('timezone', 'text')
                // A machine deleted after its expiry leaves the policy without an agent (rotation.no_agent).
                .addColumn('agent_machine_id', 'text', (c) => c.references('machines.id').onDelete('set null'))
                .addColumn('agent_label', 'text')
                .addColumn('admin_secret_id', 'text', (c) => c.notNull().references('secrets.id'))
                .addColumn('password_policy', 'text')
                .addColumn('grace_ms', ms, (c) => c.notNull())
                .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0).check(flag('enabled')))
                .addColumn('next_run_at', ms)
                .addColumn('failing', 'integer', (c) => c.notNull().defaultTo(0).check(flag('failing')))
                .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
                .addColumn('alternate_username', 'text')
                .addColumn('created_at', ms, (c) => c.notNull())
                .addColumn('updated_at', ms, (c) => c.notNull())
                .execute();
            await s.createIndex('rotation_policies_due').on('rotation_policies').columns(['enabled', 'next_run_at']).execute();
            await s.createIndex('rotation_policies_admin_secret').on('rotation_policies').column('admin_secret_id').execute();
            await s.createIndex('rotation_policies_agent_machine').on('rotation_policies').column('agent_machine_id').execute();
            await s.createTable('rotations')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('secret_id', 'text', (c) => c.notNull().references('secrets.id').onDelete('cascade'))
                .addColumn('policy_id', 'text', (c) => c.references('rotation_policies.id').onDelete('set null'))
                .addColumn('kind', 'text', (c) => c.notNull())
                .addColumn('state', 'text', (c) => c.notNull())
                .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
                .addColumn('pending_version_id', 'text', (c) => c.references('secret_versions.id'))
                .addColumn('claimed_by', 'text')
                .addColumn('lease_until', ms)
                .addColumn('fence', ms, (c) => c.notNull().defaultTo(0))
                .addColumn('maybe_applied', 'integer', (c) => c.notNull().defaultTo(0).check(flag('maybe_applied')))
                .addColumn('error', 'text')
                .addColumn('error_code', 'text')
                .addColumn('created_at', ms, (c) => c.notNull())
                .addColumn('claimed_at', ms)
                .addColumn('applied_at', ms)
                .addColumn('finished_at', ms)
                .addColumn('not_before', ms)
                .addColumn('details', 'text')
                .execute();
            // Literal SQL (DDL binds no parameters), frozen with this migration; a test checks it still
            // equals UNFINISHED_ROTATION_STATES.
            await s.createIndex('rotations_one_unfinished_per_secret').unique().on('rotations').column('secret_id')
                .where(sql `state in ('pending', 'claimed', 'applied', 'stuck')`).execute();
            await s.createIndex('rotations_secret_created').on('rotations').columns(['secret_id', 'created_at']).execute();
            await s.createIndex('rotations_state_not_before').on('rotations').columns(['state', 'not_before']).execute();
            await s.createIndex('rotations_policy').on('rotations').column('policy_id').execute();
            await s.createIndex('rotations_pending_version').on('rotations').column('pending_version_id').execute();
            await s.createTable('audit_events')
                .addColumn('seq', ms, (c) => c.primaryKey())
                .addColumn('id', 'text', (c) => c.notNull().unique())
                .addColumn('at', ms, (c) => c.notNull())
                .addColumn('actor_kind', 'text', (c) => c.notNull())
                .addColumn('actor_id', 'text')
                .addColumn('action', 'text', (c) => c.notNull())
                .addColumn('project_id', 'text')
                .addColumn('target', 'text', (c) => c.notNull())
                .addColumn('outcome', 'text', (c) => c.notNull())
                .addColumn('source_ip', 'text')
                .addColumn('details', 'text', (c) => c.notNull())
                .addColumn('prev_hash', 'text', (c) => c.notNull())
                .addColumn('hash', 'text', (c) => c.notNull())
                .execute();
            await s.createIndex('audit_events_project_seq').on('audit_events').columns(['project_id', 'seq']).execute();
            await s.createIndex('audit_events_at').on('audit_events').column('at').execute();
            await s.createTable('audit_head')
                .addColumn('id', 'integer', (c) => c.primaryKey().check(sql `id = 1`))
                .addColumn('seq', ms, (c) => c.notNull())
                .addColumn('hash', 'text', (c) => c.notNull())
                .execute();
            await sql `insert into audit_head (id, seq, hash) values (1, 0, ${GENESIS_HASH})`.execute(db);
            await s.createTable('webhooks')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('url', 'text', (c) => c.notNull())
                .addColumn('secret_sealed', bin, (c) => c.notNull())
                .addColumn('events', 'text', (c) => c.notNull())
                .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0).check(flag('enabled')))
                .addColumn('allow_private', 'integer', (c) => c.notNull().defaultTo(0).check(flag('allow_private')))
                .addColumn('created_at', ms, (c) => c.notNull())
                .addColumn('created_by', 'text')
                .execute();
            await s.createTable('webhook_deliveries')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
                .addColumn('event_id', 'text', (c) => c.notNull())
                .addColumn('event_type', 'text', (c) => c.notNull())
                .addColumn('payload', 'text', (c) => c.notNull())
                .addColumn('state', 'text', (c) => c.notNull())
                .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
                .addColumn('next_attempt_at', ms)
                .addColumn('last_status', 'integer')
                .addColumn('last_error', 'text')
                .addColumn('created_at', ms, (c) => c.notNull())
                .addColumn('delivered_at', ms)
                .execute();
            await s.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['state', 'next_attempt_at']).execute();
            await s.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['webhook_id', 'created_at']).execute();
            await s.createTable('nonces')
                .addColumn('key_id', 'text', (c) => c.notNull())
                .addColumn('nonce_hash', 'text', (c) => c.notNull())
                .addColumn('expires_at', ms, (c) => c.notNull())
                .addPrimaryKeyConstraint('nonces_pk', ['key_id', 'nonce_hash'])
                .execute();
            await s.createIndex('nonces_expires_at').on('nonces').column('expires_at').execute();
            await s.createTable('sweeper_leases')
                .addColumn('name', 'text', (c) => c.primaryKey())
                .addColumn('holder', 'text', (c) => c.notNull())
                .addColumn('lease_until', ms, (c) => c.notNull())
                .execute();
        },
    };
}
//# sourceMappingURL=0001-initial.js.map