import type { VaultContext } from '../../context.js';
/** An agent unseen this long is not alive (agents long-poll every 30 s and are seen each time). */
export declare const NO_AGENT_AFTER_MS: number;
export interface TickResult {
    created: number;
    /** Due runs that found an unfinished rotation (or a grace period) and waited for the next one. */
    skipped: number;
}
/**
 * One scheduler pass: every enabled policy whose `next_run_at` has come. Each is taken with
 * `FOR UPDATE SKIP LOCKED` and re-checked, its next run computed and stored, and the rotation
 * created — all in one transaction — so with several vault processes on one PostgreSQL each due
 * run becomes exactly one rotation (the one-unfinished-per-secret index backs this up).
 */
export declare function runSchedulerTick(ctx: VaultContext): Promise<TickResult>;
/**
 * Raises `rotation.no_agent` once when no machine that may run a policy has been seen for
 * NO_AGENT_AFTER_MS, and `rotation.agent_back` when one returns.
 */
export declare function checkAgentLiveness(ctx: VaultContext): Promise<{
    missing: number;
}>;
/** Runs the scheduler every `intervalMs` (and liveness every 30 s) until stopped. */
export declare function startScheduler(ctx: VaultContext, intervalMs?: number): () => void;
