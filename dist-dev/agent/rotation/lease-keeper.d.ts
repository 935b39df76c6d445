import type { Logger } from 'pino';
import type { ClaimResponse } from '../../protocol/api-types.js';
export declare class LeaseLostError extends Error {
    constructor();
}
/**
 * Renews a claim's lease with fenced heartbeats every third of its length. Time is measured on
 * this host's monotonic clock from the last renewal the vault acknowledged, so no clock is
 * compared between hosts. `assertHeld()` is called before every step that touches the database:
 * an agent that could not renew, or was fenced out, stops touching it.
 */
export declare class LeaseKeeper {
    private readonly job;
    private readonly vault;
    private readonly log;
    private renewedAt;
    private leaseMs;
    private timer;
    private fenced;
    constructor(job: Pick<ClaimResponse, 'id' | 'fence' | 'leaseSeconds'>, vault: {
        heartbeat(id: string, fence: number): Promise<{
            leaseSeconds: number;
        }>;
    }, log: Logger);
    start(): void;
    private renew;
    /** Throws unless the lease is still ours with a safety margin of a fifth of its length. */
    assertHeld(): void;
    stop(): void;
}
