/**
 * A per-process wake-up hub for long-polls (agent rotation polls, secret watches).
 *
 * A held long-poll costs no store work while it waits: it registers under the keys it waits for
 * (a machine id and its labels, a secret's name) and sleeps until an in-process event names one
 * of those keys (`wake`), the event cannot be narrowed (`wakeAll`), its own deadline passes, or
 * its request ends. Woken, the long-poll re-checks the store once through its ordinary path.
 *
 * One safety net per hub, never one per waiter: while anybody waits, a single timer runs `sweep`
 * every `intervalMs` (or earlier, at a time `wakeAt` announced, e.g. a retry's `not_before`). The
 * sweep is one fixed set of queries whatever the number of waiters; it returns the keys that have
 * something for them now and when to look again. It catches what emits no event in this process:
 * work that becomes due by time passing, leases that lapse, changes made through another process
 * that no relay re-emitted here.
 *
 * A waiter is registered before its first check and stays registered across checks, so an event
 * that arrives while the check is running is not lost: the next `wait` returns at once.
 */
export interface Waiter {
    /** Forgets any wake-up seen so far; call just before checking the store. */
    arm(): void;
    /**
     * Resolves when this waiter was woken since `arm` (at once if it already was), after `ms`, or
     * when `signal` aborts.
     */
    wait(ms: number, signal?: AbortSignal): Promise<void>;
    /** Unregisters; call when the long-poll ends, however it ends. */
    close(): void;
}
export interface SweepResult {
    /** Keys with something for their waiters now. */
    wake: Iterable<string>;
    /** When (ctx clock, ms) something may become due with no event; the next sweep runs then at the latest. */
    nextAt?: number | null;
}
export interface WakeHubOptions<D> {
    /** The safety net's period (ms). */
    intervalMs: number;
    now: () => number;
    /** One round of store checks for every key somebody waits on (with each waiter's data). */
    sweep: (waiting: ReadonlyMap<string, readonly D[]>) => Promise<SweepResult>;
    /** Subscribes the hub to its event sources while it has waiters; returns the unsubscribe. */
    subscribe: () => () => void;
    onSweepError?: (err: unknown) => void;
}
export declare class WakeHub<D = undefined> {
    private readonly opts;
    private readonly byKey;
    private readonly entries;
    private unsubscribe;
    private timer;
    private timerAt;
    private sweeping;
    /** Sweeps run so far (for tests and diagnostics). */
    sweeps: number;
    constructor(opts: WakeHubOptions<D>);
    /** How many long-polls are waiting. */
    get size(): number;
    register(keys: readonly string[], data: D): Waiter;
    /** Wakes the waiters registered under `key` (none: nothing happens). */
    wake(key: string): void;
    /** Wakes every waiter: for an event that cannot say whom it concerns. */
    wakeAll(): void;
    /** Something becomes due at `at` (ctx clock) with no event: sweep then rather than later. */
    wakeAt(at: number): void;
    private fire;
    private idle;
    private schedule;
    private runSweep;
}
