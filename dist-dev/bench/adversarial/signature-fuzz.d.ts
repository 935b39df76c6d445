/**
 * Category 1 of the adversarial run: property-based fuzzing (fast-check) of the RFC 9421
 * parser and verifier. Each case rewrites Signature-Input, Signature and/or Content-Digest of a
 * validly signed request — structured-field shaped text from a small grammar, random edits of the
 * real header, huge parameters, unicode and control characters, repeated members, parameters and
 * whole headers — then
 *
 * - calls verifyRequest, peekKeyId and checkContentDigest directly: each may only throw a
 *   SikkerKeyError with a registered code (anything else is a "parser escape");
 * - sends the request to the vault: the answer must be a registered 4xx. The request it was made
 *   from was already sent and accepted, so even a rewrite that changes nothing is a replay, and
 *   any 2xx counts as an accepted mutation.
 */
import fc from 'fast-check';
import type { Harness, RawRequest } from './harness.js';
import type { Tally } from './tally.js';
type Edit = {
    kind: 'insert' | 'delete' | 'replace' | 'duplicate' | 'truncate';
    at: number;
    text: string;
    len: number;
};
/** How one header of a case is rewritten. */
type HeaderPlan = {
    mode: 'keep';
} | {
    mode: 'absent';
} | {
    mode: 'grammar';
    value: string;
} | {
    mode: 'edit';
    edits: Edit[];
} | {
    mode: 'twice';
    second: string;
} | {
    mode: 'append';
    suffix: string;
};
export interface FuzzCase {
    base: number;
    signatureInput: HeaderPlan;
    signature: HeaderPlan;
    contentDigest: HeaderPlan;
}
export declare const fuzzCase: fc.Arbitrary<FuzzCase>;
export declare function applyCase(req: RawRequest, c: FuzzCase): RawRequest;
/**
 * Runs `n` fuzz cases (`workers` fast-check runs in parallel, seeds from the harness). Each
 * case's base is a validly signed request already sent once and accepted, refreshed every few
 * seconds so that signatures stay fresh; the fuzzed copy must be refused.
 */
export declare function runSignatureFuzz(h: Harness, tally: Tally, n: number, workers?: number): Promise<{
    cases: number;
}>;
export {};
