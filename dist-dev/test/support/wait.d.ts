export interface WaitOptions<T> {
    /** What is awaited, for the failure message: "timed out after … waiting for <what>". */
    what: string;
    timeoutMs: number;
    /** Pause between probes (default 100 ms). */
    intervalMs?: number;
    /** When the probe's value is the awaited state (default: the value is truthy). */
    until?: (value: T) => boolean;
    /** How the last value is shown in the failure message (default: util.inspect, shortened). */
    show?: (value: T) => string;
    /**
     * Errors the probe may throw while the state is not reached yet (a server restarting, a file
     * not written yet): `true` for any error, or a filter. They are remembered as "last saw"; any
     * other error ends the wait at once. Default: none — a throwing probe fails the wait.
     */
    retryOn?: boolean | ((err: unknown) => boolean);
}
/** Thrown when the deadline passes; `lastSeen` is the last value (or error) the probe produced. */
export declare class WaitTimeoutError extends Error {
    readonly lastSeen: unknown;
    constructor(message: string, lastSeen: unknown);
}
export declare const sleep: (ms: number) => Promise<void>;
/**
 * Calls `probe` until its value satisfies `until` (or is truthy) and returns that value. The probe
 * is always called at least once, and once more after the deadline, so a state reached while the
 * last pause ran is not missed.
 */
export declare function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions<T>): Promise<T>;
