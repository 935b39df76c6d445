import { Kysely } from 'kysely';
import type { Database } from './database.js';
import type { BatchDurability } from './group-commit.js';
import type { CheckpointerOptions } from './sqlite-checkpointer.js';
export type Dialect = 'sqlite' | 'postgres';
export type StoreLocation = {
    dataDir: string;
} | {
    databaseUrl: string;
};
export interface OpenStoreOptions {
    /** Apply pending migrations (default true). `false` opens the store as it is. */
    migrate?: boolean;
    /** PostgreSQL pool size (default 10). */
    poolSize?: number;
}
export interface Store {
    db: Kysely<Database>;
    dialect: Dialect;
    /** Closes the pool / file; calling it again does nothing. */
    close(): Promise<void>;
    /** One round trip (`select 1`); SK_ERR_STORE when the store does not answer. */
    ping(): Promise<void>;
    /**
     * SQLite only: group commits relax `synchronous` for their COMMIT and then fsync the WAL on the
     * thread pool, so the event loop never waits for the disk (store/group-commit.ts). Absent for
     * PostgreSQL, whose COMMIT is durable when it returns.
     */
    durability?: BatchDurability;
    /**
     * SQLite only: checkpoint the WAL from a worker thread instead of inside COMMITs (a running
     * vault does; see sqlite-checkpointer.ts). Returns the function that stops it.
     */
    startBackgroundCheckpoints?(opts?: CheckpointerOptions): () => Promise<void>;
}
export declare const SQLITE_FILE_NAME = "vault.db";
/** The SQLite store's files: the database, its write-ahead log and its shared-memory index. */
export declare function sqliteFiles(dataDir: string): string[];
export declare const SQLITE_BUSY_TIMEOUT_MS = 5000;
export declare function openStore(loc: StoreLocation, opts?: OpenStoreOptions): Promise<Store>;
/** Which migrations have run: `current` when none is pending. */
export declare function migrationStatus(store: Pick<Store, 'db' | 'dialect'>): Promise<{
    current: boolean;
    pending: string[];
}>;
/**
 * The URL as it may be shown (password replaced by ***), and a function that removes the password
 * from any text — a driver message could quote it.
 */
export declare function describeUrl(databaseUrl: string): {
    shown: string;
    scrub: (text: string) => string;
};
