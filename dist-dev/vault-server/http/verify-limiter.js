import { availableParallelism } from 'node:os';
import { SikkerKeyError } from '../../protocol/errors.js';
import { ed25519Verify, ed25519VerifyAsync } from '../../protocol/signing.js';
/**
 * The default cap on Ed25519 verifications in flight (queued on or running in libuv's thread
 * pool): 2 × cores × 32, i.e. 128 on 2 cores. Not measured: chosen so that a full queue is a few
 * milliseconds of work (one verification is tens of microseconds), far below any client timeout.
 */
export function defaultVerifyConcurrency() {
    return 2 * availableParallelism() * 32;
}
/**
 * The only bound on signature work for well-formed requests naming a known key: a global count
 * of verifications in flight. Nothing per key or per address limits them, so nobody can make a
 * key's valid requests fail by sending bad ones; an overload is answered 503 to whoever arrives
 * while the vault is saturated, and clears as soon as the queue drains.
 */
export function createVerifyLimiter(opts = {}) {
    const max = opts.max ?? defaultVerifyConcurrency();
    if (!Number.isInteger(max) || max < 1)
        throw new SikkerKeyError('SK_ERR_CONFIG', `the verify concurrency must be a whole number ≥ 1, not ${String(max)}`);
    const inner = opts.verify
        ?? (opts.async === false ? (k, m, s) => Promise.resolve(ed25519Verify(k, m, s)) : ed25519VerifyAsync);
    let inFlight = 0;
    return {
        max,
        inFlight: () => inFlight,
        verify: async (key, message, signature) => {
            if (inFlight >= max) {
                throw new SikkerKeyError('SK_ERR_VERIFY_BUSY', 'the vault is verifying as many signatures as it allows at once; retry shortly', { details: { retryAfter: 1 } });
            }
            inFlight += 1;
            opts.onVerify?.();
            try {
                return await inner(key, message, signature);
            }
            finally {
                inFlight -= 1;
            }
        },
    };
}
//# sourceMappingURL=verify-limiter.js.map