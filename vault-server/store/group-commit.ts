/**
 * Group commit: concurrent requests that must write (a read's audit event, a nonce, a canary
 * check, any operator change) run one after another inside ONE transaction, which commits once;
 * then every request in it is answered. A durable commit (an fsync on SQLite, a WAL flush on
 * PostgreSQL) costs far more than the few statements a request runs, so this is what lets the
 * read path approach the cost of its signature check.
 *
 * Semantics, per job:
 * - each job runs inside its own SAVEPOINT: a job that throws (a refusal, a conflict) is rolled
 *   back to it and rejected with its own error, and never aborts the batch;
 * - a job's promise settles only after COMMIT: nothing it wrote is acted on before it is durable;
 * - if BEGIN, a savepoint, the batch's prologue/epilogue or COMMIT fails, every job of the batch
 *   is rejected with 503 SK_ERR_STORE (retryable) and none is answered as done;
 * - jobs run in arrival order, so anything ordered inside the store (the audit chain) follows it.
 *
 * Batching is natural, not timed: the first job schedules a flush with setImmediate, so every
 * request that arrived in the same turn of the event loop joins it; jobs that arrive while a
 * batch runs form the next one. One batch runs at a time per process (SQLite has one writer;
 * on PostgreSQL every batch appends to the audit chain, whose head row serialises them anyway).
 *
 * A job must not start another write through the same committer and wait for it: that would wait
 * for a batch that cannot begin before this one ends (a deadlock). Nothing detects it at run time
 * (AsyncLocalStorage would cost every promise of every request); write paths take their `trx`.
 *
 * @example
 *   const commits = new GroupCommitter(store);
 *   const claimed = await commits.run((trx) => trx.insertInto('nonces').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst());
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';
import type { Database } from './database.js';
import { transaction } from './locks.js';
import type { HotSql } from './sqlite-hot.js';

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
  /**
   * SQLite: the batch's connection itself, for a job's hot statements (store/sqlite-hot.ts); they
   * run in this batch's transaction like anything run through `trx`. Undefined on PostgreSQL.
   */
  readonly hot: HotSql | undefined;
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
  onBatch?: (info: { jobs: number; committed: boolean; seconds: number }) => void;
  /** Told when anything rolled back (a job to its savepoint, or the whole batch): caches filled inside may be wrong. */
  onRollback?: () => void;
}

interface Queued {
  job: BatchJob<unknown>;
  before: BatchJob<void> | undefined;
  /** `before` runs without a savepoint of its own (see {@link GroupCommitter.run}). */
  atomicBefore: boolean;
  /** 'commit': settle as soon as COMMIT returned (visible to every session, maybe not yet on disk). */
  until: 'commit' | 'durable';
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

interface DurableWaiter { seq: number; resolve: () => void; reject: (err: unknown) => void }

type Outcome = { ok: true; value: unknown; after: Array<() => void> } | { ok: false; err: unknown };

export class GroupCommitter {
  readonly #store: { db: Kysely<Database>; hot?: HotSql | undefined };
  readonly #opts: GroupCommitOptions;
  readonly #maxBatch: number;
  #queue: Queued[] = [];
  #scheduled = false;
  #running: Promise<void> | undefined;
  /** Batches are numbered; `#committed` and `#durable` are the last such numbers. */
  #seq = 0;
  #committed = 0;
  #durable = 0;
  /** Settles when the previous batch was settled: durability is declared in batch order. */
  #settled: Promise<void> = Promise.resolve();
  readonly #durableWaiters: DurableWaiter[] = [];

  constructor(store: { db: Kysely<Database>; hot?: HotSql | undefined }, opts: GroupCommitOptions = {}) {
    this.#store = store;
    this.#opts = opts;
    this.#maxBatch = opts.maxBatch ?? 256;
  }

