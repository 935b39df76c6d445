import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { UNFINISHED_ROTATION_STATES } from '../../vault-server/store/database.js';
import { ROTATION_STATES } from '../../protocol/api-types.js';
import { isUniqueViolation } from '../../vault-server/store/locks.js';
import { forEachStore, seedSecret } from '../support/stores.js';
const ALL_ROTATION_STATES = ROTATION_STATES;
const FINISHED = ALL_ROTATION_STATES.filter((s) => !UNFINISHED_ROTATION_STATES.includes(s));
async function addRotation(store, secretId, state, kind = 'rotate') {
    const id = randomUUID();
    await store.db.insertInto('rotations').values({
        id, secret_id: secretId, policy_id: null, kind, state, pending_version_id: null, claimed_by: null, lease_until: null,
        error: null, error_code: null, created_at: Date.now(), claimed_at: null, applied_at: null, finished_at: null, not_before: null, details: null,
    }).execute();
    return id;
}
const fails = (p) => p.then(() => undefined, (err) => err ?? new Error('rejected without an error'));
async function addVersion(store, secretId, version, state) {
    const id = randomUUID();
    await store.db.insertInto('secret_versions').values({
        id, secret_id: secretId, version, state, ciphertext: randomBytes(40), wrapped_data_key: randomBytes(60), project_key_version: 1,
        created_at: Date.now(), promoted_at: null, created_by: 'test',
    }).execute();
    return id;
}
forEachStore('store: constraints', ({ open }) => {
    test('refuses a second unfinished rotation for one secret and allows one after the first finished', async () => {
        const store = await open();
        const { secretId } = await seedSecret(store);
        const { secretId: otherSecret } = await seedSecret(store);
        const first = await addRotation(store, secretId, 'pending');
        const second = await fails(addRotation(store, secretId, 'pending'));
        assert.ok(second instanceof Error, 'a second pending rotation was accepted');
        assert.equal(isUniqueViolation(second), true);
        // Another secret is not affected.
        await addRotation(store, otherSecret, 'pending');
        await store.db.updateTable('rotations').set({ state: 'promoted', finished_at: Date.now() }).where('id', '=', first).execute();
        await addRotation(store, secretId, 'pending');
        const finishedCount = await store.db.selectFrom('rotations').select('id').where('secret_id', '=', secretId).execute();
        assert.equal(finishedCount.length, 2);
    });
    test('every unfinished state blocks a new rotation, every finished state does not, whatever the kind', async () => {
        const store = await open();
        for (const state of ALL_ROTATION_STATES) {
            for (const kind of ['rotate', 'retire', 'preflight']) {
                const { secretId } = await seedSecret(store);
                await addRotation(store, secretId, state, kind);
                const next = await fails(addRotation(store, secretId, 'pending', 'rotate'));
                if (FINISHED.includes(state)) {
                    assert.equal(next, undefined, `a ${kind} job in state ${state} blocked a new rotation`);
                }
                else {
                    assert.ok(isUniqueViolation(next), `a ${kind} job in state ${state} did not block a new rotation`);
                }
            }
        }
        assert.deepEqual([...UNFINISHED_ROTATION_STATES].sort(), ['applied', 'claimed', 'pending', 'stuck']);
    });
    test('the unfinished-rotation index decides between concurrent inserts: exactly one wins', async () => {
        const store = await open();
        const { secretId } = await seedSecret(store);
        const results = await Promise.all(Array.from({ length: 10 }, () => fails(addRotation(store, secretId, 'pending'))));
        assert.equal(results.filter((r) => r === undefined).length, 1);
        assert.ok(results.filter((r) => r !== undefined).every(isUniqueViolation));
    });
    test('a secret has at most one live version; demoting the old one first makes room', async () => {
        const store = await open();
        const { secretId } = await seedSecret(store);
        const v1 = await addVersion(store, secretId, 1, 'live');
        assert.ok(isUniqueViolation(await fails(addVersion(store, secretId, 2, 'live'))), 'a second live version was accepted');
        assert.ok(isUniqueViolation(await fails(addVersion(store, secretId, 1, 'pending'))), 'a duplicate version number was accepted');
        await addVersion(store, secretId, 2, 'pending');
        await store.db.updateTable('secret_versions').set({ state: 'previous' }).where('id', '=', v1).execute();
        await store.db.updateTable('secret_versions').set({ state: 'live' }).where('secret_id', '=', secretId).where('version', '=', 2).execute();
        const live = await store.db.selectFrom('secret_versions').select('version').where('secret_id', '=', secretId).where('state', '=', 'live').execute();
        assert.deepEqual(live, [{ version: 2 }]);
    });
    test('flags accept only 0 and 1', async () => {
        const store = await open();
        const { secretId } = await seedSecret(store);
        const bad = await fails(store.db.updateTable('secrets').set({ is_canary: 2 }).where('id', '=', secretId).execute());
        assert.ok(bad instanceof Error && /check/i.test(bad.message), String(bad));
    });
    test('a deleted secret takes its versions, grants and rotations with it', async () => {
        const store = await open();
        const { projectId, secretId } = await seedSecret(store);
        await addVersion(store, secretId, 1, 'live');
        await addRotation(store, secretId, 'failed');
        const machineId = randomUUID();
        await store.db.insertInto('machines').values({
            id: machineId, name: `m-${machineId}`, public_key: randomBytes(32), key_id: `kid-${machineId}`, labels: '[]', status: 'active',
            expires_at: null, ip_allowlist: null, country_allowlist: null, time_window: null, constraints: null, created_via: 'operator',
            created_by: null, last_seen_at: null, disabled_at: null, created_at: Date.now(),
        }).execute();
        await store.db.insertInto('grants').values({ id: randomUUID(), machine_id: machineId, project_id: projectId, secret_id: secretId, fields: null, created_at: Date.now() }).execute();
        await store.db.deleteFrom('secrets').where('id', '=', secretId).execute();
        for (const table of ['secret_versions', 'rotations', 'grants']) {
            const left = await store.db.selectFrom(table).select('secret_id').where('secret_id', '=', secretId).execute();
            assert.deepEqual(left, [], table);
        }
    });
});
//# sourceMappingURL=store-constraints.test.js.map