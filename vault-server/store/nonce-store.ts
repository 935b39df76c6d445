/**
 * Request nonces, claimed once per key in the shared store so a captured request is refused by
 * every replica (DESIGN §2). A claim is one `INSERT … ON CONFLICT DO NOTHING` on the primary key
 * (key_id, nonce_hash): the row count says whether this caller was first, with no read-then-write
 * race on either dialect. A row is kept until `expires_at`, and never reused before it is swept.
 *
 * Expired rows are swept opportunistically: a claim starts a sweep when the last one is more than
 * `sweepEveryMs` old, without waiting for it (a slow DELETE must not slow a request down).
 *
 * @example
 *   const nonces = new StoreNonceStore(store);
 *   if (!(await nonces.claim(keyId, sha256hex(nonce), expires + 90))) throw replayed();
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import type { Store } from './open-store.js';
import type { BatchScope, GroupCommitter } from './group-commit.js';

/**
 * What the request verifier needs (the same shape as protocol/signing.ts declares).
 * `expiresAtUnix` is in seconds: after it the nonce may be forgotten.
 */
export interface NonceStore {
  claim(keyId: string, nonceHash: string, expiresAtUnix: number): Promise<boolean>;
}

/** The claim as one prepared statement on SQLite's own connection (store/sqlite-hot.ts). */
const INSERT_NONCE = 'insert into nonces (key_id, nonce_hash, expires_at) values (?, ?, ?) on conflict (key_id, nonce_hash) do nothing';

/**
 * A verified request's nonce whose claim rides in the request's own write job (one job and one
 * batch per read instead of two): `GroupCommitter.run(job, { before })` claims it first, outside
 * the job's savepoint, so it commits with the batch even when the job is refused. `taken` is set
 * once a claim was attempted; whatever answers the request without one claims it then
 * (http/authenticate.ts, `settleDeferredNonce`), so no answer ever leaves with its nonce unclaimed.
 */
export interface DeferredNonce {
  keyId: string;
  nonceHash: string;
  expiresAtUnix: number;
  taken: boolean;
  /** Told when the claim found the nonce used (metrics: a replay). */
  onReplay?: () => void;
}

/** Claims `nonce` inside the batch `trx` belongs to; true when this call stored it first. A conflict is a row count of 0, never an error. */
export async function claimNonceInBatch(trx: Kysely<Database>, scope: BatchScope, nonce: DeferredNonce): Promise<boolean> {
  nonce.taken = true;
  const expiresAt = Math.ceil(nonce.expiresAtUnix * 1000);
  if (scope.hot) return scope.hot.run(INSERT_NONCE, [nonce.keyId, nonce.nonceHash, expiresAt]) === 1;
  const res = await sql`insert into nonces (key_id, nonce_hash, expires_at) values (${nonce.keyId}, ${nonce.nonceHash}, ${expiresAt}) on conflict (key_id, nonce_hash) do nothing`.execute(trx);
  return Number(res.numAffectedRows ?? 0n) === 1;
}

export interface StoreNonceStoreOptions {
  /**
   * The vault's group committer: each claim is one job of the next batch, durable (FULL) with
   * the batch's one COMMIT. Without it a claim is its own statement (tools and tests).
   */
  commits?: GroupCommitter;
  /** Least time between two opportunistic sweeps (default 60 s; `Infinity`: never, call `sweep` yourself). */
  sweepEveryMs?: number;
  now?: () => number;
}

export class StoreNonceStore implements NonceStore {
  readonly #db: Store['db'];
  readonly #sweepEveryMs: number;
  readonly #now: () => number;
  #lastSweepAt = Number.NEGATIVE_INFINITY;
  #sweeping: Promise<unknown> | undefined;

  readonly #dialect: string | undefined;
  readonly #commits: GroupCommitter | undefined;

  constructor(store: Pick<Store, 'db'> & Partial<Pick<Store, 'dialect'>>, opts: StoreNonceStoreOptions = {}) {
    this.#db = store.db;
    this.#dialect = store.dialect;
    this.#sweepEveryMs = opts.sweepEveryMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
    this.#commits = opts.commits;
  }

  /** True when this call stored the nonce first; false when it was already there (a replay). */
  async claim(keyId: string, nonceHash: string, expiresAtUnix: number): Promise<boolean> {
    // A fixed statement (no query building: this runs for every signed request).
    const insert = async (db: Kysely<Database>) => {
      const res = await sql`insert into nonces (key_id, nonce_hash, expires_at) values (${keyId}, ${nonceHash}, ${Math.ceil(expiresAtUnix * 1000)}) on conflict (key_id, nonce_hash) do nothing`.execute(db);
      return { numInsertedOrUpdatedRows: res.numAffectedRows };
    };
    let result: Awaited<ReturnType<typeof insert>>;
    if (this.#commits) {
      // A conflict is a row count of 0, never an error: it cannot abort the batch. Settled at
      // COMMIT — every worker and replica now refuses the nonce — while the fsync goes on: the
      // vault answers no request before its nonce is durable (app.ts, onSend).
      result = await this.#commits.run(async (trx, scope) => (scope.hot
        ? { numInsertedOrUpdatedRows: BigInt(scope.hot.run(INSERT_NONCE, [keyId, nonceHash, Math.ceil(expiresAtUnix * 1000)])) }
        : insert(trx)), { until: 'commit' });
    } else if (this.#dialect === 'sqlite') {
      // A used nonce needs no power-loss durability: losing the last few to a power cut reopens a
      // replay window of at most 90 s for those requests, while a full fsync here cost a third of
      // every signed request. A process crash (kill -9) loses nothing either way in WAL mode.
      // The pragmas and the insert run on the one connection held for the block, so no other
      // statement — no state change that matters — ever commits at NORMAL.
      result = await this.#db.connection().execute(async (conn) => {
        await sql`pragma synchronous = NORMAL`.execute(conn);
        try {
          return await insert(conn);
        } finally {
          await sql`pragma synchronous = FULL`.execute(conn);
        }
      });
    } else {
      result = await insert(this.#db);
    }
    this.#maybeSweep();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** Starts an opportunistic sweep if one is due (claims made through {@link claimNonceInBatch} do not start one themselves). */
  sweepIfDue(): void {
    this.#maybeSweep();
  }

  /** Deletes every nonce that expired before `nowMs`; returns how many. */
  async sweep(nowMs: number = this.#now()): Promise<number> {
    const result = await this.#db.deleteFrom('nonces').where('expires_at', '<', nowMs).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Resolves when no opportunistic sweep is running (for orderly shutdown and tests). */
  async idle(): Promise<void> {
    await this.#sweeping;
  }

  #maybeSweep(): void {
    if (this.#sweepEveryMs === Number.POSITIVE_INFINITY) return;
    const now = this.#now();
    if (this.#sweeping !== undefined || now - this.#lastSweepAt < this.#sweepEveryMs) return;
    this.#lastSweepAt = now;
    // A failed sweep loses nothing: the rows stay until the next one.
    this.#sweeping = this.sweep(now)
      .catch(() => undefined)
      .finally(() => {
        this.#sweeping = undefined;
      });
  }
}

/** `new StoreNonceStore(store, opts)`, for composition roots that prefer a factory. */
export function createNonceStore(store: Pick<Store, 'db'> & Partial<Pick<Store, 'dialect'>>, opts: StoreNonceStoreOptions = {}): StoreNonceStore {
  return new StoreNonceStore(store, opts);
}
