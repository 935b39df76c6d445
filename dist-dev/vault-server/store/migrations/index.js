import { initialMigration } from './0001-initial.js';
import { rotationOperationsMigration } from './0002-rotation-operations.js';
import { rotationOutcomesMigration } from './0003-rotation-outcomes.js';
import { auditMacMigration } from './0004-audit-mac.js';
import { changeCounterMigration } from './0005-change-counter.js';
import { operatorKeysMigration } from './0006-operator-keys.js';
import { lifecycleMigration } from './0007-lifecycle.js';
/** Each migration is built for a dialect, so column types (BLOB/BYTEA, INTEGER/BIGINT) can differ. */
const MIGRATIONS = [
    ['0001-initial', initialMigration],
    ['0002-rotation-operations', rotationOperationsMigration],
    ['0003-rotation-outcomes', rotationOutcomesMigration],
    ['0004-audit-mac', auditMacMigration],
    ['0005-change-counter', changeCounterMigration],
    ['0006-operator-keys', operatorKeysMigration],
    ['0007-lifecycle', lifecycleMigration],
];
/** Every migration name, in order. */
export const MIGRATION_NAMES = MIGRATIONS.map(([name]) => name);
export class CodeMigrationProvider {
    #dialect;
    constructor(dialect) {
        this.#dialect = dialect;
    }
    async getMigrations() {
        return Object.fromEntries(MIGRATIONS.map(([name, build]) => [name, build(this.#dialect)]));
    }
}
//# sourceMappingURL=index.js.map