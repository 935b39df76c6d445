import type { Kysely } from 'kysely';
import type { Database } from './database.js';
/** What a job (and a batch prologue) can attach to the batch it runs in. */
export interface BatchScope {
    /** State shared by every job of this batch, keyed by its owner. */
    readonly state: Map<object, unknown>;
    /** Runs once after the last job, before COMMIT, inside the transaction (its failure fails the batch). */
    beforeCommit(fn: () => Promise<void>): void;
    /** Runs if the current job is rolled back to its savepoint (undo in-memory state it changed). */
    onRollback(fn: () => void): void;
    /** Runs after COMMIT when the current job succeeded (wake-ups, metrics). */
    afterCommit(fn: () => void): void;
}
export type BatchJob<T> = (trx: Kysely<Database>, scope: BatchScope) => Promise<T>;
/**
 * How a store makes a committed batch durable without blocking the event loop. SQLite: the batch
 * commits at `synchronous = NORMAL` (its WAL frames written, not yet fsynced), then `flush`
 * fsyncs the WAL on libuv's thread pool while the next batch already runs; the batch's requests
 * are answered only when that fsync is done. A store without it commits durably in COMMIT itself
 * (PostgreSQL: COMMIT returns once the WAL is flushed on the server).
 */
export interface BatchDurability {
    /** Runs on the batch's connection just before BEGIN. */
    relax(db: Kysely<Database>): Promise<void>;
    /** Runs on it after the batch's COMMIT or ROLLBACK. */
    restore(db: Kysely<Database>): Promise<void>;
    /** Makes everything committed so far durable. */
    flush(): Promise<void>;
}
export interface GroupCommitOptions {
    /** The store's deferred-durability hooks (Store.durability); without them COMMIT is durable. */
    durability?: BatchDurability;
    /** Most jobs in one transaction (default 256). */
    maxBatch?: number;
    /** Runs first in every batch, outside any job's savepoint: locks taken here are held to COMMIT. */
    prologue?: (trx: Kysely<Database>, scope: BatchScope) => Promise<void>;
    /** Told of every batch: how many jobs, whether it committed, how long it took. */
    onBatch?: (info: {
        jobs: number;
        committed: boolean;
        seconds: number;
    }) => void;
    /** Told when anything rolled back (a job to its savepoint, or the whole batch): caches filled inside may be wrong. */
    onRollback?: () => void;
}
export declare class GroupCommitter {
    #private;
    constructor(store: {
        db: Kysely<Database>;
    }, opts?: GroupCommitOptions);
    /**
     * Runs `job` in the next batch; resolves with its value once that batch is durable — or, with
     * `until: 'commit'`, once it has committed: then the caller must not let anything outside the
     * vault see an effect before {@link durableThrough}(committedSeq()) resolves (request nonces:
     * the answer waits for it in an onSend hook).
     */
    run<T>(job: BatchJob<T>, opts?: {
        until?: 'commit' | 'durable';
    }): Promise<T>;
    /** The number of the last batch that committed. */
    committedSeq(): number;
    /** Resolves once batch `seq` (and every one before it) is durable; rejects if it never will be. */
    durableThrough(seq: number): Promise<void>;
    /** Resolves when no batch is running, queued or waiting for its fsync (orderly shutdown, tests). */
    idle(): Promise<void>;
}
