/**
 * Per-project audit retention and indexed audit search (issue 25).
 * - `projects.audit_retention_ms`: how long this project's audit events are kept when that is
 *   longer than the vault's `serve --audit-retention` (null: the vault's). Retention prunes only a
 *   prefix of the one global chain, so a longer project setting holds the sweeper's boundary
 *   before that project's oldest event still within it (modules/audit/audit-retention.ts).
 * - One index per `GET /v1/audit` filter, each ending in `seq`: an equality filter then walks its
 *   index backwards in `seq` order and stops after one page, newest first, whatever the log's size
 *   (0001 indexed project and time, 0014 the action). `bench -- audit-search` times each filter on
 *   a million events. Every index is one more B-tree insert for every appended event (the machine
 *   read path appends one per read): the benchmark measures that cost too, and docs/benchmarks.md
 *   has the figures.
 */
import type { ColumnDataType, Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';

/** name → columns; each is also dropped by `down`. */
export const AUDIT_SEARCH_INDEXES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['audit_events_actor_kind_seq', ['actor_kind', 'seq']],
  ['audit_events_actor_name_seq', ['actor_name', 'seq']],
  ['audit_events_actor_id_seq', ['actor_id', 'seq']],
  ['audit_events_outcome_seq', ['outcome', 'seq']],
  ['audit_events_target_seq', ['target', 'seq']],
  ['audit_events_ip_seq', ['source_ip', 'seq']],
];

export function auditRetentionIndexesMigration(dialect: Dialect): Migration {
  const ms: ColumnDataType = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('projects').addColumn('audit_retention_ms', ms).execute();
      for (const [name, columns] of AUDIT_SEARCH_INDEXES) {
        await db.schema.createIndex(name).on('audit_events').columns([...columns]).execute();
      }
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const [name] of [...AUDIT_SEARCH_INDEXES].reverse()) await db.schema.dropIndex(name).execute();
      await db.schema.alterTable('projects').dropColumn('audit_retention_ms').execute();
    },
  };
}
