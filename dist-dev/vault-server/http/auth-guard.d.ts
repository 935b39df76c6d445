import { BlockList } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SikkerKeyError } from '../../protocol/errors.js';
/**
 * A budget of failed authentications per source address, in fixed windows. Counting only
 * failures keeps a busy, well-behaved client unaffected.
 */
export declare class FailureBudget implements BudgetLike {
    private readonly opts;
    private readonly windows;
    constructor(opts: {
        limit: number;
        windowMs: number;
        now: () => number;
    });
    /** Seconds until `key` may try again, or 0 when it may now. */
    retryAfter(key: string): number;
    fail(key: string): void;
    private prune;
}
/** What the guard asks of a budget: FailureBudget, or a mirror of one kept elsewhere (cluster/shared-budget.ts). */
export interface BudgetLike {
    fail(key: string): void;
    retryAfter(key: string): number;
}
export declare const DEFAULT_FAILURE_LIMIT = 20;
export declare const DEFAULT_FAILURE_WINDOW_MS = 60000;
export interface AuthGuardOptions {
    /** Failed authentications allowed per source address in each window (default 20 a minute). */
    failureLimit?: number;
    windowMs?: number;
    /** Vault-wide source allowlist (CIDRs); empty = any address. Health checks are exempt. */
    allowCidrs?: readonly string[];
    now?: () => number;
    /** The budget to use instead of one of this process's own (several workers share one). */
    budget?: BudgetLike;
}
export declare function parseCidrList(cidrs: readonly string[], option: string): BlockList;
export declare function matchesCidr(list: BlockList, ip: string): boolean;
/**
 * The per-address failure budget, shared with routes that authenticate on their own (enrollment).
 * It never names a key id: a budget keyed on the *claimed* key id would let anyone lock any
 * identity out without its key.
 */
export interface AuthGuard {
    recordFailure(ip: string): void;
    /** Seconds until this address's budget refills (0: it is not spent). */
    retryAfter(ip: string): number;
}
export declare function rateLimited(wait: number): SikkerKeyError;
/**
 * Cheap checks before any signature work (onRequest: the body is not even read yet): the
 * vault-wide allowlist, a body on a bodiless method, and — for an address whose failure budget is
 * spent — requests that cannot be authentic without any cryptography (no signature headers, or a
 * Signature-Input with no readable key id). Everything else from such an address goes on to the
 * authenticator, which answers the remaining cheap failures (unknown key id, stale, digest
 * mismatch) 429 for that address and verifies every well-formed request naming a known key.
 */
export declare function installAuthGuard(app: FastifyInstance, opts?: AuthGuardOptions): AuthGuard;
