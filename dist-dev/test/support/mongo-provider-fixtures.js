/**
 * Shared pieces of the MongoDB provider tests: secrets pointing at a MongoDB wire TEST DOUBLE,
 * a root client to arrange users, and an assertion that a provider error carries the expected
 * code and no secret anywhere (message, stack, causes). Test support only.
 *
 * @example
 *   const err = await expectProviderError(p.verify({ username, password }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password]);
 */
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { SikkerKeyError } from '../../protocol/errors.js';
export function mongoSecret(srv, username, password, extra = {}) {
    return { host: srv.host, port: String(srv.port), username, password, ...extra };
}
/** Runs `fn` with a client logged in as `username` on the double, and closes it. */
export async function asUser(srv, username, password, fn, authSource = 'admin') {
    const client = new MongoClient(srv.url(), {
        auth: { username, password },
        authSource,
        serverSelectionTimeoutMS: 1500,
    });
    try {
        return await fn(client);
    }
    finally {
        await client.close();
    }
}
function texts(err, depth = 0) {
    if (depth > 10 || err === undefined || err === null)
        return [];
    if (!(err instanceof Error))
        return [String(err)];
    const own = [err.message, err.stack ?? '', JSON.stringify(err, Object.getOwnPropertyNames(err))];
    if (err instanceof SikkerKeyError && err.details)
        own.push(JSON.stringify(err.details));
    return [...own, ...texts(err.cause, depth + 1)];
}
/** Awaits a rejection: a SikkerKeyError with `code`, and none of `secrets` in any of its text. */
export async function expectProviderError(promise, code, secrets) {
    let caught;
    try {
        await promise;
    }
    catch (err) {
        caught = err;
    }
    assert.ok(caught !== undefined, `expected ${code}, but the call succeeded`);
    assert.ok(caught instanceof SikkerKeyError, `expected a SikkerKeyError, got ${String(caught)}`);
    assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
    for (const text of texts(caught)) {
        for (const secret of secrets) {
            assert.ok(!text.includes(secret), `a secret appears in the error (${code}): ${caught.message}`);
        }
    }
    return caught;
}
//# sourceMappingURL=mongo-provider-fixtures.js.map