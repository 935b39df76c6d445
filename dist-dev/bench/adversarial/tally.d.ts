export declare const CATEGORIES: readonly ["signature-fuzz", "route-inputs", "replays", "mutations", "bodies"];
export type Category = typeof CATEGORIES[number];
/** What a 2xx means in a category: nothing (`undefined`: a valid request may succeed), or a failure of this kind. */
export type Refusal = 'replay' | 'mutation' | 'body';
export interface Answer {
    method: string;
    target: string;
    status: number;
    /** The parsed JSON body (undefined when empty or not JSON). */
    body: unknown;
    /** Set when the server closed the connection (or timed it out) instead of answering. */
    closed?: boolean;
    /** A bare HTTP 408 written by Node's own request/headers timeout (no body; not our error shape). */
    serverTimeout?: boolean;
}
export interface CategoryCounts {
    requests: number;
    /** How many answers had each status ("closed" when the server closed the connection). */
    statuses: Record<string, number>;
    /** How many refusals carried each error code. */
    codes: Record<string, number>;
    failures: number;
}
export interface Failure {
    category: Category | 'process';
    kind: string;
    detail: string;
}
export interface TallySummary {
    requests: number;
    fivexx: number;
    crashes: number;
    replaysAccepted: number;
    mutationsAccepted: number;
    /** Non-2xx answers without a registered code (or with a status other than the code's). */
    unregistered: number;
    /** 2xx answers to oversized, deeply nested or slow bodies. */
    bodiesAccepted: number;
    /** Verifier or parser calls (outside HTTP) that threw something other than a registered SikkerKeyError. */
    parserEscapes: number;
    /** Object.prototype gained a property during the run. */
    prototypePolluted: number;
    /** Sockets the server neither answered nor closed within the client's deadline. */
    hangs: number;
    /** 503 SK_ERR_VERIFY_BUSY answers (overload; counted in fivexx too, listed here to tell them apart). */
    verifyBusy: number;
    /** Valid requests the run needed accepted (a replay's original) that were refused: the run proved nothing for them. */
    setupFailures: number;
    categories: Record<Category, CategoryCounts>;
    examples: Failure[];
}
export declare class Tally {
    private readonly counts;
    private readonly totals;
    private readonly examples;
    fail(category: Category | 'process', kind: keyof Tally['totals'], detail: string): void;
    /** Counts one hostile request's answer and holds it to the rules; true when it broke none. */
    check(category: Category, a: Answer, opts?: {
        mustRefuse?: Refusal;
    }): boolean;
    summary(): TallySummary;
}
/** True when the run broke no rule at all (what `--json`'s `ok` and the exit code say). */
export declare function clean(s: TallySummary): boolean;
/** The run's last line. */
export declare function resultLine(s: TallySummary): string;
