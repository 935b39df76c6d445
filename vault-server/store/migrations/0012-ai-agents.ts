/**
 * AI agents (issue 23): what 0001's `ai_agents` lacked, and the approval a rotation policy set by
 * an AI agent waits for.
 * - `ai_agents`: an optional IP allowlist (JSON array of CIDRs; null = any address), a request
 *   rate per key (per minute; null = the vault's default), and when it was disabled or revoked.
 *   `status` is `active`, `disabled` or `revoked` (revoked for good: the name stays taken).
 * - `rotation_policies.awaiting_approval_by`: the AI agent whose `rotation set` created or
 *   changed the policy; while set, the policy is paused (`paused_reason` `awaiting_approval`),
 *   none of its jobs is handed to an agent, and `rotation run` / `rotation resume` refuse, until an
 *   operator's `rotation approve` clears it.
 * `ai_agents` is one of the change counter's tables (0005), so a disable or revoke takes effect on
 * the very next request on every worker.
 */
import type { ColumnDataType, Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';

export function aiAgentsMigration(dialect: Dialect): Migration {
  const ms: ColumnDataType = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('ai_agents').addColumn('ip_allowlist', 'text').execute();
      await db.schema.alterTable('ai_agents').addColumn('rate_per_minute', 'integer').execute();
      await db.schema.alterTable('ai_agents').addColumn('disabled_at', ms).execute();
      await db.schema.alterTable('ai_agents').addColumn('revoked_at', ms).execute();
      await db.schema.alterTable('rotation_policies').addColumn('awaiting_approval_by', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('rotation_policies').dropColumn('awaiting_approval_by').execute();
      for (const c of ['revoked_at', 'disabled_at', 'rate_per_minute', 'ip_allowlist']) await db.schema.alterTable('ai_agents').dropColumn(c).execute();
    },
  };
}
