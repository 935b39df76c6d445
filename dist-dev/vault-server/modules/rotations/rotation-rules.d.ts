import type { Engine, FailBody, Flavour, RotationKind, Strategy } from '../../../protocol/api-types.js';
/**
 * Refuses a strategy the engine cannot run, in protocol/engines.ts's words. Before any preflight
 * (`flavour` null) a strategy is allowed when some flavour of the engine runs it (`mysql` +
 * `dual`: MySQL 8 can); once a preflight reported the flavour (and version), that flavour decides
 * (MariaDB: no `dual`; MySQL below 8.0.14: no `dual`).
 */
export declare function assertStrategySupported(target: {
    engine: Engine;
    flavour?: Flavour | null;
    version?: string | null;
}, strategy: Strategy): void;
/** The fields a database secret must hold before it can be rotated. */
export declare const REQUIRED_DATABASE_FIELDS: readonly ["host", "port", "username", "password"];
export declare function assertDatabaseFields(fields: Record<string, string>, what: string): void;
/** How long a claim holds before another agent may take the rotation over. */
export declare const LEASE_SECONDS = 30;
/** Unproven failures (live not verified) before the rotation is declared stuck. */
export declare const MAX_UNPROVEN_ATTEMPTS = 5;
/** Backoff before an unproven failure is retried: 2^attempt seconds (max 5 min), ±25 % jitter. */
export declare function retryDelayMs(attempt: number, random?: () => number): number;
/**
 * The state an agent's failure report (`POST …/fail`) puts a claimed job in. `attempt` is the
 * attempt the report is about (the claim that counted it). In this order:
 * - a preflight changed nothing: `failed`;
 * - `undoRefused` (the database refused to undo a dual apply; the live password survives only as
 *   the retained one): `stuck`, and the vault marks the policy failing, since another dual apply
 *   would drop the live password; an operator resolves it (`rotation resolve --use live|pending`);
 * - a rotate job whose agent proved the live credential logs in: `failed` (pending discarded);
 * - neither credential logs in, or `MAX_UNPROVEN_ATTEMPTS` unproven attempts: `stuck`;
 * - otherwise (nothing proven): back to `pending`, retried with backoff, maybe_applied kept.
 * A retire job never ends `failed` here: its old password may be gone or not, so it is retried
 * until it succeeds or is stuck.
 *
 * @example
 *   failOutcome({ kind: 'rotate', attempt: 1 }, { liveVerified: true });                      // 'failed'
 *   failOutcome({ kind: 'rotate', attempt: 1 }, { liveVerified: true, undoRefused: true });   // 'stuck'
 *   failOutcome({ kind: 'retire', attempt: 1 }, { liveVerified: true });                      // 'pending'
 */
export declare function failOutcome(row: {
    kind: RotationKind;
    attempt: number;
}, body: Pick<FailBody, 'liveVerified' | 'neitherWorks' | 'undoRefused' | 'untouched'>): 'failed' | 'pending' | 'stuck';
