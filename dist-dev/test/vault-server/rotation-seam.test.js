// The vault's half of the agent–provider seam: each job kind ends in its own success state
// (migration 0003 renames old rows), a claim carries only its kind's fields, the flavour a
// preflight reports decides which strategies a policy may use (at `rotation set` and at claim), and
// an undo the database refused leaves the rotation stuck and the policy failing. The agent's side
// is driven directly with signed calls (no database needed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Migrator } from 'kysely';
import { FLAVOURS } from '../../protocol/engines.js';
import { CodeMigrationProvider } from '../../vault-server/store/migrations/index.js';
import { failOutcome, MAX_UNPROVEN_ATTEMPTS } from '../../vault-server/modules/rotations/rotation-rules.js';
import { runSchedulerTick } from '../../vault-server/modules/rotations/rotation-scheduler.js';
import { forEachStore, seedSecret } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
test('failOutcome: the state each failure report leads to', () => {
    const last = MAX_UNPROVEN_ATTEMPTS;
    const cases = [
        // a preflight changed nothing: failed, whatever the report says
        [{ kind: 'preflight', attempt: 1 }, { liveVerified: false }, 'failed'],
        [{ kind: 'preflight', attempt: last }, { liveVerified: false, neitherWorks: true }, 'failed'],
        [{ kind: 'preflight', attempt: 1 }, { liveVerified: true, undoRefused: true }, 'failed'],
        // rotate: live proven → failed; nothing proven → retried, then stuck
        [{ kind: 'rotate', attempt: 1 }, { liveVerified: true }, 'failed'],
        [{ kind: 'rotate', attempt: last }, { liveVerified: true }, 'failed'],
        [{ kind: 'rotate', attempt: 1 }, { liveVerified: false }, 'pending'],
        [{ kind: 'rotate', attempt: last - 1 }, { liveVerified: false }, 'pending'],
        [{ kind: 'rotate', attempt: last }, { liveVerified: false }, 'stuck'],
        [{ kind: 'rotate', attempt: 1 }, { liveVerified: false, neitherWorks: true }, 'stuck'],
        // an undo the database refused: stuck, even though live was proven (it works only as the retained one)
        [{ kind: 'rotate', attempt: 1 }, { liveVerified: true, undoRefused: true }, 'stuck'],
        [{ kind: 'rotate', attempt: 1 }, { liveVerified: false, undoRefused: true }, 'stuck'],
        [{ kind: 'rotate', attempt: 1 }, { liveVerified: true, undoRefused: false }, 'failed'],
        // retire: never failed (the old password may be gone or not): retried, then stuck
        [{ kind: 'retire', attempt: 1 }, { liveVerified: true }, 'pending'],
        [{ kind: 'retire', attempt: 1 }, { liveVerified: false }, 'pending'],
        [{ kind: 'retire', attempt: last }, { liveVerified: true }, 'stuck'],
        [{ kind: 'retire', attempt: 1 }, { liveVerified: false, neitherWorks: true }, 'stuck'],
        [{ kind: 'retire', attempt: 1 }, { liveVerified: true, undoRefused: true }, 'stuck'],
        // nothing changed and nothing may have been applied before (e.g. the provider could not load): failed
        [{ kind: 'rotate', attempt: 1 }, { liveVerified: false, untouched: true }, 'failed'],
        [{ kind: 'rotate', attempt: last }, { liveVerified: false, untouched: true }, 'failed'],
        [{ kind: 'retire', attempt: 1 }, { liveVerified: false, untouched: true }, 'failed'],
        [{ kind: 'rotate', attempt: 1 }, { liveVerified: false, untouched: true, undoRefused: true }, 'stuck'],
    ];
    for (const [row, body, expected] of cases) {
        assert.equal(failOutcome(row, body), expected, `${JSON.stringify(row)} ${JSON.stringify(body)}`);
    }
    // A whole FailBody is accepted as it is.
    const whole = { fence: 3, code: 'SK_ERR_ROTATION_UNDO_REFUSED', message: 'x', liveVerified: true, undoRefused: true };
    assert.equal(failOutcome({ kind: 'rotate', attempt: 2 }, whole), 'stuck');
});
forEachStore('migration 0003', (s) => {
    test('old promoted preflight and retire rows become preflight_passed and retired; policies gain flavour and server_version', async () => {
        const loc = await s.freshLocation();
        const raw = await s.openAt(loc, { migrate: false });
        const to0002 = await new Migrator({ db: raw.db, provider: new CodeMigrationProvider(s.dialect) }).migrateTo('0002-rotation-operations');
        assert.equal(to0002.error, undefined, String(to0002.error));
        const { secretId } = await seedSecret(raw);
        const { secretId: adminId } = await seedSecret(raw);
        const policyId = randomUUID();
        const now = Date.now();
        // Written as a 0002 store would hold it (no flavour columns yet).
        await raw.db.insertInto('rotation_policies').values({
            id: policyId, secret_id: secretId, provider: 'mysql', strategy: 'dual', schedule: null, timezone: null, agent_machine_id: null,
            agent_label: 'rotator', admin_secret_id: adminId, password_policy: null, grace_ms: 0, enabled: 1, next_run_at: null,
            alternate_username: null, created_at: now, updated_at: now, no_agent_since: null, primary_username: null,
        }).execute();
        const rows = [
            ['preflight', 'promoted'], ['retire', 'promoted'], ['rotate', 'promoted'],
            ['preflight', 'failed'], ['retire', 'failed'], ['rotate', 'failed'], ['preflight', 'cancelled'],
        ];
        const ids = [];
        for (const [kind, state] of rows) {
            const id = randomUUID();
            ids.push(id);
            await raw.db.insertInto('rotations').values({
                id, secret_id: secretId, policy_id: policyId, kind, state: state, pending_version_id: null, claimed_by: null, lease_until: null,
                error: null, error_code: null, created_at: now, claimed_at: null, applied_at: null, finished_at: now, not_before: null, details: null,
            }).execute();
        }
        const migrated = await s.openAt(loc);
        const after = await migrated.db.selectFrom('rotations').select(['id', 'kind', 'state']).where('secret_id', '=', secretId).execute();
        const stateOf = new Map(after.map((r) => [r.id, r.state]));
        assert.deepEqual(ids.map((id) => stateOf.get(id)), ['preflight_passed', 'retired', 'promoted', 'failed', 'failed', 'failed', 'cancelled']);
        const policy = await migrated.db.selectFrom('rotation_policies').select(['flavour', 'server_version']).where('id', '=', policyId).executeTakeFirstOrThrow();
        assert.deepEqual(policy, { flavour: null, server_version: null });
        await migrated.db.updateTable('rotation_policies').set({ flavour: 'mariadb', server_version: '10.11.6-MariaDB' }).where('id', '=', policyId).execute();
        assert.deepEqual(await migrated.db.selectFrom('rotation_policies').select(['flavour', 'server_version']).where('id', '=', policyId).executeTakeFirstOrThrow(), { flavour: 'mariadb', server_version: '10.11.6-MariaDB' });
        // And back down: the renamed rows are promoted again, the columns gone.
        const down = await new Migrator({ db: migrated.db, provider: new CodeMigrationProvider(s.dialect) }).migrateTo('0002-rotation-operations');
        assert.equal(down.error, undefined, String(down.error));
        const reverted = await migrated.db.selectFrom('rotations').select(['id', 'state']).where('secret_id', '=', secretId).execute();
        const revertedState = new Map(reverted.map((r) => [r.id, r.state]));
        assert.deepEqual(ids.slice(0, 3).map((id) => revertedState.get(id)), ['promoted', 'promoted', 'promoted']);
        const columns = (await migrated.db.introspection.getTables()).find((t) => t.name === 'rotation_policies')?.columns.map((c) => c.name) ?? [];
        assert.equal(columns.includes('flavour'), false);
    });
});
forEachStore('rotation seam', (s) => {
    let v;
    let agent;
    const op = () => v.operator;
    const db = { host: 'db.internal', port: '3306', username: 'app', password: `live-${randomBytes(6).toString('hex')}`, database: 'app' };
    const adminPassword = `admin-${randomBytes(6).toString('hex')}`;
    before(async () => {
        v = await startTestVault(await s.open());
        await v.call(op(), 'POST', '/v1/projects', { name: 'p' });
        await v.call(op(), 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...db, username: 'admin', password: adminPassword } });
        agent = await v.addMachine('agent', ['rotator']);
        await v.call(op(), 'POST', '/v1/grants', { machine: 'agent', project: 'p', secret: 'admin' });
    });
    after(async () => v.close());
    const errorOf = (res) => res.body.error;
    async function setPolicy(name, extra = {}) {
        return v.call(op(), 'PUT', `/v1/projects/p/secrets/${name}/rotation`, { provider: 'mysql', agentLabel: 'rotator', adminSecret: 'admin', ...extra });
    }
    async function policy(name, extra = {}) {
        await v.call(op(), 'PUT', `/v1/projects/p/secrets/${name}`, { fields: db });
        const res = await setPolicy(name, extra);
        assert.equal(res.status, 200, res.raw);
        return res.body.policy;
    }
    async function claim(id) {
        return v.call(agent, 'POST', `/v1/agent/rotations/${id}/claim`);
    }
    async function claimed(id) {
        const res = await claim(id);
        assert.equal(res.status, 200, res.raw);
        return res.body;
    }
    async function run(name) {
        const res = await v.call(op(), 'POST', `/v1/projects/p/secrets/${name}/rotation/run`);
        assert.equal(res.status, 202, res.raw);
        return res.body.id;
    }
    async function job(id) {
        return (await v.call(op(), 'GET', `/v1/rotations/${id}`)).body;
    }
    async function stored(name) {
        return v.ctx.store.db.selectFrom('rotation_policies').innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id')
            .select(['rotation_policies.flavour as flavour', 'rotation_policies.server_version as serverVersion', 'rotation_policies.failing as failing', 'rotation_policies.strategy as strategy'])
            .where('secrets.name', '=', name).executeTakeFirstOrThrow();
    }
    /** Changes a stored policy behind the API's back (a state the API reaches only by a race). */
    async function patchPolicy(name, values) {
        const secret = await v.ctx.store.db.selectFrom('secrets').select('id').where('name', '=', name).executeTakeFirstOrThrow();
        await v.ctx.store.db.updateTable('rotation_policies').set(values).where('secret_id', '=', secret.id).execute();
    }
    async function versions(name) {
        const body = (await v.call(op(), 'GET', `/v1/projects/p/secrets/${name}/versions`)).body;
        return body.versions.map((x) => [x.version, x.state]);
    }
    async function preflight(id, body) {
        const { fence } = await claimed(id);
        const res = await v.call(agent, 'POST', `/v1/agent/rotations/${id}/preflight`, { fence, ...body });
        assert.equal(res.status, 200, res.raw);
        return res.body;
    }
    test('claim payloads: a preflight gets no user password, a rotate gets pending and live, a retire live and old but no pending', async () => {
        // preflight
        const { preflightId } = await policy('payloads', { provider: 'redis', strategy: 'dual' });
        assert.ok(preflightId);
        const pf = await claim(preflightId);
        assert.equal(pf.status, 200, pf.raw);
        const pfJob = pf.body;
        assert.equal(pfJob.kind, 'preflight');
        assert.deepEqual(pfJob.usernames, ['app']);
        assert.deepEqual(pfJob.target, { host: db.host, port: db.port, username: db.username, database: db.database }, 'the target without its password');
        for (const field of ['pendingPassword', 'livePassword', 'retirePassword', 'maybeApplied', 'username'])
            assert.equal(field in pfJob, false, `a preflight has no ${field}`);
        assert.equal(pfJob.flavour, null, 'no preflight has reported a flavour yet');
        assert.equal(pf.raw.includes(db.password), false, 'the live password is nowhere in a preflight claim');
        assert.equal(pfJob.admin.password, adminPassword, 'the admin credential is there: the agent connects with it');
        const pfDone = await v.call(agent, 'POST', `/v1/agent/rotations/${preflightId}/preflight`, { fence: pfJob.fence, ok: true, problems: [], flavour: 'redis', serverVersion: '7.2.4' });
        assert.deepEqual(pfDone.body, { id: preflightId, state: 'preflight_passed' });
        const pfView = await job(preflightId);
        assert.equal(pfView.state, 'preflight_passed');
        assert.equal(typeof pfView.latencyMs, 'number', 'a passed preflight has a latency like a promoted rotation');
        // rotate
        const rotateId = await run('payloads');
        const rot = await claimed(rotateId);
        assert.equal(rot.kind, 'rotate');
        assert.equal(rot.livePassword, db.password);
        assert.equal(typeof rot.pendingPassword, 'string');
        assert.notEqual(rot.pendingPassword, db.password);
        assert.equal(rot.username, 'app');
        assert.equal(rot.maybeApplied, false);
        assert.equal(rot.flavour, 'redis', 'the stored flavour travels with the job');
        assert.equal(rot.target.password, db.password, 'a rotate job verifies against the live fields');
        for (const field of ['retirePassword', 'usernames'])
            assert.equal(field in rot, false, `a rotate job has no ${field}`);
        const confirmed = await v.call(agent, 'POST', `/v1/agent/rotations/${rotateId}/confirm`, { fence: rot.fence });
        assert.deepEqual(confirmed.body, { id: rotateId, state: 'promoted', version: 2 });
        // retire (dual, grace 0: due at once)
        const retire = await v.ctx.store.db.selectFrom('rotations').innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
            .select(['rotations.id as id', 'rotations.state as state']).where('secrets.name', '=', 'payloads').where('rotations.kind', '=', 'retire').executeTakeFirstOrThrow();
        assert.equal(retire.state, 'pending');
        const ret = await claim(retire.id);
        assert.equal(ret.status, 200, ret.raw);
        const retJob = ret.body;
        assert.equal(retJob.kind, 'retire');
        assert.equal(retJob.username, 'app');
        assert.equal(retJob.livePassword, rot.pendingPassword, 'the live password is the one just promoted');
        assert.equal(retJob.retirePassword, db.password, 'the old password is the one to remove');
        for (const field of ['pendingPassword', 'maybeApplied', 'usernames'])
            assert.equal(field in retJob, false, `a retire job has no ${field}`);
        const retDone = await v.call(agent, 'POST', `/v1/agent/rotations/${retire.id}/confirm`, { fence: retJob.fence });
        assert.deepEqual(retDone.body, { id: retire.id, state: 'retired' });
        const again = await v.call(agent, 'POST', `/v1/agent/rotations/${retire.id}/confirm`, { fence: retJob.fence });
        assert.deepEqual(again.body, { id: retire.id, state: 'retired' }, 'a repeated confirm is answered the same');
        assert.equal((await job(retire.id)).state, 'retired');
        const audit = await v.ctx.store.db.selectFrom('audit_events').select('action').where('action', 'in', ['rotation.retire_succeeded', 'rotation.preflight_passed']).execute();
        assert.deepEqual(audit.map((a) => a.action).sort(), ['rotation.preflight_passed', 'rotation.retire_succeeded'], 'audit action names are unchanged');
        const results = (await v.metrics.rotations.get()).values.map((x) => `${x.labels['kind']}:${x.labels['result']}`);
        for (const label of ['preflight:preflight_passed', 'rotate:promoted', 'retire:retired'])
            assert.ok(results.includes(label), `${label} in ${results.join(',')}`);
    });
    test('a rotate job without a pending version is refused at claim, with nothing changed', async () => {
        await policy('nopending');
        const id = await run('nopending');
        const before = await v.ctx.store.db.selectFrom('rotations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        await v.ctx.store.db.updateTable('rotations').set({ pending_version_id: null }).where('id', '=', id).execute();
        const res = await claim(id);
        assert.equal(res.status, 409, res.raw);
        assert.equal(errorOf(res).code, 'SK_ERR_ROTATION_STATE');
        const after = await v.ctx.store.db.selectFrom('rotations').select(['state', 'fence', 'maybe_applied']).where('id', '=', id).executeTakeFirstOrThrow();
        assert.deepEqual(after, { state: 'pending', fence: before.fence, maybe_applied: 0 });
        await v.ctx.store.db.updateTable('rotations').set({ state: 'cancelled', finished_at: Date.now() }).where('id', '=', id).execute();
    });
    test('a preflight that reports MariaDB is stored; `rotation set --strategy dual` is then refused at once, in the table\'s words', async () => {
        const { preflightId } = await policy('maria');
        assert.ok(preflightId);
        assert.deepEqual(await preflight(preflightId, { ok: true, problems: [], flavour: 'mariadb', serverVersion: '10.11.6-MariaDB' }), { id: preflightId, state: 'preflight_passed' });
        assert.deepEqual(await stored('maria'), { flavour: 'mariadb', serverVersion: '10.11.6-MariaDB', failing: 0, strategy: 'single' });
        const dual = await setPolicy('maria', { strategy: 'dual' });
        assert.equal(dual.status, 400, dual.raw);
        assert.equal(errorOf(dual).code, 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED');
        assert.equal(errorOf(dual).message, FLAVOURS.mariadb.refused.dual);
        assert.equal((await stored('maria')).strategy, 'single', 'the refused update changed nothing');
        // Another update of the same provider keeps what the preflight found…
        const alt = await setPolicy('maria', { strategy: 'alternating', alternateUsername: 'app_b' });
        assert.equal(alt.status, 200, alt.raw);
        assert.equal(alt.body.policy.flavour, 'mariadb');
        assert.equal((await stored('maria')).flavour, 'mariadb');
        // …a new provider forgets it, and going back to mysql does not bring it back.
        assert.equal((await setPolicy('maria', { provider: 'redis' })).status, 200);
        assert.deepEqual(await stored('maria'), { flavour: null, serverVersion: null, failing: 0, strategy: 'single' });
        assert.equal((await setPolicy('maria', { strategy: 'dual' })).status, 200, 'mysql before any preflight: dual may run (MySQL 8)');
    });
    test('the preflight of a dual policy that finds MariaDB (or an old MySQL 8) fails with the refusal among its problems', async () => {
        const { preflightId } = await policy('maria-dual', { strategy: 'dual' });
        assert.ok(preflightId);
        assert.equal((await preflight(preflightId, { ok: true, problems: [], flavour: 'mariadb', serverVersion: '11.4.2-MariaDB' })).state, 'failed');
        let view = await job(preflightId);
        assert.equal(view.errorCode, 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', 'the only problem is the strategy');
        assert.equal(view.error, FLAVOURS.mariadb.refused.dual);
        assert.equal((await stored('maria-dual')).flavour, 'mariadb', 'stored although the preflight failed');
        // With a privilege problem too: SK_ERR_PROVIDER_PRIVILEGE, both problems listed (the agent's words once).
        const again = await setPolicy('maria-dual', { strategy: 'single' });
        const pf2 = again.body.policy.preflightId;
        await patchPolicy('maria-dual', { strategy: 'dual' });
        assert.equal((await preflight(pf2, { ok: false, problems: ['admin lacks CREATE USER', FLAVOURS.mariadb.refused.dual ?? ''], flavour: 'mariadb', serverVersion: '11.4.2' })).state, 'failed');
        view = await job(pf2);
        assert.equal(view.errorCode, 'SK_ERR_PROVIDER_PRIVILEGE');
        assert.equal(view.error, `admin lacks CREATE USER; ${FLAVOURS.mariadb.refused.dual}`);
        await patchPolicy('maria-dual', { strategy: 'single' });
        // The agent reads the same table and reports the refusal itself, prefixed with the version:
        // listed once, and still the only kind of problem.
        const { preflightId: byAgent } = await policy('maria-agent', { strategy: 'dual' });
        assert.ok(byAgent);
        const agentWords = `10.11.6-MariaDB: ${FLAVOURS.mariadb.refused.dual}`;
        assert.equal((await preflight(byAgent, { ok: false, problems: [agentWords], flavour: 'mariadb', serverVersion: '10.11.6-MariaDB' })).state, 'failed');
        view = await job(byAgent);
        assert.equal(view.errorCode, 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED');
        assert.equal(view.error, agentWords);
        // MySQL 8 below 8.0.14 has no RETAIN CURRENT PASSWORD.
        const { preflightId: old } = await policy('mysql-old', { strategy: 'dual' });
        assert.ok(old);
        assert.equal((await preflight(old, { ok: true, problems: [], flavour: 'mysql8', serverVersion: '8.0.13' })).state, 'failed');
        view = await job(old);
        assert.equal(view.errorCode, 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED');
        assert.match(view.error ?? '', /needs MySQL 8 8\.0\.14 or later; the server is 8\.0\.13/);
        const { preflightId: recent } = await policy('mysql-new', { strategy: 'dual' });
        assert.ok(recent);
        assert.equal((await preflight(recent, { ok: true, problems: [], flavour: 'mysql8', serverVersion: '8.0.36' })).state, 'preflight_passed');
        // A flavour of another engine is a problem, and is not stored.
        const { preflightId: odd } = await policy('odd');
        assert.ok(odd);
        assert.equal((await preflight(odd, { ok: true, problems: [], flavour: 'redis', serverVersion: '7.2' })).state, 'failed');
        assert.match((await job(odd)).error ?? '', /Redis server, which provider mysql does not speak to/);
        assert.equal((await stored('odd')).flavour, null);
        // An unknown flavour is refused by the route.
        const { preflightId: bad } = await policy('bad-flavour');
        assert.ok(bad);
        const { fence } = await claimed(bad);
        assert.equal((await v.call(agent, 'POST', `/v1/agent/rotations/${bad}/preflight`, { fence, ok: true, problems: [], flavour: 'oracle' })).status, 400);
    });
    test('a dual rotation claimed under a stored MariaDB flavour is refused and ends failed, committed, pending discarded', async () => {
        // An operator set dual before the first preflight came back (the vault could not know).
        const { preflightId } = await policy('late', { strategy: 'dual' });
        assert.ok(preflightId);
        await preflight(preflightId, { ok: true, problems: [], flavour: 'mariadb', serverVersion: '10.11.6-MariaDB' });
        const id = await run('late');
        const res = await claim(id);
        assert.equal(res.status, 400, res.raw);
        assert.equal(errorOf(res).code, 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED');
        assert.match(errorOf(res).message, /MariaDB has no retained second password/);
        assert.equal(res.raw.includes(db.password), false, 'the refusal carries no credential');
        const row = await v.ctx.store.db.selectFrom('rotations').select(['state', 'error_code', 'error', 'fence', 'finished_at']).where('id', '=', id).executeTakeFirstOrThrow();
        assert.equal(row.state, 'failed', 'the ending was committed although the claim answered an error');
        assert.equal(row.error_code, 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED');
        assert.equal(row.error, FLAVOURS.mariadb.refused.dual);
        assert.equal(row.fence, 0, 'nothing was handed out');
        assert.ok(row.finished_at);
        assert.deepEqual(await versions('late'), [[2, 'discarded'], [1, 'live']]);
        const events = await v.ctx.store.db.selectFrom('audit_events').select(['action', 'details']).where('action', '=', 'rotation.failed').execute();
        assert.ok(events.some((e) => e.details.includes(id) && e.details.includes('refusedAtClaim')));
        assert.equal((await claim(id)).status, 409, 'a failed rotation is not claimable');
        // Nothing retries it on its own; the operator switches strategy and the next run is handed out.
        assert.equal((await v.ctx.store.db.selectFrom('rotations').innerJoin('secrets', 'secrets.id', 'rotations.secret_id').select('rotations.id')
            .where('secrets.name', '=', 'late').where('rotations.state', '=', 'pending').execute()).length, 0);
        assert.equal((await setPolicy('late', { strategy: 'alternating', alternateUsername: 'app_b' })).status, 200);
        const next = await run('late'); // supersedes the unclaimed preflight
        assert.equal((await claimed(next)).kind, 'rotate');
    });
    test('a rotation an earlier claim may have applied is not discarded by the refusal: it is stuck', async () => {
        await policy('late-applied', { strategy: 'dual' });
        const id = await run('late-applied');
        await v.ctx.store.db.updateTable('rotations').set({ maybe_applied: 1 }).where('id', '=', id).execute();
        await patchPolicy('late-applied', { flavour: 'mariadb' });
        const res = await claim(id);
        assert.equal(errorOf(res).code, 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED');
        assert.equal((await job(id)).state, 'stuck');
        assert.deepEqual(await versions('late-applied'), [[2, 'pending'], [1, 'live']]);
        assert.equal((await v.call(op(), 'POST', '/v1/projects/p/secrets/late-applied/rotation/resolve', { use: 'live' })).status, 200);
    });
    test('an undo the database refused: stuck, the policy failing (one event), no new rotation until resolve', async () => {
        await policy('undo', { strategy: 'dual' });
        const failingEvents = async () => (await v.ctx.store.db.selectFrom('audit_events').select('details')
            .where('action', '=', 'policy.failing').execute()).filter((e) => e.details.includes('undo refused')).length;
        const id = await run('undo');
        const { fence } = await claimed(id);
        const body = { fence, code: 'SK_ERR_ROTATION_UNDO_REFUSED', message: 'ALTER USER … IDENTIFIED BY <live> refused: password reuse policy', liveVerified: true, undoRefused: true };
        const fail = await v.call(agent, 'POST', `/v1/agent/rotations/${id}/fail`, body);
        assert.equal(fail.status, 200, fail.raw);
        assert.deepEqual(fail.body, { id, state: 'stuck' });
        const view = await job(id);
        assert.equal(view.state, 'stuck');
        assert.equal(view.errorCode, 'SK_ERR_ROTATION_UNDO_REFUSED');
        assert.equal((await stored('undo')).failing, 1);
        assert.equal(await failingEvents(), 1);
        assert.deepEqual(await versions('undo'), [[2, 'pending'], [1, 'live']], 'nothing discarded: an operator decides');
        const again = await v.call(op(), 'POST', '/v1/projects/p/secrets/undo/rotation/run');
        assert.equal(again.status, 409);
        assert.equal(errorOf(again).code, 'SK_ERR_ROTATION_IN_PROGRESS');
        assert.equal((await claim(id)).status, 409, 'nobody retries it');
        const undoSecret = await v.ctx.store.db.selectFrom('secrets').select('id').where('name', '=', 'undo').executeTakeFirstOrThrow();
        await v.ctx.store.db.updateTable('rotation_policies').set({ next_run_at: Date.now() - 1, schedule: '* * * * *' }).where('secret_id', '=', undoSecret.id).execute();
        const tick = await runSchedulerTick(v.ctx);
        assert.equal(tick.created, 0, 'the schedule creates nothing either');
        const resolved = await v.call(op(), 'POST', '/v1/projects/p/secrets/undo/rotation/resolve', { use: 'pending' });
        assert.deepEqual(resolved.body, { id, state: 'promoted', version: 2 });
        const next = await run('undo');
        const second = await claimed(next);
        await v.call(agent, 'POST', `/v1/agent/rotations/${next}/fail`, { ...body, fence: second.fence });
        assert.equal((await job(next)).state, 'stuck');
        assert.equal(await failingEvents(), 1, 'an already failing policy is not announced again');
        await v.call(op(), 'POST', '/v1/projects/p/secrets/undo/rotation/resolve', { use: 'live' });
        assert.equal((await job(next)).state, 'failed');
        assert.equal((await v.call(op(), 'GET', '/v1/audit/verify')).body.ok, true);
    });
});
//# sourceMappingURL=rotation-seam.test.js.map