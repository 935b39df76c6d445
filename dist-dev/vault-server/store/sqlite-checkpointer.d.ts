import type SqliteDatabase from 'better-sqlite3';
export interface CheckpointerOptions {
    everyMs?: number;
    onError?: (message: string) => void;
}
export declare function startBackgroundCheckpoints(native: SqliteDatabase.Database, file: string, opts?: CheckpointerOptions): () => Promise<void>;
