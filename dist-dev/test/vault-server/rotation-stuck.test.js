// A rotation where neither credential works is `stuck`: audited, counted, no more retries, and
// only an operator ends it (`rotation resolve --use pending|live` in the CLI; here its API route,
// with the agent's side driven by signed calls).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
forEachStore('stuck rotations', (s) => {
    let v;
    let agent;
    const fields = { host: 'db.internal', port: '5432', username: 'app', password: 'live-password-0000' };
    before(async () => {
        v = await startTestVault(await s.open());
        await v.call(v.operator, 'POST', '/v1/projects', { name: 'p' });
        await v.call(v.operator, 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...fields, username: 'admin' } });
        agent = await v.addMachine('agent', ['rotator']);
        await v.call(v.operator, 'POST', '/v1/grants', { machine: 'agent', project: 'p', secret: 'admin' });
    });
    after(async () => v.close());
    async function stuckRotation(name) {
        await v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}`, { fields });
        await v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}/rotation`, { provider: 'postgres', agentLabel: 'rotator', adminSecret: 'admin' });
        const id = (await v.call(v.operator, 'POST', `/v1/projects/p/secrets/${name}/rotation/run`)).body.id;
        const claim = await v.call(agent, 'POST', `/v1/agent/rotations/${id}/claim`);
        const { fence, pendingPassword } = claim.body;
        const fail = await v.call(agent, 'POST', `/v1/agent/rotations/${id}/fail`, { fence, code: 'SK_ERR_PROVIDER_AUTH_FAILED', message: 'neither the pending nor the live password logs in', liveVerified: false, neitherWorks: true });
        assert.equal(fail.body.state, 'stuck');
        return { id, pendingPassword };
    }
    test('neither credential works: stuck, audited and counted; no new run, no claim; resolving with use=live discards the pending', async () => {
        const { id } = await stuckRotation('a');
        const status = (await v.call(v.operator, 'GET', '/v1/projects/p/secrets/a/rotation')).body;
        assert.equal(status.state, 'stuck');
        assert.match(status.lastError, /SK_ERR_PROVIDER_AUTH_FAILED/);
        const events = await v.ctx.store.db.selectFrom('audit_events').select('action').where('action', '=', 'rotation.stuck').execute();
        assert.ok(events.length >= 1);
        const stuckCount = (await v.metrics.rotations.get()).values.find((x) => x.labels['result'] === 'stuck')?.value ?? 0;
        assert.ok(stuckCount >= 1, 'the stuck rotation is counted');
        assert.equal((await v.call(v.operator, 'POST', '/v1/projects/p/secrets/a/rotation/run')).status, 409, 'no new rotation while stuck');
        assert.equal((await v.call(agent, 'POST', `/v1/agent/rotations/${id}/claim`)).status, 409, 'nobody retries a stuck rotation');
        const res = await v.call(v.operator, 'POST', '/v1/projects/p/secrets/a/rotation/resolve', { use: 'live' });
        assert.equal(res.body.state, 'failed');
        const versions = (await v.call(v.operator, 'GET', '/v1/projects/p/secrets/a/versions')).body.versions;
        assert.deepEqual(versions.map((x) => [x.version, x.state]), [[2, 'discarded'], [1, 'live']]);
    });
    test('resolving with use=pending promotes the pending credential', async () => {
        await stuckRotation('b');
        const res = await v.call(v.operator, 'POST', '/v1/projects/p/secrets/b/rotation/resolve', { use: 'pending' });
        assert.equal(res.body.state, 'promoted');
        const versions = (await v.call(v.operator, 'GET', '/v1/projects/p/secrets/b/versions')).body.versions;
        assert.deepEqual(versions.map((x) => [x.version, x.state]), [[2, 'live'], [1, 'previous']]);
        const audit = await v.ctx.store.db.selectFrom('audit_events').select('action').where('action', '=', 'rotation.resolved').execute();
        assert.equal(audit.length, 2);
        assert.equal((await v.call(v.operator, 'POST', '/v1/projects/p/secrets/b/rotation/resolve', { use: 'live' })).status, 404, 'nothing left to resolve');
    });
});
//# sourceMappingURL=rotation-stuck.test.js.map