/**
 * The store's migrations, provided in code: a bundled vault has no migration folder to glob.
 * Names sort in the order they run; a new migration is a new module added at the end of the list,
 * and a migration that has shipped is never edited.
 *
 * @example
 *   await new Migrator({ db, provider: new CodeMigrationProvider('sqlite') }).migrateToLatest();
 */
import type { Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../open-store.js';
import { initialMigration } from './0001-initial.js';
import { rotationOperationsMigration } from './0002-rotation-operations.js';
import { rotationOutcomesMigration } from './0003-rotation-outcomes.js';
import { auditMacMigration } from './0004-audit-mac.js';
import { changeCounterMigration } from './0005-change-counter.js';
import { operatorKeysMigration } from './0006-operator-keys.js';
import { lifecycleMigration } from './0007-lifecycle.js';
import { rotationFailuresMigration } from './0008-rotation-failures.js';
import { rotationOverdueMigration } from './0009-rotation-overdue.js';
import { webhooksMigration } from './0010-webhooks.js';
import { rotationDriftMigration } from './0011-rotation-drift.js';
import { aiAgentsMigration } from './0012-ai-agents.js';
import { accessPoliciesMigration } from './0013-access-policies.js';
import { auditSearchMigration } from './0014-audit-search.js';
import { auditRetentionIndexesMigration } from './0015-audit-retention-indexes.js';
import { rotationStepsMigration } from './0016-rotation-steps.js';
import { leasesMigration } from './0017-leases.js';
import { leaseCachesMigration } from './0018-lease-caches.js';
import { leaseLimitIndexMigration } from './0019-lease-limit-index.js';

/** Each migration is built for a dialect, so column types (BLOB/BYTEA, INTEGER/BIGINT) can differ. */
const MIGRATIONS: ReadonlyArray<readonly [name: string, build: (dialect: Dialect) => Migration]> = [
  ['0001-initial', initialMigration],
  ['0002-rotation-operations', rotationOperationsMigration],
  ['0003-rotation-outcomes', rotationOutcomesMigration],
  ['0004-audit-mac', auditMacMigration],
  ['0005-change-counter', changeCounterMigration],
  ['0006-operator-keys', operatorKeysMigration],
  ['0007-lifecycle', lifecycleMigration],
  ['0008-rotation-failures', rotationFailuresMigration],
  ['0009-rotation-overdue', rotationOverdueMigration],
  ['0010-webhooks', webhooksMigration],
  ['0011-rotation-drift', rotationDriftMigration],
  ['0012-ai-agents', aiAgentsMigration],
  ['0013-access-policies', accessPoliciesMigration],
  ['0014-audit-search', auditSearchMigration],
  ['0015-audit-retention-indexes', auditRetentionIndexesMigration],
  ['0016-rotation-steps', rotationStepsMigration],
  ['0017-leases', leasesMigration],
  ['0018-lease-caches', leaseCachesMigration],
  ['0019-lease-limit-index', leaseLimitIndexMigration],
];

/** Every migration name, in order. */
export const MIGRATION_NAMES: readonly string[] = MIGRATIONS.map(([name]) => name);

export class CodeMigrationProvider implements MigrationProvider {
  readonly #dialect: Dialect;

  constructor(dialect: Dialect) {
    this.#dialect = dialect;
  }

  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(MIGRATIONS.map(([name, build]) => [name, build(this.#dialect)]));
  }
}
