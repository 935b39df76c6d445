// A rotation agent gets of the admin secret what its grant allows, and a field grant that leaves
// out a connection field is refused at `rotation set` and at claim (SK_ERR_NO_GRANT) — at claim
// before anything is written (no fence, no maybe_applied), the rotation ended failed and
// committed, counted as a proven failure of the policy. A claim is audited as a read of the admin
// secret naming the fields handed over.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connectionFieldsOf } from '../../protocol/engines.js';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
const CONNECTION = ['host', 'port', 'username', 'password', 'database'];
test('connection fields: the shared endpoint plus each engine\'s own', () => {
    assert.ok(['host', 'port', 'username', 'password', 'database', 'tls', 'caFile'].every((f) => connectionFieldsOf('postgres').includes(f)));
    assert.ok(connectionFieldsOf('mongodb').includes('authSource'));
    assert.ok(connectionFieldsOf('mysql').includes('accountHost'));
    assert.ok(['projectRef', 'poolerHost', 'poolerPort'].every((f) => connectionFieldsOf('supabase').includes(f)));
});
forEachStore('rotation field grants', (s) => {
    let v;
    let agent;
    const op = () => v.operator;
    const db = { host: 'db.internal', port: '3306', username: 'app', password: `live-${randomBytes(6).toString('hex')}`, database: 'app' };
    const adminPassword = `admin-${randomBytes(6).toString('hex')}`;
    const adminNote = `note-${randomBytes(6).toString('hex')}`;
    const errorOf = (res) => res.body.error;
    const grant = async (fields) => {
        const res = await v.call(op(), 'POST', '/v1/grants', { machine: 'agent', project: 'p', secret: 'admin', ...(fields ? { fields } : {}) });
        assert.equal(res.status, 201, res.raw);
    };
    const setPolicy = async (name) => v.call(op(), 'PUT', `/v1/projects/p/secrets/${name}/rotation`, { provider: 'mysql', agent: 'agent', adminSecret: 'admin' });
    const run = async (name) => {
        const res = await v.call(op(), 'POST', `/v1/projects/p/secrets/${name}/rotation/run`);
        assert.equal(res.status, 202, res.raw);
        return res.body.id;
    };
    const claim = async (id) => v.call(agent, 'POST', `/v1/agent/rotations/${id}/claim`);
    before(async () => {
        v = await startTestVault(await s.open());
        await v.call(op(), 'POST', '/v1/projects', { name: 'p' });
        await v.call(op(), 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...db, username: 'admin', password: adminPassword, note: adminNote } });
        agent = await v.addMachine('agent');
    });
    after(async () => v.close());
    test('a field grant covering every connection field: the claim hands over only the granted fields, audited as a read of the admin secret', async () => {
        await grant(CONNECTION);
        await v.call(op(), 'PUT', '/v1/projects/p/secrets/covered', { fields: db });
        assert.equal((await setPolicy('covered')).status, 200);
        const id = await run('covered');
        const res = await claim(id);
        assert.equal(res.status, 200, res.raw);
        const admin = res.body.admin;
        assert.deepEqual(Object.keys(admin).sort(), [...CONNECTION].sort());
        assert.equal(admin.password, adminPassword);
        assert.equal(res.raw.includes(adminNote), false, 'an ungranted field is not handed over');
        const reads = await v.ctx.store.db.selectFrom('audit_events').select(['details', 'actor_id']).where('action', '=', 'secret.read').where('target', '=', 'secret:p/admin').execute();
        const read = reads.map((r) => JSON.parse(r.details)).find((d) => d.rotationId === id);
        assert.ok(read, `a secret.read of the admin secret for ${id}: ${JSON.stringify(reads)}`);
        assert.deepEqual(read.fields, [...CONNECTION].sort());
    });
    test('`rotation set` refuses an agent whose field grant leaves out a connection field the admin secret holds', async () => {
        await grant(['host', 'port', 'username', 'password']);
        await v.call(op(), 'PUT', '/v1/projects/p/secrets/partial', { fields: db });
        const res = await setPolicy('partial');
        assert.equal(res.status, 403, res.raw);
        assert.equal(errorOf(res).code, 'SK_ERR_NO_GRANT');
        assert.match(errorOf(res).message, /database/);
        const policies = await v.ctx.store.db.selectFrom('rotation_policies').innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id').select('rotation_policies.id').where('secrets.name', '=', 'partial').execute();
        assert.equal(policies.length, 0, 'no policy was stored');
    });
    test('a claim under a grant narrowed later is refused before anything is handed out, and ends failed, committed, as a proven failure', async () => {
        await grant(CONNECTION);
        await v.call(op(), 'PUT', '/v1/projects/p/secrets/narrowed', { fields: db });
        assert.equal((await setPolicy('narrowed')).status, 200);
        const id = await run('narrowed');
        await grant(['host', 'port', 'username']); // the password of the admin is no longer granted
        const res = await claim(id);
        assert.equal(res.status, 403, res.raw);
        assert.equal(errorOf(res).code, 'SK_ERR_NO_GRANT');
        assert.match(errorOf(res).message, /password/);
        assert.equal(res.raw.includes(adminPassword), false);
        assert.equal(res.raw.includes(db.password), false);
        const row = await v.ctx.store.db.selectFrom('rotations').select(['state', 'error_code', 'fence', 'maybe_applied', 'finished_at', 'pending_version_id']).where('id', '=', id).executeTakeFirstOrThrow();
        assert.equal(row.state, 'failed', 'the ending was committed although the claim answered an error');
        assert.equal(row.error_code, 'SK_ERR_NO_GRANT');
        assert.equal(row.fence, 0, 'no fence was taken');
        assert.equal(row.maybe_applied, 0, 'nothing may have been applied');
        assert.ok(row.finished_at);
        assert.ok(row.pending_version_id);
        const pending = await v.ctx.store.db.selectFrom('secret_versions').select('state').where('id', '=', row.pending_version_id).executeTakeFirstOrThrow();
        assert.equal(pending.state, 'discarded');
        const policy = await v.ctx.store.db.selectFrom('rotation_policies').innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id')
            .select(['rotation_policies.consecutive_failures as failures', 'secrets.id as secretId']).where('secrets.name', '=', 'narrowed').executeTakeFirstOrThrow();
        assert.equal(policy.failures, 1, 'counted as a proven failure of the policy');
        const retry = await v.ctx.store.db.selectFrom('rotations').select(['id', 'state']).where('secret_id', '=', policy.secretId).where('state', '=', 'pending').execute();
        assert.equal(retry.length, 1, 'a retry is scheduled, as after any proven failure');
        const reads = await v.ctx.store.db.selectFrom('audit_events').select('details').where('action', '=', 'secret.read').where('target', '=', 'secret:p/admin').execute();
        assert.equal(reads.some((r) => r.details.includes(id)), false, 'nothing was read');
        const failed = await v.ctx.store.db.selectFrom('audit_events').select('details').where('action', '=', 'rotation.failed').execute();
        assert.ok(failed.some((r) => r.details.includes(id) && r.details.includes('SK_ERR_NO_GRANT')));
        // Widened again, the retry is handed out.
        await grant();
        await v.ctx.store.db.updateTable('rotations').set({ not_before: null }).where('id', '=', retry[0].id).execute();
        assert.equal((await claim(retry[0].id)).status, 200);
    });
});
//# sourceMappingURL=rotation-field-grants.test.js.map