/**
 * Leased credentials (issue #30, docs/leases.md): a database login per machine, minted by the
 * agent on demand and dropped when the lease ends.
 * - `lease_roles`: what a lease of (project, name) gets: the engine, the agent that mints it (a
 *   machine or a label), the admin secret it connects with, the TTL and its cap, an optional
 *   maximum of live leases, and the engine's grant (JSON: memberOf / grantRole / acl / roles).
 * - `leases`: one login. Intent first: the row — its generated `username` and its password,
 *   envelope-encrypted like a secret value (a data key wrapped under the project key) — commits
 *   before any create job of it can be claimed, so a login never exists in the database without a
 *   row that names it. `state`: creating → active → revoking → revoked | expired; failed.
 *   `end_reason` says why a lease is revoking (and whether the drop ends it `revoked` or `expired`).
 * - `lease_jobs`: the agent's work (create, renew, drop), claimed with a fence and a 60 s claim
 *   lease, retried with backoff (`not_before`, `attempts`).
 * - `lease_grants`: a machine's grant on a lease role (`grant add M --project P --lease-role R`).
 */
import type { ColumnDataType, Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';

export function leasesMigration(dialect: Dialect): Migration {
  const ms: ColumnDataType = dialect === 'postgres' ? 'bigint' : 'integer';
  const bin: ColumnDataType = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createTable('lease_roles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('engine', 'text', (c) => c.notNull())
        .addColumn('agent_machine_id', 'text', (c) => c.references('machines.id').onDelete('set null'))
        .addColumn('agent_label', 'text')
        .addColumn('admin_secret_id', 'text', (c) => c.notNull().references('secrets.id'))
        .addColumn('ttl_ms', ms, (c) => c.notNull())
        .addColumn('max_ttl_ms', ms, (c) => c.notNull())
        .addColumn('max_leases', 'integer')
        .addColumn('max_leases_per_machine', 'integer')
        .addColumn('grant_spec', 'text', (c) => c.notNull())
        .addColumn('created_at', ms, (c) => c.notNull())
        .addColumn('updated_at', ms, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addUniqueConstraint('lease_roles_project_name', ['project_id', 'name'])
        .execute();
      await db.schema.createTable('leases')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('role_id', 'text', (c) => c.notNull().references('lease_roles.id').onDelete('cascade'))
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('machine_id', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_ciphertext', bin, (c) => c.notNull())
        .addColumn('password_wrapped_key', bin, (c) => c.notNull())
        .addColumn('project_key_version', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('end_reason', 'text')
        .addColumn('created_at', ms, (c) => c.notNull())
        .addColumn('active_at', ms)
        .addColumn('expires_at', ms, (c) => c.notNull())
        .addColumn('max_expires_at', ms, (c) => c.notNull())
        .addColumn('ended_at', ms)
        .execute();
      await db.schema.createIndex('leases_role_state').on('leases').columns(['role_id', 'state']).execute();
      await db.schema.createIndex('leases_machine_state').on('leases').columns(['machine_id', 'state']).execute();
      await db.schema.createIndex('leases_state_expires').on('leases').columns(['state', 'expires_at']).execute();
      await db.schema.createTable('lease_jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('lease_id', 'text', (c) => c.notNull().references('leases.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('fence', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('claimed_by', 'text')
        .addColumn('lease_until', ms)
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('not_before', ms)
        .addColumn('renew_to', ms)
        .addColumn('error_code', 'text')
        .addColumn('error', 'text')
        .addColumn('created_at', ms, (c) => c.notNull())
        .addColumn('finished_at', ms)
        .execute();
      await db.schema.createIndex('lease_jobs_state').on('lease_jobs').columns(['state', 'not_before']).execute();
      await db.schema.createIndex('lease_jobs_lease').on('lease_jobs').column('lease_id').execute();
      await db.schema.createTable('lease_grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('machine_id', 'text', (c) => c.notNull().references('machines.id').onDelete('cascade'))
        .addColumn('lease_role_id', 'text', (c) => c.notNull().references('lease_roles.id').onDelete('cascade'))
        .addColumn('created_at', ms, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addUniqueConstraint('lease_grants_machine_role', ['machine_id', 'lease_role_id'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const t of ['lease_grants', 'lease_jobs', 'leases', 'lease_roles']) await db.schema.dropTable(t).execute();
    },
  };
}
