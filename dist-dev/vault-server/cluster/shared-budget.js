/**
 * The per-address failure budget shared by the workers of one `serve --workers N`: each worker
 * counts its own failures at once (a worker alone never lets more through than the limit) and
 * reports every one to the primary, which keeps the authoritative FailureBudget over all workers
 * and, when an address is spent, tells every worker until when. A worker's budget is then the
 * stricter of its own count and what the primary announced.
 *
 * @example
 *   // primary
 *   const authority = new BudgetAuthority(Date.now);
 *   const spent = authority.failure(msg.key);      // → { sk: 'budget-spent', … } to every worker
 *   // worker
 *   const budget = new MirroredBudget(Date.now, (m) => process.send?.(m));
 *   process.on('message', (m) => budget.onMessage(m));
 */
import { DEFAULT_FAILURE_LIMIT, DEFAULT_FAILURE_WINDOW_MS, FailureBudget } from '../http/auth-guard.js';
export function isAuthFailureMessage(m) {
    return typeof m === 'object' && m !== null && m.sk === 'auth-failure' && typeof m.key === 'string';
}
function isBudgetSpentMessage(m) {
    return typeof m === 'object' && m !== null && m.sk === 'budget-spent'
        && typeof m.key === 'string' && typeof m.until === 'number';
}
/** Entries kept before the expired ones are dropped (as FailureBudget does). */
const PRUNE_ABOVE = 100_000;
/** The primary's budget over all workers' failures. */
export class BudgetAuthority {
    now;
    budget;
    /** When each spent key's last announcement runs out: one announcement per spent window. */
    announced = new Map();
    constructor(now) {
        this.now = now;
        this.budget = new FailureBudget({ limit: DEFAULT_FAILURE_LIMIT, windowMs: DEFAULT_FAILURE_WINDOW_MS, now });
    }
    /** Counts one failure; returns the announcement to broadcast when this made (or keeps) the key spent. */
    failure(key) {
        this.budget.fail(key);
        const wait = this.budget.retryAfter(key);
        if (wait <= 0)
            return undefined;
        const now = this.now();
        if ((this.announced.get(key) ?? 0) > now)
            return undefined;
        if (this.announced.size > PRUNE_ABOVE)
            for (const [k, until] of this.announced)
                if (until <= now)
                    this.announced.delete(k);
        const until = now + wait * 1000;
        this.announced.set(key, until);
        return { sk: 'budget-spent', key, until };
    }
}
/** A worker's budget: its own count, and the spent keys the primary announced. */
export class MirroredBudget {
    now;
    report;
    local;
    spent = new Map();
    constructor(now, report) {
        this.now = now;
        this.report = report;
        this.local = new FailureBudget({ limit: DEFAULT_FAILURE_LIMIT, windowMs: DEFAULT_FAILURE_WINDOW_MS, now });
    }
    fail(key) {
        this.local.fail(key);
        this.report({ sk: 'auth-failure', key });
    }
    retryAfter(key) {
        const own = this.local.retryAfter(key);
        const until = this.spent.get(key);
        if (until === undefined)
            return own;
        const left = until - this.now();
        if (left <= 0) {
            this.spent.delete(key);
            return own;
        }
        return Math.max(own, Math.ceil(left / 1000));
    }
    /** Takes a primary's announcement; returns false for any other message. */
    onMessage(m) {
        if (!isBudgetSpentMessage(m))
            return false;
        const now = this.now();
        if (this.spent.size > PRUNE_ABOVE)
            for (const [k, until] of this.spent)
                if (until <= now)
                    this.spent.delete(k);
        this.spent.set(m.key, Math.max(m.until, this.spent.get(m.key) ?? 0));
        return true;
    }
}
//# sourceMappingURL=shared-budget.js.map