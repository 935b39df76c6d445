import type { Harness, Rand, RawRequest } from './harness.js';
import type { Tally } from './tally.js';
export interface ReplayResult {
    originals: number;
    originalsRefused: number;
    replays: number;
}
/** `n` captured requests, each sent once (must be accepted) and then replayed once (must be refused). */
export declare function runReplays(h: Harness, tally: Tally, n: number, concurrency?: number): Promise<ReplayResult>;
type Mutation = (h: Harness, req: RawRequest, r: Rand) => RawRequest | undefined;
/** Every mutation, by the component it changes. `undefined`: does not apply to this request. */
export declare const MUTATIONS: Readonly<Record<string, Mutation>>;
export interface MutationResult {
    byMutation: Record<string, {
        requests: number;
        failed: number;
    }>;
}
/** `n` mutated requests: mutations in turn, each on a fresh request of a random kind. */
export declare function runMutations(h: Harness, tally: Tally, n: number, concurrency?: number): Promise<MutationResult>;
export {};
