import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { StoreNonceStore, createNonceStore } from '../../vault-server/store/nonce-store.js';
import { forEachStore } from '../support/stores.js';
const nonceHash = () => createHash('sha256').update(randomBytes(16)).digest('hex');
const keyId = () => randomBytes(16).toString('base64url');
const nowUnix = () => Math.floor(Date.now() / 1000);
async function rowsFor(store, key) {
    return store.db.selectFrom('nonces').select(['nonce_hash', 'expires_at']).where('key_id', '=', key).orderBy('expires_at').execute();
}
forEachStore('store: nonces', ({ open }) => {
    test('a nonce is claimed once: true the first time, false every time after', async () => {
        const store = await open();
        const nonces = createNonceStore(store);
        const key = keyId();
        const hash = nonceHash();
        const expires = nowUnix() + 90;
        assert.equal(await nonces.claim(key, hash, expires), true);
        assert.equal(await nonces.claim(key, hash, expires), false);
        assert.equal(await nonces.claim(key, hash, expires + 500), false);
        // The same nonce under another key is a different claim.
        assert.equal(await nonces.claim(keyId(), hash, expires), true);
        assert.deepEqual(await rowsFor(store, key), [{ nonce_hash: hash, expires_at: expires * 1000 }]);
    });
    test('of twenty concurrent claims of one nonce exactly one succeeds', async () => {
        const store = await open();
        const nonces = new StoreNonceStore(store);
        const key = keyId();
        const hash = nonceHash();
        const expires = nowUnix() + 90;
        const results = await Promise.all(Array.from({ length: 20 }, () => nonces.claim(key, hash, expires)));
        assert.equal(results.filter(Boolean).length, 1, `results: ${results.join(',')}`);
        // And twenty concurrent claims of twenty different nonces all succeed.
        const distinct = await Promise.all(Array.from({ length: 20 }, () => nonces.claim(key, nonceHash(), expires)));
        assert.equal(distinct.filter(Boolean).length, 20);
        await nonces.idle();
    });
    test('sweep deletes the expired nonces and keeps the live ones', async () => {
        const store = await open();
        const nonces = new StoreNonceStore(store, { sweepEveryMs: Number.POSITIVE_INFINITY });
        const key = keyId();
        const now = nowUnix();
        const [old1, old2, live] = [nonceHash(), nonceHash(), nonceHash()];
        assert.equal(await nonces.claim(key, old1, now - 200), true);
        assert.equal(await nonces.claim(key, old2, now - 1), true);
        assert.equal(await nonces.claim(key, live, now + 90), true);
        const removed = await nonces.sweep(now * 1000);
        assert.ok(removed >= 2, `removed ${removed}`);
        assert.deepEqual((await rowsFor(store, key)).map((r) => r.nonce_hash), [live]);
        assert.equal(await nonces.claim(key, live, now + 90), false, 'a live nonce stays claimed after a sweep');
    });
    test('claims sweep by themselves, at most once per interval', async () => {
        const store = await open();
        let clock = Date.now();
        const nonces = new StoreNonceStore(store, { sweepEveryMs: 60_000, now: () => clock });
        const key = keyId();
        const expired = nonceHash();
        await store.db.insertInto('nonces').values({ key_id: key, nonce_hash: expired, expires_at: clock - 1000 }).execute();
        await nonces.claim(key, nonceHash(), clock / 1000 + 90); // first claim: sweeps
        await nonces.idle();
        assert.ok(!(await rowsFor(store, key)).some((r) => r.nonce_hash === expired), 'the first claim did not sweep');
        const expiredAgain = nonceHash();
        await store.db.insertInto('nonces').values({ key_id: key, nonce_hash: expiredAgain, expires_at: clock - 1000 }).execute();
        clock += 30_000;
        await nonces.claim(key, nonceHash(), clock / 1000 + 90); // within the interval: no sweep
        await nonces.idle();
        assert.ok((await rowsFor(store, key)).some((r) => r.nonce_hash === expiredAgain), 'swept again within the interval');
        clock += 31_000;
        await nonces.claim(key, nonceHash(), clock / 1000 + 90); // interval passed: sweeps
        await nonces.idle();
        assert.ok(!(await rowsFor(store, key)).some((r) => r.nonce_hash === expiredAgain), 'no sweep after the interval');
    });
});
//# sourceMappingURL=store-nonces.test.js.map