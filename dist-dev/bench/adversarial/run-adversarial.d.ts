import type { MutationResult, ReplayResult } from './replays-mutations.js';
import type { Category, TallySummary } from './tally.js';
export { resultLine } from './tally.js';
export interface AdversarialOptions {
    /** Hostile requests in all (default 100,000); split over the categories by `share`. */
    requests?: number;
    seed?: number;
    /** Progress lines (to stderr in the command). */
    progress?: (line: string) => void;
    /** Node's request / headers timeouts of the listening vault (default 3 s / 2 s: slow sockets end quickly). */
    requestTimeoutMs?: number;
}
export interface AdversarialReport extends TallySummary {
    ok: boolean;
    seed: number;
    seconds: number;
    /** Requests per category as planned (the tally's `categories` has what was sent and answered). */
    planned: Record<Category, number>;
    /** Requests that reached each route's handler (past authentication and the schema), by `METHOD url`. */
    handlerHits: Record<string, number>;
    routes: number;
    routesReached: number;
    replay: ReplayResult;
    mutationsByKind: MutationResult['byMutation'];
    slowSockets: Record<string, Record<string, number>>;
    /** Error lines the vault logged (not a rule of the run; a 500 would be counted as a 5xx anyway). */
    loggedErrors: {
        count: number;
        examples: string[];
    };
    /** The longest the event loop was blocked during the run (ms). */
    eventLoopMaxMs: number;
    /** Health checks done (inject and TCP), and how many failed (each also counts as a crash). */
    healthChecks: {
        done: number;
        failed: number;
    };
    notes: string[];
}
/** Each category's share of the requests; replays are 10 % (10,000 of the default 100,000). */
export declare const SHARE: Readonly<Record<Category, number>>;
export declare const BODY_LIMIT: number;
export declare function runAdversarial(opts?: AdversarialOptions): Promise<AdversarialReport>;
