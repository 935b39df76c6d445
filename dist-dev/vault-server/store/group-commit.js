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
import { SikkerKeyError } from '../../protocol/errors.js';
import { transaction } from './locks.js';
export class GroupCommitter {
    #store;
    #opts;
    #maxBatch;
    #queue = [];
    #scheduled = false;
    #running;
    /** Batches are numbered; `#committed` and `#durable` are the last such numbers. */
    #seq = 0;
    #committed = 0;
    #durable = 0;
    /** Settles when the previous batch was settled: durability is declared in batch order. */
    #settled = Promise.resolve();
    #durableWaiters = [];
    constructor(store, opts = {}) {
        this.#store = store;
        this.#opts = opts;
        this.#maxBatch = opts.maxBatch ?? 256;
    }
    /**
     * Runs `job` in the next batch; resolves with its value once that batch is durable — or, with
     * `until: 'commit'`, once it has committed: then the caller must not let anything outside the
     * vault see an effect before {@link durableThrough}(committedSeq()) resolves (request nonces:
     * the answer waits for it in an onSend hook).
     */
    run(job, opts = {}) {
        return new Promise((resolve, reject) => {
            this.#queue.push({ job, until: opts.until ?? 'durable', resolve: resolve, reject });
            this.#schedule();
        });
    }
    /** The number of the last batch that committed. */
    committedSeq() {
        return this.#committed;
    }
    /** Resolves once batch `seq` (and every one before it) is durable; rejects if it never will be. */
    durableThrough(seq) {
        if (seq <= this.#durable)
            return Promise.resolve();
        return new Promise((resolve, reject) => this.#durableWaiters.push({ seq, resolve, reject }));
    }
    /** Resolves when no batch is running, queued or waiting for its fsync (orderly shutdown, tests). */
    async idle() {
        while (this.#running || this.#queue.length > 0 || this.#scheduled) {
            await (this.#running ?? new Promise((r) => setImmediate(r)));
        }
        await this.#settled;
    }
    #schedule() {
        if (this.#scheduled || this.#running)
            return;
        this.#scheduled = true;
        setImmediate(() => {
            this.#scheduled = false;
            this.#running = this.#flush().finally(() => {
                this.#running = undefined;
                if (this.#queue.length > 0)
                    this.#schedule();
            });
        });
    }
    async #flush() {
        const batch = this.#queue.splice(0, this.#maxBatch);
        if (batch.length === 0)
            return;
        const seq = ++this.#seq;
        const started = process.hrtime.bigint();
        const outcomes = [];
        try {
            // One connection for the whole batch: the durability pragma cannot change inside a
            // transaction, and no other statement may commit on this connection while it is relaxed.
            await this.#store.db.connection().execute(async (conn) => {
                await this.#opts.durability?.relax(conn);
                try {
                    await transaction({ db: conn }, (trx) => this.#runJobs(trx, batch, outcomes));
                }
                finally {
                    await this.#opts.durability?.restore(conn).catch(() => undefined);
                }
            });
        }
        catch (cause) {
            this.#opts.onRollback?.();
            this.#opts.onBatch?.({ jobs: batch.length, committed: false, seconds: secondsSince(started) });
            this.#fail(batch, cause);
            this.#advance(seq, this.#settled.then(() => undefined));
            return;
        }
        this.#committed = seq;
        batch.forEach((queued, i) => {
            if (queued.until === 'commit')
                settle(queued, outcomes[i]);
        });
        // The next batch may start now; this one's other requests are answered once its COMMIT is durable.
        const durable = this.#opts.durability ? this.#opts.durability.flush() : Promise.resolve();
        const previous = this.#settled;
        this.#advance(seq, (async () => {
            try {
                await durable;
            }
            catch (cause) {
                await previous;
                this.#opts.onBatch?.({ jobs: batch.length, committed: false, seconds: secondsSince(started) });
                this.#fail(batch.filter((q) => q.until === 'durable'), cause);
                throw cause;
            }
            await previous;
            this.#opts.onBatch?.({ jobs: batch.length, committed: true, seconds: secondsSince(started) });
            batch.forEach((queued, i) => {
                if (queued.until === 'durable')
                    settle(queued, outcomes[i]);
            });
        })());
    }
    async #runJobs(trx, batch, outcomes) {
        const beforeCommit = [];
        let jobRollbacks = [];
        let jobAfter = [];
        const scope = {
            state: new Map(),
            beforeCommit: (fn) => beforeCommit.push(fn),
            onRollback: (fn) => jobRollbacks.push(fn),
            afterCommit: (fn) => jobAfter.push(fn),
        };
        if (this.#opts.prologue)
            await this.#opts.prologue(trx, scope);
        for (const queued of batch) {
            jobRollbacks = [];
            jobAfter = [];
            await sql `savepoint sk_job`.execute(trx);
            try {
                const value = await queued.job(trx, scope);
                await sql `release savepoint sk_job`.execute(trx);
                outcomes.push({ ok: true, value, after: jobAfter });
            }
            catch (err) {
                // If even this fails the transaction is unusable: the batch fails as a whole.
                await sql `rollback to savepoint sk_job`.execute(trx);
                await sql `release savepoint sk_job`.execute(trx);
                // Caches filled by later jobs must not keep what this job wrote and took back.
                this.#opts.onRollback?.();
                for (const undo of jobRollbacks.reverse())
                    undo();
                outcomes.push({ ok: false, err });
            }
        }
        for (const fn of beforeCommit)
            await fn();
    }
    /** Batch `seq` is settled once `done` is: durable (resolved) or never to be (rejected). */
    #advance(seq, done) {
        this.#settled = done.then(() => {
            this.#durable = Math.max(this.#durable, seq);
            this.#wake((w) => w.seq <= this.#durable, (w) => w.resolve());
        }, (cause) => {
            // Committed but not known to be on disk: whoever waits for it must not act on it.
            const failure = storeFailure(cause);
            this.#wake((w) => w.seq <= seq, (w) => w.reject(failure));
        });
    }
    #wake(match, fn) {
        for (let i = this.#durableWaiters.length - 1; i >= 0; i--) {
            const w = this.#durableWaiters[i];
            if (!match(w))
                continue;
            this.#durableWaiters.splice(i, 1);
            fn(w);
        }
    }
    #fail(batch, cause) {
        const failure = storeFailure(cause);
        for (const queued of batch)
            queued.reject(failure);
    }
}
function storeFailure(cause) {
    return new SikkerKeyError('SK_ERR_STORE', 'the store could not commit this request durably; retry', { details: { retryAfter: 1 }, cause });
}
function settle(queued, outcome) {
    if (!outcome.ok) {
        queued.reject(outcome.err);
        return;
    }
    for (const fn of outcome.after) {
        try {
            fn();
        }
        catch {
            // A wake-up or metric failing after COMMIT must not turn a durable success into an error.
        }
    }
    queued.resolve(outcome.value);
}
function secondsSince(started) {
    return Number(process.hrtime.bigint() - started) / 1e9;
}
//# sourceMappingURL=group-commit.js.map