import { EventEmitter } from 'node:events';
import type { ClaimResponse, Engine, FailBody, PreflightResultBody, RotationKind, RotationStepResponse } from '../../../protocol/api-types.js';
import type { Caller } from '../../http/authenticate.js';
import type { Tx, VaultContext } from '../../context.js';
import type { Row, SecretVersionState } from '../../store/database.js';
import type { ProjectRow } from '../projects/projects-service.js';
/**
 * The vault's half of the rotation state machine (DESIGN §6; every state, for operators, in
 * docs/rotation-states.md):
 *
 *   pending ─claim─► claimed ─applied─► applied ─confirm─► promoted   (rotate)
 *      ▲                │                  │               retired    (retire)
 *      │                │                  │               preflight_passed (preflight: its own report)
 *      └── unproven failure / lease lost: back to pending (maybe_applied stays true)
 *   failed ◄── fail with liveVerified (pending kept as `discarded`); a preflight with problems;
 *              a rotate claim the stored flavour refuses (nothing applied yet)
 *   stuck  ◄── neither credential works, or the database refused to undo a dual apply
 *              (`undoRefused`: the policy is marked failing too); an operator resolves it
 *
 * Which of failed / pending / stuck a failure report leads to is `failOutcome` (rotation-rules.ts).
 * Every transition is one transaction with its audit event. The vault never discards a claimed
 * pending value on its own: only an agent's proof that live works, or an operator, ends it.
 */
/**
 * Wakes long-polls in this process, after commit: `'work'` (a WorkEvent) when a job becomes
 * claimable or will at its `notBefore`, `'finished'` (rotation id, FinishedEvent) when one ends.
 * Listeners must accept a missing payload (an event relayed from another process may carry none)
 * and then wake everybody who might care (vault-server/http/long-poll.ts).
 */
export declare const rotationEvents: EventEmitter<[never]>;
/** Whom a new or re-queued job is for, and from when (null: now). */
export interface WorkEvent {
    rotationId: string;
    agentMachineId: string | null;
    agentLabel: string | null;
    notBefore: number | null;
}
/** The secret of a rotation that ended: watches on it wake. */
export interface FinishedEvent {
    project: string;
    secret: string;
}
type PolicyRow = Row<'rotation_policies'>;
interface SecretRef {
    id: string;
    name: string;
    kind: string;
    project: ProjectRow;
}
/** The decrypted fields of a secret's version in `state` (live by default). */
export declare function secretFields(ctx: VaultContext, trx: Tx, secret: SecretRef, where?: {
    state?: SecretVersionState;
    id?: string;
}): Promise<{
    fields: Record<string, string>;
    version: number;
    versionId: string;
}>;
/**
 * Creates a rotation (kind `rotate`) with a freshly generated pending version. The partial unique
 * index refuses a second unfinished rotation of the same secret, which is also what makes
 * scheduling exactly-once across replicas.
 */
export declare function createRotation(ctx: VaultContext, trx: Tx, req: {
    policy: PolicyRow;
    trigger: 'manual' | 'schedule' | 'retry' | 'promotion';
    actor?: Caller;
    kind?: RotationKind;
    notBefore?: number | null;
    details?: Record<string, unknown>;
}, audit: (e: {
    action: string;
    projectId?: string | null;
    target: string;
    outcome: 'success' | 'failure' | 'denied';
    details?: Record<string, unknown>;
}, caller?: Caller) => Promise<void>): Promise<{
    id: string;
}>;
/** The jobs this machine may claim now: due pending ones, and claimed ones whose lease lapsed. */
export declare function listClaimable(ctx: VaultContext, machine: Caller, labels: string[]): Promise<Array<{
    id: string;
    kind: RotationKind;
    project: string;
    secret: string;
}>>;
/**
 * Claims a job: increments the fence, takes a lease, and from this moment assumes the database
 * may hold the pending credential (`maybe_applied`). The answer tells the agent whether an
 * earlier claim may already have applied it, so it reconciles before doing anything else.
 *
 * Each kind carries only what it needs (protocol/api-types.ts): a rotate job the pending and the
 * live password, a retire job the live and the old one to remove, a preflight no user password at
 * all (its target without `password`).
 *
 * A rotate job whose policy's stored flavour refuses the strategy (say `dual` was set before the
 * first preflight reported MariaDB) is not handed out. The transaction that found it does not throw
 * — a throw would roll the ending back — but ends the rotation and *returns* the refusal; it is
 * thrown only after that transaction committed, so the claim answers
 * SK_ERR_ROTATION_STRATEGY_UNSUPPORTED and the rotation stays ended (see `refuseClaim`).
 */