  /**
   * Runs `job` in the next batch; resolves with its value once that batch is durable — or, with
   * `until: 'commit'`, once it has committed: then the caller must not let anything outside the
   * vault see an effect before {@link durableThrough}(committedSeq()) resolves (request nonces:
   * the answer waits for it in an onSend hook).
   *
   * `before` runs first, in a savepoint of its own that is released before the job's begins: what
   * it writes commits with the batch even if the job is then rolled back (a request's nonce claim
   * stays when its read is refused). If it throws, it is rolled back and the job does not run; the
   * promise rejects with its error. `atomicBefore`: `before` is one statement that writes nothing
   * when it refuses (a SikkerKeyError) — a nonce's `INSERT … ON CONFLICT DO NOTHING` — so it runs
   * without the savepoint (two statements fewer, two round trips on PostgreSQL); any other error
   * from it fails the whole batch (503), as a failed savepoint statement would.
   */
  run<T>(job: BatchJob<T>, opts: { until?: 'commit' | 'durable'; before?: BatchJob<void>; atomicBefore?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ job, before: opts.before, atomicBefore: opts.atomicBefore ?? false, until: opts.until ?? 'durable', resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** The number of the last batch that committed. */
  committedSeq(): number {
    return this.#committed;
  }

  /** Resolves once batch `seq` (and every one before it) is durable; rejects if it never will be. */
  durableThrough(seq: number): Promise<void> {
    if (seq <= this.#durable) return Promise.resolve();
    return new Promise((resolve, reject) => this.#durableWaiters.push({ seq, resolve, reject }));
  }

  /** Resolves when no batch is running, queued or waiting for its fsync (orderly shutdown, tests). */
  async idle(): Promise<void> {
    while (this.#running || this.#queue.length > 0 || this.#scheduled) {
      await (this.#running ?? new Promise((r) => setImmediate(r)));
    }
    await this.#settled;
  }

  #schedule(): void {
    if (this.#scheduled || this.#running) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#running = this.#flush().finally(() => {
        this.#running = undefined;
        if (this.#queue.length > 0) this.#schedule();
      });
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0, this.#maxBatch);
    if (batch.length === 0) return;
    const seq = ++this.#seq;
    const started = process.hrtime.bigint();
    const outcomes: Outcome[] = [];
    try {
      // One connection for the whole batch: the durability pragma cannot change inside a
      // transaction, and no other statement may commit on this connection while it is relaxed.
      await this.#store.db.connection().execute(async (conn) => {
        await this.#opts.durability?.relax(conn);
        try {
          const hot = this.#store.hot;
          if (hot) await inHotTransaction(hot, () => this.#runJobs(conn, batch, outcomes, hot));
          else await transaction({ db: conn }, (trx) => this.#runJobs(trx, batch, outcomes, undefined));
        } finally {
          await this.#opts.durability?.restore(conn).catch(() => undefined);
        }
      });
    } catch (cause) {
      this.#opts.onRollback?.();
      this.#opts.onBatch?.({ jobs: batch.length, committed: false, seconds: secondsSince(started) });
      this.#fail(batch, cause);
      this.#advance(seq, this.#settled.then(() => undefined));
      return;
    }
    this.#committed = seq;
    batch.forEach((queued, i) => {
      if (queued.until === 'commit') settle(queued, outcomes[i] as Outcome);
    });
    // The next batch may start now; this one's other requests are answered once its COMMIT is durable.
    const durable = this.#opts.durability ? this.#opts.durability.flush() : Promise.resolve();
    const previous = this.#settled;
    this.#advance(seq, (async () => {
      try {
        await durable;
      } catch (cause) {
        await previous;
        this.#opts.onBatch?.({ jobs: batch.length, committed: false, seconds: secondsSince(started) });
        this.#fail(batch.filter((q) => q.until === 'durable'), cause);
        throw cause;
      }
      await previous;
      this.#opts.onBatch?.({ jobs: batch.length, committed: true, seconds: secondsSince(started) });
      batch.forEach((queued, i) => {
        if (queued.until === 'durable') settle(queued, outcomes[i] as Outcome);
      });
    })());
  }

  async #runJobs(trx: Kysely<Database>, batch: Queued[], outcomes: Outcome[], hot: HotSql | undefined): Promise<void> {
    const beforeCommit: Array<() => Promise<void>> = [];
    let jobRollbacks: Array<() => void> = [];
    let jobAfter: Array<() => void> = [];
    const scope: BatchScope = {
      state: new Map(),
      beforeCommit: (fn) => beforeCommit.push(fn),
      onRollback: (fn) => jobRollbacks.push(fn),
      afterCommit: (fn) => jobAfter.push(fn),
      hot,
    };
    const savepoint = hot ? async (statement: string) => { hot.run(statement); } : async (statement: string) => { await sql.raw(statement).execute(trx); };
    // One step in its own savepoint: kept when it returns; when it throws, taken back together with
    // what it put in caches, and the batch goes on.
    const inSavepoint = async (step: () => Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; err: unknown }> => {
      await savepoint('savepoint sk_job');
      try {
        const value = await step();
        await savepoint('release savepoint sk_job');
        return { ok: true, value };
      } catch (err) {
        // If even this fails the transaction is unusable: the batch fails as a whole.
        await savepoint('rollback to savepoint sk_job');
        await savepoint('release savepoint sk_job');
        // Caches filled by later jobs must not keep what this job wrote and took back.
        this.#opts.onRollback?.();
        for (const undo of jobRollbacks.reverse()) undo();
        return { ok: false, err };
      }
    };
    // An atomic step (one statement, nothing written when it refuses): no savepoint around it.
    const bare = async (step: () => Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; err: unknown }> => {
      try {
        return { ok: true, value: await step() };
      } catch (err) {
        if (!isSikkerKeyError(err)) throw err;
        for (const undo of jobRollbacks.reverse()) undo();
        return { ok: false, err };
      }
    };
    if (this.#opts.prologue) await this.#opts.prologue(trx, scope);
    for (const queued of batch) {
      jobRollbacks = [];
      jobAfter = [];
      const before = queued.before;
      if (before) {
        const kept = queued.atomicBefore ? await bare(() => before(trx, scope)) : await inSavepoint(() => before(trx, scope));
        if (!kept.ok) {
          outcomes.push(kept);
          continue;
        }
        // What `before` did is kept whatever the job does.
        jobRollbacks = [];
      }
      const done = await inSavepoint(() => queued.job(trx, scope));
      outcomes.push(done.ok ? { ok: true, value: done.value, after: jobAfter } : done);
    }
    for (const fn of beforeCommit) await fn();
  }

  /** Batch `seq` is settled once `done` is: durable (resolved) or never to be (rejected). */
  #advance(seq: number, done: Promise<void>): void {
    this.#settled = done.then(
      () => {
        this.#durable = Math.max(this.#durable, seq);
        this.#wake((w) => w.seq <= this.#durable, (w) => w.resolve());
      },
      (cause: unknown) => {
        // Committed but not known to be on disk: whoever waits for it must not act on it.
        const failure = storeFailure(cause);
        this.#wake((w) => w.seq <= seq, (w) => w.reject(failure));
      },
    );
  }

