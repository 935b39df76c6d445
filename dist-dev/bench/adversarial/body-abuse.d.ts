import type { Harness } from './harness.js';
import type { Tally } from './tally.js';
export declare const DEEP_ARRAYS: Buffer<ArrayBuffer>;
export interface BodyPlan {
    oversized: number;
    deepSigned: number;
    deepUnsigned: number;
    sockets: number;
}
/** How `n` body requests are split: signed deep arrays cost ~0.1 s of JSON.parse each, so they are capped. */
export declare function planBodies(n: number): BodyPlan;
export declare function runBodies(h: Harness, tally: Tally, plan: BodyPlan, bodyLimit: number, concurrency?: number): Promise<void>;
/**
 * `n` sockets against the harness's vault listening on 127.0.0.1 (its request timeout should be
 * short, e.g. 3 s, for a quick run), `concurrency` at a time.
 */
export declare function runSlowSockets(h: Harness, tally: Tally, n: number, opts: {
    bodyLimit: number;
    requestTimeoutMs: number;
    concurrency?: number;
}): Promise<Record<string, Record<string, number>>>;
