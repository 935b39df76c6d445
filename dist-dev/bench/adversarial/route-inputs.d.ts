import type { Harness } from './harness.js';
import type { Tally } from './tally.js';
/** Runs about `n` requests spread over every route (operator and machine key alike). */
export declare function runRouteInputs(h: Harness, tally: Tally, n: number, concurrency?: number): Promise<{
    routes: number;
    unsendable: string[];
}>;
