// The tests' polling helper: it returns the awaited value, fails at its deadline naming what it
// waited for and what it last saw, retries only the errors it is told to, and probes once more at
// the deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WaitTimeoutError, waitFor } from './wait.js';
test('returns the first value that satisfies `until` (or is truthy)', async () => {
    let n = 0;
    assert.equal(await waitFor(() => ++n, { what: 'n to reach 3', timeoutMs: 5_000, intervalMs: 1, until: (x) => x >= 3 }), 3);
    let m = 0;
    assert.equal(await waitFor(() => (++m >= 2 ? 'ready' : ''), { what: 'readiness', timeoutMs: 5_000, intervalMs: 1 }), 'ready');
});
test('at the deadline it fails with what it waited for and the last value it saw', async () => {
    let n = 0;
    const err = await waitFor(() => ({ state: `pending-${++n}` }), { what: 'the job to finish', timeoutMs: 50, intervalMs: 10, until: () => false }).catch((e) => e);
    assert.ok(err instanceof WaitTimeoutError);
    assert.match(err.message, /^timed out after \d+ ms \(\d+ checks\) waiting for the job to finish; last saw \{ state: 'pending-\d+' \}$/);
    assert.deepEqual(err.lastSeen, { state: `pending-${n}` }, 'the last value is the one from the probe after the deadline');
});
test('errors are retried only when retryOn says so, and the last one is reported', async () => {
    const boom = () => { throw new Error('connection refused'); };
    await assert.rejects(waitFor(boom, { what: 'x', timeoutMs: 1_000 }), /^Error: connection refused$/);
    const err = await waitFor(boom, { what: 'the server', timeoutMs: 30, intervalMs: 5, retryOn: (e) => e.message.includes('refused') }).catch((e) => e);
    assert.ok(err instanceof WaitTimeoutError);
    assert.match(err.message, /waiting for the server; last saw an error: connection refused$/);
    await assert.rejects(waitFor(() => { throw new TypeError('a bug'); }, { what: 'x', timeoutMs: 1_000, retryOn: (e) => !(e instanceof TypeError) }), TypeError);
});
test('a state reached during the last pause is still seen', async () => {
    const readyAt = Date.now() + 40;
    assert.equal(await waitFor(() => Date.now() >= readyAt, { what: 'the moment', timeoutMs: 40, intervalMs: 1_000 }), true);
});
//# sourceMappingURL=wait.test.js.map