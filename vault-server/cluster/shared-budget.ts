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
import { BoundedExpiringMap, DEFAULT_FAILURE_LIMIT, DEFAULT_FAILURE_WINDOW_MS, FailureBudget, MAX_BUDGET_KEYS } from '../http/auth-guard.js';
import type { BudgetLike } from '../http/auth-guard.js';

/** Worker → primary: one failed authentication from this budget key. */
export interface AuthFailureMessage { sk: 'auth-failure'; key: string }
/** Primary → workers: this key is spent until `until` (epoch ms). */
export interface BudgetSpentMessage { sk: 'budget-spent'; key: string; until: number }

export function isAuthFailureMessage(m: unknown): m is AuthFailureMessage {
  return typeof m === 'object' && m !== null && (m as { sk?: unknown }).sk === 'auth-failure' && typeof (m as { key?: unknown }).key === 'string';
}

function isBudgetSpentMessage(m: unknown): m is BudgetSpentMessage {
  return typeof m === 'object' && m !== null && (m as { sk?: unknown }).sk === 'budget-spent'
    && typeof (m as { key?: unknown }).key === 'string' && typeof (m as { until?: unknown }).until === 'number';
}

/** Keys with a deadline (epoch ms), bounded as FailureBudget's windows are. */
const deadlines = (now: () => number, maxKeys: number): BoundedExpiringMap<number> =>
  new BoundedExpiringMap<number>({ now, windowMs: DEFAULT_FAILURE_WINDOW_MS, maxKeys, expired: (until, at) => until <= at });

/** The primary's budget over all workers' failures. */
export class BudgetAuthority {
  private readonly budget: FailureBudget;
  /**
   * When each spent key's last announcement runs out: one announcement per spent window. An
   * evicted key is only announced again (the workers keep the later deadline).
   */
  private readonly announced: BoundedExpiringMap<number>;

  constructor(private readonly now: () => number, maxKeys = MAX_BUDGET_KEYS) {
    this.budget = new FailureBudget({ limit: DEFAULT_FAILURE_LIMIT, windowMs: DEFAULT_FAILURE_WINDOW_MS, now, maxKeys });
    this.announced = deadlines(now, maxKeys);
  }

  /** Keys counted, and keys announced, now (each at most `maxKeys`). */
  get size(): { counted: number; announced: number } {
    return { counted: this.budget.size, announced: this.announced.size };
  }

  /** Counts one failure; returns the announcement to broadcast when this made (or keeps) the key spent. */
  failure(key: string): BudgetSpentMessage | undefined {
    this.budget.fail(key);
    const wait = this.budget.retryAfter(key);
    if (wait <= 0) return undefined;
    const now = this.now();
    if ((this.announced.get(key) ?? 0) > now) return undefined;
    const until = now + wait * 1000;
    this.announced.set(key, until);
    return { sk: 'budget-spent', key, until };
  }
}

/** A worker's budget: its own count, and the spent keys the primary announced. */
export class MirroredBudget implements BudgetLike {
  private readonly local: FailureBudget;
  /**
   * Announced deadlines. An evicted one leaves the key to this worker's own count: up to the
   * limit here in the window, though the other workers' failures had already spent it.
   */
  private readonly spent: BoundedExpiringMap<number>;

  constructor(private readonly now: () => number, private readonly report: (m: AuthFailureMessage) => void, maxKeys = MAX_BUDGET_KEYS) {
    this.local = new FailureBudget({ limit: DEFAULT_FAILURE_LIMIT, windowMs: DEFAULT_FAILURE_WINDOW_MS, now, maxKeys });
    this.spent = deadlines(now, maxKeys);
  }

  /** Keys counted here, and announced keys kept, now (each at most `maxKeys`). */
  get size(): { counted: number; spent: number } {
    return { counted: this.local.size, spent: this.spent.size };
  }

  fail(key: string): void {
    this.local.fail(key);
    this.report({ sk: 'auth-failure', key });
  }

  retryAfter(key: string): number {
    const own = this.local.retryAfter(key);
    const until = this.spent.get(key);
    if (until === undefined) return own;
    const left = until - this.now();
    if (left <= 0) {
      this.spent.delete(key);
      return own;
    }
    return Math.max(own, Math.ceil(left / 1000));
  }

  /** Takes a primary's announcement; returns false for any other message. */
  onMessage(m: unknown): boolean {
    if (!isBudgetSpentMessage(m)) return false;
    this.spent.set(m.key, Math.max(m.until, this.spent.get(m.key) ?? 0));
    return true;
  }
}
