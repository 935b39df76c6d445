/**
 * Waiting for a state, with a deadline: the one polling helper tests use instead of `for (;;)`
 * loops and fixed sleeps. It fails with what it waited for and what it last saw, so a test on a
 * slow or broken machine says why it gave up instead of hanging or guessing.
 *
 * Deadlines here are generous on purpose (the tests share a 2-core machine with other work): a
 * deadline only decides how long a broken run takes to fail, never whether a healthy one passes.
 *
 * @example
 *   const job = await waitFor(() => status(id), {
 *     what: `rotation ${id} to finish`, timeoutMs: 60_000, until: (s) => FINISHED.has(s.state),
 *   });
 *   await waitFor(async () => (await lockWaiters(store)) >= 1, { what: 'a lock waiter', timeoutMs: 30_000 });
 */
import { inspect } from 'node:util';
/** Thrown when the deadline passes; `lastSeen` is the last value (or error) the probe produced. */
export class WaitTimeoutError extends Error {
    lastSeen;
    constructor(message, lastSeen) {
        super(message);
        this.lastSeen = lastSeen;
        this.name = 'WaitTimeoutError';
    }
}
const MAX_SHOWN = 1500;
function shorten(text) {
    return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}… (${text.length} chars)` : text;
}
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Calls `probe` until its value satisfies `until` (or is truthy) and returns that value. The probe
 * is always called at least once, and once more after the deadline, so a state reached while the
 * last pause ran is not missed.
 */
export async function waitFor(probe, opts) {
    const { what, timeoutMs, intervalMs = 100 } = opts;
    const done = opts.until ?? ((value) => Boolean(value));
    const retryable = (err) => (typeof opts.retryOn === 'function' ? opts.retryOn(err) : opts.retryOn === true);
    const started = Date.now();
    const deadline = started + timeoutMs;
    let last;
    for (let attempt = 1;; attempt++) {
        const finalTry = Date.now() >= deadline;
        try {
            const value = await probe();
            if (done(value))
                return value;
            last = { value };
        }
        catch (err) {
            if (!retryable(err))
                throw err;
            last = { error: err };
        }
        if (finalTry) {
            const seen = last === undefined ? 'nothing'
                : 'error' in last ? `an error: ${shorten(last.error instanceof Error ? last.error.message : String(last.error))}`
                    : shorten(opts.show ? opts.show(last.value) : inspect(last.value, { depth: 4, breakLength: Infinity }));
            throw new WaitTimeoutError(`timed out after ${Date.now() - started} ms (${attempt} checks) waiting for ${what}; last saw ${seen}`, last === undefined ? undefined : 'error' in last ? last.error : last.value);
        }
        await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
    }
}
//# sourceMappingURL=wait.js.map