  #wake(match: (w: DurableWaiter) => boolean, fn: (w: DurableWaiter) => void): void {
    for (let i = this.#durableWaiters.length - 1; i >= 0; i--) {
      const w = this.#durableWaiters[i] as DurableWaiter;
      if (!match(w)) continue;
      this.#durableWaiters.splice(i, 1);
      fn(w);
    }
  }

  #fail(batch: Queued[], cause: unknown): void {
    const failure = storeFailure(cause);
    for (const queued of batch) queued.reject(failure);
  }
}

/**
 * BEGIN IMMEDIATE … COMMIT on the SQLite connection itself (the batch holds it): what Kysely's
 * transaction() does for SQLite (sqlite-dialect.ts), without its promise hops. Anything that
 * throws — a job's prologue or epilogue, COMMIT itself — rolls the whole batch back.
 */
async function inHotTransaction(hot: HotSql, fn: () => Promise<void>): Promise<void> {
  hot.run('begin immediate');
  try {
    await fn();
    hot.run('commit');
  } catch (err) {
    // A COMMIT that failed may have ended the transaction already (SQLite rolls back on some errors).
    if (hot.inTransaction) hot.run('rollback');
    throw err;
  }
}

function storeFailure(cause: unknown): SikkerKeyError {
  return new SikkerKeyError('SK_ERR_STORE', 'the store could not commit this request durably; retry', { details: { retryAfter: 1 }, cause });
}

function settle(queued: Queued, outcome: Outcome): void {
  if (!outcome.ok) {
    queued.reject(outcome.err);
    return;
  }
  for (const fn of outcome.after) {
    try {
      fn();
    } catch {
      // A wake-up or metric failing after COMMIT must not turn a durable success into an error.
    }
  }
  queued.resolve(outcome.value);
}

function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
