import type { BudgetLike } from '../http/auth-guard.js';
/** Worker → primary: one failed authentication from this budget key. */
export interface AuthFailureMessage {
    sk: 'auth-failure';
    key: string;
}
/** Primary → workers: this key is spent until `until` (epoch ms). */
export interface BudgetSpentMessage {
    sk: 'budget-spent';
    key: string;
    until: number;
}
export declare function isAuthFailureMessage(m: unknown): m is AuthFailureMessage;
/** The primary's budget over all workers' failures. */
export declare class BudgetAuthority {
    private readonly now;
    private readonly budget;
    /** When each spent key's last announcement runs out: one announcement per spent window. */
    private readonly announced;
    constructor(now: () => number);
    /** Counts one failure; returns the announcement to broadcast when this made (or keeps) the key spent. */
    failure(key: string): BudgetSpentMessage | undefined;
}
/** A worker's budget: its own count, and the spent keys the primary announced. */
export declare class MirroredBudget implements BudgetLike {
    private readonly now;
    private readonly report;
    private readonly local;
    private readonly spent;
    constructor(now: () => number, report: (m: AuthFailureMessage) => void);
    fail(key: string): void;
    retryAfter(key: string): number;
    /** Takes a primary's announcement; returns false for any other message. */
    onMessage(m: unknown): boolean;
}
