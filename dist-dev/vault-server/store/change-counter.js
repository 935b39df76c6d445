/**
 * Memory caches that are never stale: every lookup first reads the store's change counter (one
 * row that triggers move on every change to a cached table — migration 0005) and, when it moved,
 * empties every cache of this process. Read inside the request's own transaction, so what the
 * request then takes from a cache is what that transaction would have read from the store.
 *
 * A value loaded from the store goes into a cache only under the epoch it was loaded in: if the
 * caches were emptied while the load was awaited (another request saw the counter move, or a
 * rollback invalidated them), the value is used once and not kept.
 *
 * @example
 *   const view = await ctx.caches.view(trx);
 *   const project = await view.get(projects, name, () => trx.selectFrom('projects')…executeTakeFirst());
 */
import { sql } from 'kysely';
/** A bounded map the caches own; emptied with all the others when the counter moves. */
export class CacheMap {
    #map = new Map();
    #max;
    constructor(max) {
        this.#max = max;
    }
    get(key) {
        return this.#map.get(key);
    }
    has(key) {
        return this.#map.has(key);
    }
    /** @internal through CacheView.get only, which checks the epoch. */
    put(key, value) {
        if (this.#map.size >= this.#max)
            this.#map.clear();
        this.#map.set(key, value);
    }
    clear() {
        this.#map.clear();
    }
    get size() {
        return this.#map.size;
    }
}
/** Reads the counter (any dialect; a fixed statement, so no query building on the hot path). */
export const readChangeCounter = async (db) => {
    const { rows } = await COUNTER_QUERY.execute(db);
    return Number(rows[0]?.n ?? 0);
};
const COUNTER_QUERY = sql `select n from change_counter where id = 1`;
export class StoreCaches {
    #read;
    #maps = [];
    #counter;
    #epoch = 0;
    /** How many times the caches were emptied (a metric, and what tests look at). */
    invalidations = 0;
    #onClear;
    constructor(opts = {}) {
        this.#read = opts.read ?? readChangeCounter;
        this.#onClear = opts.onClear;
    }
    /** A new cache of at most `max` entries (a flood of unknown keys empties it, it never grows without bound). */
    map(max = 100_000) {
        const m = new CacheMap(max);
        this.#maps.push(m);
        return m;
    }
    /** Reads the counter with `db` (a transaction, or the store) and empties the caches if it moved. */
    async view(db) {
        const counter = await this.#read(db);
        if (counter !== this.#counter) {
            if (this.#counter !== undefined)
                this.#clear();
            this.#counter = counter;
        }
        const epoch = this.#epoch;
        return {
            get: async (map, key, load) => {
                if (epoch === this.#epoch && map.has(key))
                    return map.get(key);
                const value = await load();
                if (epoch === this.#epoch)
                    map.put(key, value);
                return value;
            },
        };
    }
    /**
     * Forgets everything: something this process wrote was rolled back, so the counter may come back
     * to a value the caches already saw while holding rows that never committed.
     */
    invalidate() {
        this.#counter = undefined;
        this.#clear();
    }
    #clear() {
        this.#epoch += 1;
        this.invalidations += 1;
        for (const m of this.#maps)
            m.clear();
        this.#onClear?.();
    }
}
//# sourceMappingURL=change-counter.js.map