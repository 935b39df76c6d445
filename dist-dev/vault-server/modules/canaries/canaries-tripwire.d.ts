import type { Caller } from '../../http/authenticate.js';
import type { Tx, VaultContext } from '../../context.js';
import type { ReadLookups } from '../secrets/read-lookups.js';
type AuditFn = (e: {
    action: string;
    projectId?: string | null;
    target: string;
    outcome: 'success' | 'denied' | 'failure';
    details?: Record<string, unknown>;
}, caller?: Caller) => Promise<void>;
/** A canary that a read names and that the reading machine holds a grant on. */
export interface CanaryTarget {
    secretId: string;
    name: string;
    projectId: string;
    project: string;
    lockMachineProjects: boolean;
}
/** What one trip did; `afterTripCommitted` reports it once the transaction has committed. */
export interface CanaryTrip {
    canary: CanaryTarget;
    machine: {
        id: string;
        name: string;
    };
    sourceIp: string;
    lockedProjects: string[];
    machineDisabled: boolean;
}
/**
 * The canaries among `items` that `caller` may read (a project-wide grant or a grant on that very
 * secret), found without any lock. A canary the machine holds no grant for is NOT returned: its
 * read is refused like any ungranted read and trips nothing, so a stray key cannot lock projects
 * it has no business in.
 */
export declare function findReadableCanaries(look: ReadLookups, caller: Caller, items: ReadonlyArray<{
    project: string;
    name: string;
}>): Promise<CanaryTarget[]>;
/** Which project rows the trips of some canaries lock, decided once, before any lock is taken. */
export interface TripPlan {
    /** Every project row to take `FOR UPDATE`. */
    exclusive: Set<string>;
    /** The projects the reading machine holds a grant on (locked too by a `lockMachineProjects` canary). */
    machineProjectIds: string[];
}
/**
 * Plans the trips of these canaries: each canary's project and, for a canary created with
 * `--lock-machine-projects`, every project the reading machine holds any grant on. Decided now,
 * before locking, so the locks can be taken in id order; a grant added in the instants between is
 * not covered (an operator would have to add it during the trip; the canary's own project is
 * locked regardless).
 */
export declare function planTrips(trx: Tx, caller: Caller, canaries: readonly CanaryTarget[]): Promise<TripPlan>;
/**
 * Takes the project rows a read needs: `exclusive` ones `FOR UPDATE`, the others `FOR SHARE`, in
 * id order, one statement per row so the order is the order of the calls (not whatever order a
 * multi-row scan happens to lock in). On SQLite both are plain selects: the transaction already
 * holds the one writer.
 *
 * On PostgreSQL an advisory transaction lock per project comes first (shared, or exclusive for
 * the rows a trip locks), all of them in key order, then the rows in id order. Why: row locks
 * have no fair queue — a new `FOR SHARE` joins the current share holders even while a
 * `FOR UPDATE` waits — so under a steady stream of reads a canary trip could be put off for as
 * long as the stream lasts (measured in canary-race.test: without them the trip waited until all
 * 200 reads had been served).
 * PostgreSQL's heavyweight lock manager does queue: a shared advisory request waits behind a
 * waiting exclusive one. The two phases (every advisory lock, in key order, before any row)
 * keep this deadlock-free even if two projects' keys collide.
 */
export declare function lockProjectsInOrder(ctx: VaultContext, trx: Tx, sets: {
    exclusive: ReadonlySet<string>;
    shared: Iterable<string>;
}): Promise<void>;
/**
 * Everything a machine read does before its first row lock: finds the canaries among `items` the
 * machine may read, plans their trips, and takes every project row the reads touch (exclusive
 * for the trips, shared for the rest) in one ordered pass.
 */
export declare function lockForReads(ctx: VaultContext, trx: Tx, caller: Caller, items: ReadonlyArray<{
    project: string;
    name: string;
}>, look: ReadLookups): Promise<{
    canaries: CanaryTarget[];
    plan: TripPlan;
}>;
/**
 * Trips one canary whose project rows this transaction already holds exclusively (`plan`, taken
 * with {@link lockProjectsInOrder}): sets `locked_at` on its project — and on the machine's other
 * projects when configured — disables the reading machine unless the vault runs with
 * `--no-canary-disable-machine`, and appends `canary.tripped` (critical), one `project.lock` per
 * newly locked project and `machine.disable`, all in the read's own transaction. Returns undefined when the
 * canary's project was locked already: that read is answered 423 like any read of a locked
 * project (the decoy must not behave differently), and the caller audits the attempt.
 *
 * Row changes come before the audit appends so the audit head stays the last lock taken
 * (an operator's `machine disable` takes the machine row, then the head).
 */
export declare function tripCanary(ctx: VaultContext, trx: Tx, audit: AuditFn, caller: Caller, canary: CanaryTarget, plan: TripPlan): Promise<CanaryTrip | undefined>;
/**
 * After the trip's transaction committed: the metric and one loud log line (names only; a
 * canary's decoy value is a secret like any other and never logged). Not inside the transaction,
 * so a rolled-back trip is never counted.
 */
export declare function afterTripCommitted(ctx: VaultContext, trips: readonly CanaryTrip[]): void;
export {};
