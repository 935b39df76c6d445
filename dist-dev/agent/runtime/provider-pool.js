import { createHash } from 'node:crypto';
/**
 * Initialized providers kept between jobs for the same engine, admin credential and database
 * endpoint, so a rotation does not pay for a fresh admin login (a SCRAM exchange on PostgreSQL)
 * each time. A provider is lent to one job at a time, kept at most `idleMs` after its last job,
 * and only when that job ended cleanly; anything else closes it.
 */
export class ProviderPool {
    idleMs;
    idle = new Map();
    constructor(idleMs = 30_000) {
        this.idleMs = idleMs;
    }
    static keyOf(job) {
        const { username: _u, password: _p, ...endpoint } = job.target;
        const sorted = (o) => Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
        return createHash('sha256').update(JSON.stringify([job.engine, sorted(job.admin), sorted(endpoint)])).digest('hex');
    }
    /** An initialized provider for this job's admin and endpoint, if one is idle (then it is the caller's). */
    take(key) {
        const entry = this.idle.get(key);
        if (!entry)
            return undefined;
        clearTimeout(entry.timer);
        this.idle.delete(key);
        return entry.ready;
    }
    /** Gives a provider back after a clean job; otherwise (or when one is already kept, or it never initialized) closes it. */
    give(key, provider, init, clean) {
        // Closing a connection being discarded: a failure means it is already gone, nothing to report.
        if (!clean || init === undefined || this.idle.has(key)) {
            void provider.close().catch(() => undefined);
            return;
        }
        const timer = setTimeout(() => {
            this.idle.delete(key);
            void provider.close().catch(() => undefined);
        }, this.idleMs);
        timer.unref();
        this.idle.set(key, { ready: { provider, init }, timer });
    }
    async closeAll() {
        const entries = [...this.idle.values()];
        this.idle.clear();
        for (const e of entries) {
            clearTimeout(e.timer);
            await e.ready.provider.close().catch(() => undefined);
        }
    }
}
//# sourceMappingURL=provider-pool.js.map