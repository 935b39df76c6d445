// The global cap on Ed25519 verifications in flight: the only bound on signature work for
// well-formed requests naming a known key (nothing per key or per address).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import Fastify from 'fastify';
import { SikkerKeyError } from '../../protocol/errors.js';
import { createVerifyLimiter } from '../../vault-server/http/verify-limiter.js';
import { installErrorHandling } from '../../vault-server/http/errors.js';
test('the verify-concurrency cap: past it a verification is refused 503 SK_ERR_VERIFY_BUSY with Retry-After, and admitted again once the queue drains', async () => {
    const pending = [];
    const limiter = createVerifyLimiter({ max: 2, verify: () => new Promise((resolve) => pending.push(resolve)) });
    const { publicKey } = generateKeyPairSync('ed25519');
    const msg = new Uint8Array(1);
    const sig = new Uint8Array(64);
    const first = limiter.verify(publicKey, msg, sig);
    const second = limiter.verify(publicKey, msg, sig);
    assert.equal(limiter.inFlight(), 2);
    await assert.rejects(limiter.verify(publicKey, msg, sig), (err) => {
        assert.ok(err instanceof SikkerKeyError);
        assert.equal(err.code, 'SK_ERR_VERIFY_BUSY');
        assert.equal(err.statusCode, 503);
        assert.equal(err.details?.['retryAfter'], 1);
        return true;
    });
    assert.equal(pending.length, 2, 'the refused one never reached the verifier');
    // Over HTTP the refusal is a 503 with Retry-After.
    const app = Fastify();
    installErrorHandling(app);
    app.get('/x', async () => limiter.verify(publicKey, msg, sig));
    const res = await app.inject({ method: 'GET', url: '/x' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(JSON.parse(res.body).error.code, 'SK_ERR_VERIFY_BUSY');
    await app.close();
    for (const resolve of pending.splice(0))
        resolve(true);
    assert.deepEqual(await Promise.all([first, second]), [true, true]);
    assert.equal(limiter.inFlight(), 0);
    const third = limiter.verify(publicKey, msg, sig);
    pending.shift()(false);
    assert.equal(await third, false);
    // A real verifier with the default cap, for completeness: a zero signature does not verify.
    assert.equal(await createVerifyLimiter().verify(publicKey, msg, sig), false);
    assert.ok(createVerifyLimiter().max >= 2);
});
//# sourceMappingURL=verify-limiter.test.js.map