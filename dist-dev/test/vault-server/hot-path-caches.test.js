// Caches checked against the store's change counter (docs/hot-path.md), across two "workers":
// two vault apps on one store, each with its own caches. Every change made through one is
// refused or seen on the very NEXT request through the other, whose caches were warm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { forEachStore } from '../support/stores.js';
import { TEST_AUTHORITY, startTestVault } from '../support/vault-app.js';
import { buildApp } from '../../vault-server/app.js';
import { openVault } from '../../vault-server/vault-state.js';
forEachStore('caches across workers', ({ open, openAt, location }) => {
    test('a new version, a removed grant, a canary lock and a disabled machine are seen by the other worker on its very next request', async () => {
        const a = await startTestVault(await open());
        const storeB = await openAt(location());
        const b = await buildApp({ store: storeB, keyring: await openVault(storeB, a.rootKey), log: pino({ level: 'silent' }), authorities: [TEST_AUTHORITY], authFailureLimit: 100_000 });
        try {
            const op = a.operator;
            assert.equal((await a.call(op, 'POST', '/v1/projects', { name: 'p' })).status, 201);
            assert.equal((await a.call(op, 'PUT', '/v1/projects/p/secrets/s', { value: 'first' })).status, 200);
            assert.equal((await a.call(op, 'POST', '/v1/projects/p/canaries', { name: 'decoy', value: 'decoy-value' })).status, 201);
            const m = await a.addMachine('reader');
            const intruder = await a.addMachine('intruder');
            const grant = await a.call(op, 'POST', '/v1/grants', { machine: 'reader', project: 'p' });
            assert.equal(grant.status, 201);
            assert.equal((await a.call(op, 'POST', '/v1/grants', { machine: 'intruder', project: 'p' })).status, 201);
            const readOnB = async (key, name = 's') => {
                const target = `/v1/projects/p/secrets/${name}`;
                const signed = a.sign(key, 'GET', target);
                const res = await b.app.inject({ method: 'GET', url: target, headers: { host: TEST_AUTHORITY, ...signed.headers } });
                const body = JSON.parse(res.body);
                return { status: res.statusCode, body: { ...(body.value !== undefined ? { value: body.value } : {}), ...(body.error ? { code: body.error.code } : {}) } };
            };
            // Warm: two reads on B; the second is served from B's caches (nothing changed between them).
            assert.deepEqual(await readOnB(m), { status: 200, body: { value: 'first' } });
            const clearsBefore = b.ctx.caches.invalidations;
            assert.equal((await readOnB(m)).body.value, 'first');
            assert.equal(b.ctx.caches.invalidations, clearsBefore, 'a read that changed nothing must not empty the caches');
            // 1. A new version written through A is what the next read on B answers.
            assert.equal((await a.call(op, 'PUT', '/v1/projects/p/secrets/s', { value: 'second' })).status, 200);
            assert.equal((await readOnB(m)).body.value, 'second');
            assert.ok(b.ctx.caches.invalidations > clearsBefore, 'B emptied its caches when the counter moved');
            // 2. A grant removed through A: the next read on B is refused.
            assert.equal((await a.call(op, 'DELETE', `/v1/grants/${grant.body.grant.id}`)).status, 204);
            const ungranted = await readOnB(m);
            assert.equal(ungranted.status, 403);
            assert.equal(ungranted.body.code, 'SK_ERR_NO_GRANT');
            assert.equal((await a.call(op, 'POST', '/v1/grants', { machine: 'reader', project: 'p' })).status, 201);
            assert.equal((await readOnB(m)).status, 200);
            // 3. A canary tripped through A locks the project: the next read on B answers 423.
            const trip = await a.call(intruder, 'GET', '/v1/projects/p/secrets/decoy');
            assert.equal(trip.status, 200, 'the decoy is answered like a value');
            const locked = await readOnB(m);
            assert.equal(locked.status, 423);
            assert.equal(locked.body.code, 'SK_ERR_PROJECT_LOCKED');
            assert.equal((await a.call(op, 'POST', '/v1/projects/p/unlock', { reason: 'drill' })).status, 200);
            assert.equal((await readOnB(m)).status, 200);
            // 4. A machine disabled through A: its next request on B is refused (authentication on B reads the counter first).
            assert.equal((await a.call(op, 'POST', '/v1/machines/reader/disable')).status, 200);
            const refused = await readOnB(m);
            assert.equal(refused.body.code, 'SK_ERR_MACHINE_DISABLED');
            assert.equal((await a.call(op, 'POST', '/v1/machines/reader/enable')).status, 200);
            assert.equal((await readOnB(m)).body.value, 'second');
        }
        finally {
            await b.app.close();
            await a.close();
        }
    });
});
//# sourceMappingURL=hot-path-caches.test.js.map