import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
export declare const HARD_DELETE_AFTER_MS: number;
export declare const SWEEPER_LEASE_NAME = "machine-expiry";
export interface SweepResult {
    /** False when another process held the lease (nothing was done). */
    ran: boolean;
    expired: number;
    deleted: number;
}
export interface SweepOptions {
    /** Who holds the lease (default: one id per process). */
    holder?: string;
    leaseMs?: number;
    /** Most machines handled per step and sweep (the next sweep takes the rest). */
    batch?: number;
}
/** Takes (or renews) the named lease for `holder`; true when this holder has it now. */
export declare function acquireLease(ctx: VaultContext, name: string, holder: string, leaseMs: number): Promise<boolean>;
export declare function releaseLease(ctx: VaultContext, name: string, holder: string): Promise<void>;
/** One sweep (see the file comment); tests call it directly with an injected clock. */
export declare function sweepMachines(ctx: VaultContext, opts?: SweepOptions): Promise<SweepResult>;
/**
 * Runs a sweep every `everyMs` (default a minute) while the server runs: the timer is unref'd
 * (it never keeps the process alive) and stopped when the app closes. A failed sweep is logged
 * and retried on the next tick.
 */
export declare function startMachineSweeper(app: FastifyInstance, ctx: VaultContext, everyMs?: number): void;
