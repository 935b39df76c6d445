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
/** Every migration name, in order. */
export declare const MIGRATION_NAMES: readonly string[];
export declare class CodeMigrationProvider implements MigrationProvider {
    #private;
    constructor(dialect: Dialect);
    getMigrations(): Promise<Record<string, Migration>>;
}
