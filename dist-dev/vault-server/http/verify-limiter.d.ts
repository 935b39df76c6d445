import type { KeyObject } from 'node:crypto';
/**
 * The default cap on Ed25519 verifications in flight (queued on or running in libuv's thread
 * pool): 2 × cores × 32, i.e. 128 on 2 cores. Not measured: chosen so that a full queue is a few
 * milliseconds of work (one verification is tens of microseconds), far below any client timeout.
 */
export declare function defaultVerifyConcurrency(): number;
export type Ed25519Verifier = (key: KeyObject, message: Uint8Array, signature: Uint8Array) => Promise<boolean>;
export interface VerifyLimiter {
    /** Verifies (calling `onVerify` first), or throws SK_ERR_VERIFY_BUSY (503, Retry-After 1) when `max` verifications are already in flight. */
    verify: Ed25519Verifier;
    inFlight(): number;
    readonly max: number;
}
/**
 * The only bound on signature work for well-formed requests naming a known key: a global count
 * of verifications in flight. Nothing per key or per address limits them, so nobody can make a
 * key's valid requests fail by sending bad ones; an overload is answered 503 to whoever arrives
 * while the vault is saturated, and clears as soon as the queue drains.
 */
export declare function createVerifyLimiter(opts?: {
    max?: number;
    async?: boolean;
    verify?: Ed25519Verifier;
    onVerify?: () => void;
}): VerifyLimiter;
