import type { Engine, Flavour, RotationStatus, Strategy } from '../../../protocol/api-types.js';
import type { Caller } from '../../http/authenticate.js';
import type { VaultContext } from '../../context.js';
export interface PolicyInput {
    provider: string;
    strategy?: string;
    agent?: string;
    agentLabel?: string;
    adminSecret: string;
    schedule?: string;
    timezone?: string;
    grace?: string;
    passwordLength?: number;
    alternateUsername?: string;
    paused?: boolean;
}
export interface PolicyView {
    project: string;
    secret: string;
    provider: Engine;
    strategy: Strategy;
    agent: string | null;
    agentLabel: string | null;
    adminSecret: string;
    schedule: string | null;
    timezone: string | null;
    graceMs: number;
    enabled: boolean;
    failing: boolean;
    nextRunAt: number | null;
    /** What the last preflight found the server to be, and its version (null before one reported it). */
    flavour?: Flavour | null;
    serverVersion?: string | null;
    /** The preflight job `rotation set` created (null when another job of the secret was running). */
    preflightId?: string | null;
}
/** The next instant a cron schedule fires after `after`, in its IANA time zone (croner handles DST). */
export declare function nextRun(schedule: string | null, timezone: string | null, after: number): number | null;
/**
 * `rotation set`: creates or replaces a secret's policy, and a preflight job to check it. The
 * strategy is checked against protocol/engines.ts twice: first for the engine (a strategy no
 * flavour of it runs), then, in the transaction, for the flavour and version the policy's last
 * preflight reported (MariaDB refuses `dual` at once). A new `--provider` forgets them.
 */
export declare function setPolicy(ctx: VaultContext, caller: Caller, projectName: string, secretName: string, input: PolicyInput): Promise<PolicyView>;
/**
 * `rotation run`: a manual rotation now (also when the policy is paused: an operator asked).
 * A preflight an agent is busy with is waited for, briefly; any other unfinished job is a 409.
 */
export declare function runRotation(ctx: VaultContext, caller: Caller, projectName: string, secretName: string): Promise<{
    id: string;
}>;
export declare function resolveStuck(ctx: VaultContext, caller: Caller, projectName: string, secretName: string, use: 'pending' | 'live'): Promise<import("../../../protocol/api-types.js").RotationStepResponse>;
export declare function rotationStatus(ctx: VaultContext, projectName: string, secretName: string, rotationId?: string): Promise<RotationStatus>;
export declare function listPolicies(ctx: VaultContext): Promise<Array<PolicyView & {
    state: string;
}>>;
