import type { Kysely } from 'kysely';
import type { Database } from './database.js';
/** A bounded map the caches own; emptied with all the others when the counter moves. */
export declare class CacheMap<K, V> {
    #private;
    constructor(max: number);
    get(key: K): V | undefined;
    has(key: K): boolean;
    /** @internal through CacheView.get only, which checks the epoch. */
    put(key: K, value: V): void;
    clear(): void;
    get size(): number;
}
/** The caches as one request sees them, after reading the counter. */
export interface CacheView {
    /** The cached value for `key`, or `load()`'s (kept when the caches were not emptied meanwhile). */
    get<K, V>(map: CacheMap<K, V>, key: K, load: () => Promise<V>): Promise<V>;
}
export type ReadCounter = (db: Kysely<Database>) => Promise<number>;
/** Reads the counter (any dialect; a fixed statement, so no query building on the hot path). */
export declare const readChangeCounter: ReadCounter;
export declare class StoreCaches {
    #private;
    /** How many times the caches were emptied (a metric, and what tests look at). */
    invalidations: number;
    constructor(opts?: {
        read?: ReadCounter;
        onClear?: () => void;
    });
    /** A new cache of at most `max` entries (a flood of unknown keys empties it, it never grows without bound). */
    map<K, V>(max?: number): CacheMap<K, V>;
    /** Reads the counter with `db` (a transaction, or the store) and empties the caches if it moved. */
    view(db: Kysely<Database>): Promise<CacheView>;
    /**
     * Forgets everything: something this process wrote was rolled back, so the counter may come back
     * to a value the caches already saw while holding rows that never committed.
     */
    invalidate(): void;
}
