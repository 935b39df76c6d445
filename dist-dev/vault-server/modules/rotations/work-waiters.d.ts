/**
 * The wake-up hub of the agents' rotation long-polls (`GET /v1/agent/rotations?wait=S`), one per
 * vault process (vault-server/http/long-poll.ts).
 *
 * A held poll registers under `m:<machine id>` and `l:<label>` for each of its machine's labels.
 * A `'work'` event (rotationEvents, emitted after commit by createRotation and by a failure that
 * re-queues a job) wakes only the polls of the job's agent machine or label; one whose
 * `notBefore` is still ahead wakes nobody now but moves the safety-net sweep to that moment.
 * A `'work'` event with no payload (relayed from elsewhere without one) wakes every poll.
 *
 * The sweep — one timer per process, every SWEEP_MS, whatever the number of polls — runs two
 * queries: which agent machines and labels have a job claimable now (due pending jobs and lapsed
 * leases, in unlocked projects), and when the next pending job or lease comes due. It wakes the
 * waiting polls among the first and schedules itself for the second, so retries and lapsed
 * leases are handed out when they come due, and anything that emitted no event here (another
 * process's change with no relay, an unlocked project) is seen within SWEEP_MS.
 */
import type { VaultContext } from '../../context.js';
import { WakeHub } from '../../http/long-poll.js';
import type { Waiter } from '../../http/long-poll.js';
/** The safety net's period: the longest a change with no event here goes unseen by a held poll. */
export declare const SWEEP_MS = 5000;
export declare const machineKey: (id: string) => string;
export declare const labelKey: (label: string) => string;
export declare class WorkWaiters {
    private readonly ctx;
    readonly hub: WakeHub;
    constructor(ctx: VaultContext, intervalMs?: number);
    /** Registers a poll of machine `machineId` with `labels`; close the waiter when the poll ends. */
    register(machineId: string, labels: readonly string[]): Waiter;
    private onWork;
    /** Two queries for all waiting polls together (never one per poll). */
    private sweep;
}