export declare function claimRotation(ctx: VaultContext, machine: Caller, id: string): Promise<ClaimResponse>;
export declare function heartbeatRotation(ctx: VaultContext, machine: Caller, id: string, fence: number): Promise<{
    leaseSeconds: number;
}>;
export declare function reportApplied(ctx: VaultContext, machine: Caller, id: string, fence: number): Promise<RotationStepResponse>;
/**
 * Promotes in one transaction: pending → live, old live → previous, rotation → promoted, audit
 * event. A retire job's confirm ends it `retired` (the old password is gone). Idempotent: a retried confirm with the same fence is answered the same. Recorded even
 * when the project is locked, so no credential the database already holds is stranded.
 */
export declare function confirmRotation(ctx: VaultContext, machine: Caller, id: string, fence: number): Promise<RotationStepResponse>;
/**
 * An agent's failure report. Only proof that the live credential works (`liveVerified`) lets the
 * vault give up on the pending value (kept as `discarded`). Without that proof the rotation goes
 * back to pending with backoff, and after a bounded number of attempts — or when the agent found
 * that neither credential logs in — it is `stuck` for an operator to resolve. `undoRefused` (the
 * database refused to undo a dual apply) is `stuck` too, and marks the policy failing: the live
 * password survives only as the retained one, and another dual apply would drop it. The decision
 * itself is `failOutcome` (rotation-rules.ts).
 */
export declare function failRotation(ctx: VaultContext, machine: Caller, id: string, body: FailBody): Promise<RotationStepResponse>;
/**
 * An operator ends a stuck (or otherwise unfinished) rotation after looking at the database:
 * `pending` promotes the pending credential, `live` keeps the live one and discards the pending.
 */
export declare function resolveRotation(ctx: VaultContext, caller: Caller, secretId: string, use: 'pending' | 'live'): Promise<RotationStepResponse>;
/**
 * What a machine's grants let it read of an admin secret: nothing, all of it (a project or
 * whole-secret grant), or the union of its field grants' fields.
 */
export declare function adminGrantOf(trx: Tx, machineId: string, adminSecret: {
    id: string;
    project: {
        id: string;
    };
}): Promise<'none' | 'all' | Set<string>>;
/** The connection fields (protocol/engines.ts) the admin secret holds that `allowed` leaves out. */
export declare function missingConnectionFields(engine: Engine, adminFields: Record<string, string>, allowed: 'all' | Set<string>): string[];
export declare function noFieldGrantMessage(machine: string, adminSecret: {
    name: string;
    project: {
        name: string;
    };
}, missing: readonly string[]): string;
/** Consecutive proven failures after which a policy is marked failing and stops retrying early. */
export declare const MAX_CONSECUTIVE_FAILURES = 3;
/**
 * The agent's answer to a preflight job: passed, or the problems in words an operator can act on.
 * What the server turned out to be (`flavour`, `serverVersion`) is stored on the policy, and
 * protocol/engines.ts decides whether that flavour runs the policy's strategy: if not, the
 * preflight fails with the table's refusal among its problems (SK_ERR_ROTATION_STRATEGY_UNSUPPORTED
 * when that is its only problem, SK_ERR_PROVIDER_PRIVILEGE when the agent found others too).
 * A report without a flavour (the admin could not even connect) leaves the stored one as it was.
 */
export declare function preflightResult(ctx: VaultContext, machine: Caller, id: string, body: PreflightResultBody): Promise<RotationStepResponse>;
export interface JobView {
    id: string;
    kind: RotationKind;
    state: string;
    project: string;
    secret: string;
    attempt: number;
    error: string | null;
    errorCode: string | null;
    createdAt: number;
    finishedAt: number | null;
    latencyMs: number | null;
}
export declare function jobStatus(ctx: VaultContext, id: string): Promise<JobView>;
/** The user a rotation changes: under `alternating` the one that is not live, else the same. */
export declare function nextUsername(policy: Pick<PolicyRow, 'strategy' | 'primary_username' | 'alternate_username'>, liveUsername: string): string;
export {};
