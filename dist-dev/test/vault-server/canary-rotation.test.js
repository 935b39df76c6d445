// Rotation in a project a canary locked (DESIGN §5): no new claims, but a credential the agent has
// already applied to the database is still confirmed, so it is never stranded; machine reads stay
// 423 until an operator unlocks, and then return that confirmed credential. The agent protocol is
// driven directly with signed calls (no real database is needed to prove the vault's half).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { auditEvents, codeOf, projectLock } from '../support/canary-fixtures.js';
forEachStore('canary and rotation', (s) => {
    test('a locked project refuses new rotation claims but records the confirm of an applied credential; reads stay 423 until unlocked', async () => {
        const v = await startTestVault(await s.open());
        try {
            const op = v.operator;
            const ok = async (res, status = 200) => {
                const r = await res;
                assert.equal(r.status, status, r.raw);
                return r;
            };
            await ok(v.call(op, 'POST', '/v1/projects', { name: 'rot' }), 201);
            await ok(v.call(op, 'PUT', '/v1/projects/rot/secrets/db', { fields: { host: '127.0.0.1', port: '5432', username: 'app', password: 'rot-live-password-1' } }));
            await ok(v.call(op, 'PUT', '/v1/projects/rot/secrets/admin', { fields: { host: '127.0.0.1', port: '5432', username: 'postgres', password: 'rot-admin-password' } }));
            await ok(v.call(op, 'POST', '/v1/projects/rot/canaries', { name: 'db-replica', fields: { host: '127.0.0.1', port: '5432', username: 'replica', password: 'rot-decoy-password' } }), 201);
            const agent = await v.addMachine('rot-agent');
            const reader = await v.addMachine('rot-reader');
            const intruder = await v.addMachine('rot-intruder');
            await ok(v.call(op, 'POST', '/v1/grants', { machine: 'rot-agent', project: 'rot', secret: 'admin' }), 201);
            await ok(v.call(op, 'POST', '/v1/grants', { machine: 'rot-reader', project: 'rot' }), 201);
            await ok(v.call(op, 'POST', '/v1/grants', { machine: 'rot-intruder', project: 'rot' }), 201);
            await ok(v.call(op, 'PUT', '/v1/projects/rot/secrets/db/rotation', { provider: 'postgres', agent: 'rot-agent', adminSecret: 'admin' }));
            // A rotation is claimed and applied by the agent before the canary trips.
            const first = (await ok(v.call(op, 'POST', '/v1/projects/rot/secrets/db/rotation/run'), 202)).body;
            const claim = (await ok(v.call(agent, 'POST', `/v1/agent/rotations/${first.id}/claim`))).body;
            assert.ok(claim.pendingPassword, 'the claim carries the new credential');
            await ok(v.call(agent, 'POST', `/v1/agent/rotations/${first.id}/applied`, { fence: claim.fence }));
            await ok(v.call(intruder, 'GET', '/v1/projects/rot/secrets/db-replica'));
            assert.equal((await projectLock(v, 'rot')).locked, true);
            // The confirm of the applied credential is recorded although the project is locked…
            const confirm = await ok(v.call(agent, 'POST', `/v1/agent/rotations/${first.id}/confirm`, { fence: claim.fence }));
            assert.deepEqual(confirm.body, { id: first.id, state: 'promoted', version: 2 });
            const status = (await ok(v.call(op, 'GET', '/v1/projects/rot/secrets/db/rotation'))).body;
            assert.equal(status.state, 'promoted');
            assert.equal(status.version, 2);
            // …while reads stay refused.
            const locked = await v.call(reader, 'GET', '/v1/projects/rot/secrets/db');
            assert.equal(locked.status, 423);
            assert.equal(codeOf(locked), 'SK_ERR_PROJECT_LOCKED');
            // A new rotation may be created but not claimed, and the agent is not offered it.
            const second = (await ok(v.call(op, 'POST', '/v1/projects/rot/secrets/db/rotation/run'), 202)).body;
            const refused = await v.call(agent, 'POST', `/v1/agent/rotations/${second.id}/claim`);
            assert.equal(refused.status, 423);
            assert.equal(codeOf(refused), 'SK_ERR_PROJECT_LOCKED');
            assert.equal((await v.call(agent, 'GET', '/v1/agent/rotations')).status, 204);
            // Unlocked: machines read the credential that was confirmed while locked; claims work again.
            await ok(v.call(op, 'POST', '/v1/projects/rot/unlock', { reason: 'canary investigated' }));
            const after = (await ok(v.call(reader, 'GET', '/v1/projects/rot/secrets/db'))).body;
            assert.equal(after.version, 2);
            assert.equal(after.fields.password === claim.pendingPassword, true, 'the confirmed credential is the one machines read');
            const jobs = (await ok(v.call(agent, 'GET', '/v1/agent/rotations'))).body;
            assert.deepEqual(jobs.jobs.map((j) => j.id), [second.id]);
            await ok(v.call(agent, 'POST', `/v1/agent/rotations/${second.id}/claim`));
            const actions = (await auditEvents(v, 'rotation.applied', 'canary.tripped', 'rotation.succeeded', 'project.unlock', 'rotation.claimed')).map((e) => e.action);
            assert.deepEqual(actions, ['rotation.claimed', 'rotation.applied', 'canary.tripped', 'rotation.succeeded', 'project.unlock', 'rotation.claimed']);
            assert.equal((await v.call(op, 'GET', '/v1/audit/verify')).body.ok, true);
        }
        finally {
            await v.close();
        }
    });
});
//# sourceMappingURL=canary-rotation.test.js.map