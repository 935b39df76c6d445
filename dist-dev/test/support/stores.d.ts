import type { Dialect, OpenStoreOptions, Store, StoreLocation } from '../../vault-server/store/open-store.js';
import { pgUrl } from './services.js';
export declare const DIALECTS: readonly Dialect[];
/** The PostgreSQL server tests use (PG_URL; an error when unset). */
export { pgUrl };
export interface StoreTestContext {
    dialect: Dialect;
    /** Opens the block's store (migrated unless `migrate: false`); closed after the block. */
    open(opts?: OpenStoreOptions): Promise<Store>;
    /** Opens a store at any location; closed after the block. */
    openAt(loc: StoreLocation, opts?: OpenStoreOptions): Promise<Store>;
    /** The block's location; known once the block's `before` hook has run (inside tests). */
    location(): StoreLocation;
    /** Another empty location of this dialect, removed after the block. */
    freshLocation(): Promise<StoreLocation>;
}
export declare function forEachStore(title: string, fn: (ctx: StoreTestContext) => void): void;
/** A new temporary data directory (it does not exist yet: openStore creates it, mode 0700). */
export declare function tempDataDir(): Promise<{
    location: {
        dataDir: string;
    };
    remove: () => Promise<void>;
}>;
/** A new empty database on the PG_URL server, and how to drop it. */
export declare function tempPgDatabase(): Promise<{
    location: {
        databaseUrl: string;
    };
    remove: () => Promise<void>;
}>;
/** Inserts a project and one secret in it (minimal valid rows), for tests that need a secret id. */
export declare function seedSecret(store: Store, opts?: {
    projectName?: string;
    secretName?: string;
}): Promise<{
    projectId: string;
    secretId: string;
}>;
