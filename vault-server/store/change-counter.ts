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
import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import type { HotSql } from './sqlite-hot.js';

/** A bounded map the caches own; emptied with all the others when the counter moves. */
export class CacheMap<K, V> {
  readonly #map = new Map<K, V>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** @internal through CacheView.get only, which checks the epoch. */
  put(key: K, value: V): void {
    if (this.#map.size >= this.#max) this.#map.clear();
    this.#map.set(key, value);
  }

  clear(): void {
    this.#map.clear();
  }

  get size(): number {
    return this.#map.size;
  }
}

/** The caches as one request sees them, after reading the counter. */
export interface CacheView {
  /** The cached value for `key`, or `load()`'s (kept when the caches were not emptied meanwhile). */
  get<K, V>(map: CacheMap<K, V>, key: K, load: () => Promise<V>): Promise<V>;
}

export type ReadCounter = (db: Kysely<Database>) => Promise<number>;

/** Reads the counter (any dialect; a fixed statement, so no query building on the hot path). */
export const readChangeCounter: ReadCounter = async (db) => {
  const { rows } = await COUNTER_QUERY.execute(db);
  return Number(rows[0]?.n ?? 0);
};

const COUNTER_QUERY = sql<{ n: number | string }>`select n from change_counter where id = 1`;

/**
 * The counter read on SQLite's own connection (store/sqlite-hot.ts) when that is the same read:
 * inside a batch or transaction (`db` is its handle, which holds the connection), or outside one
 * while no transaction is open (committed state). Otherwise — `store.db` while a batch holds the
 * connection — through Kysely, which waits for the batch to end, as before.
 */
export function hotChangeCounter(store: { db: Kysely<Database>; hot?: HotSql | undefined }): ReadCounter {
  const hot = store.hot;
  if (!hot) return readChangeCounter;
  return async (db) => {
    if (db === store.db && hot.inTransaction) return readChangeCounter(db);
    return Number(hot.get<{ n: number }>(COUNTER_SQL)?.n ?? 0);
  };
}

const COUNTER_SQL = 'select n from change_counter where id = 1';

export class StoreCaches {
  readonly #read: ReadCounter;
  readonly #maps: Array<CacheMap<unknown, unknown>> = [];
  readonly #groups = new Map<object, unknown>();
  #counter: number | undefined;
  #epoch = 0;
  /** How many times the caches were emptied (a metric, and what tests look at). */
  invalidations = 0;

  readonly #onClear: (() => void) | undefined;

  constructor(opts: { read?: ReadCounter; onClear?: () => void } = {}) {
    this.#read = opts.read ?? readChangeCounter;
    this.#onClear = opts.onClear;
  }

  /**
   * A module's own set of maps, made by `build` the first time `owner` (a constant of that module)
   * asks these caches for it.
   */
  group<M>(owner: object, build: (caches: StoreCaches) => M): M {
    let m = this.#groups.get(owner) as M | undefined;
    if (m === undefined) {
      m = build(this);
      this.#groups.set(owner, m);
    }
    return m;
  }

  /** A new cache of at most `max` entries (a flood of unknown keys empties it, it never grows without bound). */
  map<K, V>(max = 100_000): CacheMap<K, V> {
    const m = new CacheMap<K, V>(max);
    this.#maps.push(m as CacheMap<unknown, unknown>);
    return m;
  }

  /** Reads the counter with `db` (a transaction, or the store) and empties the caches if it moved. */
  async view(db: Kysely<Database>): Promise<CacheView> {
    const counter = await this.#read(db);
    if (counter !== this.#counter) {
      if (this.#counter !== undefined) this.#clear();
      this.#counter = counter;
    }
    const epoch = this.#epoch;
    return {
      get: async <K, V>(map: CacheMap<K, V>, key: K, load: () => Promise<V>): Promise<V> => {
        if (epoch === this.#epoch && map.has(key)) return map.get(key) as V;
        const value = await load();
        if (epoch === this.#epoch) map.put(key, value);
        return value;
      },
    };
  }

  /**
   * Forgets everything: something this process wrote was rolled back, so the counter may come back
   * to a value the caches already saw while holding rows that never committed.
   */
  invalidate(): void {
    this.#counter = undefined;
    this.#clear();
  }

  #clear(): void {
    this.#epoch += 1;
    this.invalidations += 1;
    for (const m of this.#maps) m.clear();
    this.#onClear?.();
  }
}
