// Rotation in operation, with an injected clock: cron schedules across DST, the scheduler's
// exactly-once creation, retries with backoff, a policy marked failing once, agent liveness.
// The agent's side of the protocol is driven directly with signed calls (no database needed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { nextRun } from '../../vault-server/modules/rotations/rotations-service.js';
import { checkAgentLiveness, runSchedulerTick, NO_AGENT_AFTER_MS } from '../../vault-server/modules/rotations/rotation-scheduler.js';
import { MAX_CONSECUTIVE_FAILURES } from '../../vault-server/modules/rotations/rotations-engine.js';
test('a daily 01:00 Europe/Oslo schedule fires at 01:00 local time on both sides of the spring DST change', () => {
    const fires = [];
    let t = Date.parse('2026-03-27T12:00:00Z');
    for (let i = 0; i < 4; i++) {
        t = nextRun('0 1 * * *', 'Europe/Oslo', t);
        fires.push(new Date(t).toISOString());
    }
    assert.deepEqual(fires, ['2026-03-28T00:00:00.000Z', '2026-03-29T00:00:00.000Z', '2026-03-29T23:00:00.000Z', '2026-03-30T23:00:00.000Z']);
    // An hour that does not exist that night (02:30) fires once, at 03:00 CEST; an hour that happens
    // twice in autumn (02:30 on 25 October) fires once.
    assert.equal(new Date(nextRun('30 2 * * *', 'Europe/Oslo', Date.parse('2026-03-28T12:00:00Z'))).toISOString(), '2026-03-29T01:00:00.000Z');
    const autumn = [Date.parse('2026-10-24T12:00:00Z')];
    for (let i = 0; i < 2; i++)
        autumn.push(nextRun('30 2 * * *', 'Europe/Oslo', autumn[autumn.length - 1]));
    assert.deepEqual(autumn.slice(1).map((x) => new Date(x).toISOString()), ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
});
forEachStore('rotation operations', (s) => {
    let clock = Date.parse('2026-03-27T12:00:00Z');
    let v;
    let agent;
    const op = () => v.operator;
    const db = { host: 'db.internal', port: '5432', username: 'app', password: 'live-password-aaaa', database: 'app' };
    before(async () => {
        v = await startTestVault(await s.open(), { now: () => clock });
        await v.call(op(), 'POST', '/v1/projects', { name: 'p' });
        await v.call(op(), 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...db, username: 'admin', password: 'admin-password' } });
        agent = await v.addMachine('agent', ['rotator']);
        await v.call(op(), 'POST', '/v1/grants', { machine: 'agent', project: 'p', secret: 'admin' });
    });
    after(async () => v.close());
    async function policy(name, extra = {}) {
        await v.call(op(), 'PUT', `/v1/projects/p/secrets/${name}`, { fields: db });
        const res = await v.call(op(), 'PUT', `/v1/projects/p/secrets/${name}/rotation`, { provider: 'postgres', agentLabel: 'rotator', adminSecret: 'admin', ...extra });
        assert.equal(res.status, 200, res.raw);
        return res.body.policy;
    }
    async function rotations(name) {
        return v.ctx.store.db.selectFrom('rotations').innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
            .select(['rotations.id as id', 'rotations.kind as kind', 'rotations.state as state', 'rotations.not_before as not_before', 'rotations.details as details'])
            .where('secrets.name', '=', name).orderBy('rotations.created_at').execute();
    }
    async function finish(id) {
        await v.ctx.store.db.updateTable('rotations').set({ state: 'promoted', finished_at: clock }).where('id', '=', id).execute();
    }
    test('setting a rotation policy creates a preflight job; the agent\'s report becomes the job\'s result (failed, with the problem)', async () => {
        const { preflightId } = await policy('pf');
        assert.ok(preflightId);
        const claim = await v.call(agent, 'POST', `/v1/agent/rotations/${preflightId}/claim`);
        assert.equal(claim.status, 200, claim.raw);
        const job = claim.body;
        assert.equal(job.kind, 'preflight');
        assert.equal('pendingPassword' in job, false, 'a preflight carries no new credential');
        assert.equal('livePassword' in job || 'password' in job.target, false, 'nor the live one');
        assert.deepEqual(job.usernames, ['app']);
        const res = await v.call(agent, 'POST', `/v1/agent/rotations/${preflightId}/preflight`, { fence: job.fence, ok: false, problems: ['admin "admin" lacks CREATEROLE: run ALTER ROLE admin CREATEROLE'] });
        assert.equal(res.status, 200, res.raw);
        const status = await v.call(op(), 'GET', `/v1/rotations/${preflightId}`);
        assert.equal(status.body.state, 'failed');
        assert.match(status.body.error, /lacks CREATEROLE/);
    });
    test('a cron policy creates its rotation at the due instant, once, and stores the next run', async () => {
        clock = Date.parse('2026-03-27T12:00:00Z');
        await policy('cron', { schedule: '0 1 * * *', timezone: 'Europe/Oslo' });
        const expected = ['2026-03-28T00:00:00.000Z', '2026-03-29T00:00:00.000Z', '2026-03-29T23:00:00.000Z'];
        for (const instant of expected) {
            clock = Date.parse(instant) - 1;
            assert.equal((await runSchedulerTick(v.ctx)).created, 0, `nothing due just before ${instant}`);
            clock = Date.parse(instant);
            const before = (await rotations('cron')).filter((r) => r.kind === 'rotate').length;
            await runSchedulerTick(v.ctx);
            await runSchedulerTick(v.ctx); // a second pass in the same instant creates nothing more
            const rows = (await rotations('cron')).filter((r) => r.kind === 'rotate');
            assert.equal(rows.length, before + 1, `exactly one rotation at ${instant}`);
            assert.match(rows[rows.length - 1]?.details ?? '', /"trigger":"schedule"/);
            await finish(rows[rows.length - 1].id);
        }
        const stored = await v.call(op(), 'GET', '/v1/projects/p/secrets/cron/rotation');
        assert.equal(stored.body.nextRunAt, Date.parse('2026-03-30T23:00:00.000Z'));
    });
    test('a due run that finds an unfinished rotation is skipped, and a manual run answers 409 with the running id', async () => {
        const run = await v.call(op(), 'POST', '/v1/projects/p/secrets/cron/rotation/run');
        assert.equal(run.status, 202);
        const id = run.body.id;
        const again = await v.call(op(), 'POST', '/v1/projects/p/secrets/cron/rotation/run');
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, 'SK_ERR_ROTATION_IN_PROGRESS');
        assert.equal(again.body.error.rotationId, id);
        clock = Date.parse('2026-03-30T23:00:00.000Z');
        const tick = await runSchedulerTick(v.ctx);
        assert.equal(tick.created, 0);
        assert.equal(tick.skipped, 1);
        await finish(id);
    });
    test('three proven failures in a row mark the policy failing with one event; retries back off in between', async () => {
        clock = Date.parse('2026-04-01T00:00:00Z');
        await policy('flaky');
        let id = ((await v.call(op(), 'POST', '/v1/projects/p/secrets/flaky/rotation/run')).body).id;
        for (let attempt = 1; attempt <= MAX_CONSECUTIVE_FAILURES; attempt++) {
            const claim = await v.call(agent, 'POST', `/v1/agent/rotations/${id}/claim`);
            assert.equal(claim.status, 200, `attempt ${attempt}: ${claim.raw}`);
            const { fence } = claim.body;
            const fail = await v.call(agent, 'POST', `/v1/agent/rotations/${id}/fail`, { fence, code: 'SK_ERR_PROVIDER_PRIVILEGE', message: 'admin lacks CREATEROLE', liveVerified: true });
            assert.equal(fail.body.state, 'failed');
            const rows = (await rotations('flaky')).filter((r) => r.kind === 'rotate');
            const next = rows.find((r) => r.state === 'pending');
            if (attempt < MAX_CONSECUTIVE_FAILURES) {
                assert.ok(next, `a retry is scheduled after failure ${attempt}`);
                assert.ok((next.not_before ?? 0) > clock, 'the retry waits (backoff)');
                // Not claimable before its time…
                assert.equal((await v.call(agent, 'POST', `/v1/agent/rotations/${next.id}/claim`)).status, 409);
                clock = next.not_before;
                id = next.id;
            }
            else {
                assert.equal(next, undefined, 'no more early retries once failing');
            }
        }
        const events = await v.ctx.store.db.selectFrom('audit_events').select('action').where('action', '=', 'policy.failing').execute();
        assert.equal(events.length, 1);
        const pol = await v.ctx.store.db.selectFrom('rotation_policies').innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id')
            .select(['failing', 'consecutive_failures']).where('secrets.name', '=', 'flaky').executeTakeFirstOrThrow();
        assert.deepEqual(pol, { failing: 1, consecutive_failures: 3 });
        // The live value stayed what it was.
        const versions = (await v.call(op(), 'GET', '/v1/projects/p/secrets/flaky/versions')).body;
        assert.equal(versions.versions.filter((x) => x.state === 'live').length, 1);
        assert.equal(versions.versions.filter((x) => x.state === 'discarded').length, 3);
    });
    test('a policy whose agents have not been seen raises rotation.no_agent once, and agent_back when one returns', async () => {
        clock = Date.parse('2026-05-01T00:00:00Z');
        await v.ctx.store.db.updateTable('machines').set({ last_seen_at: clock - NO_AGENT_AFTER_MS - 1 }).execute();
        const first = await checkAgentLiveness(v.ctx);
        assert.ok(first.missing >= 1);
        await checkAgentLiveness(v.ctx);
        const noAgent = await v.ctx.store.db.selectFrom('audit_events').select('action').where('action', '=', 'rotation.no_agent').execute();
        const policies = await v.ctx.store.db.selectFrom('rotation_policies').select('id').where('enabled', '=', 1).execute();
        assert.equal(noAgent.length, policies.length, 'one event per policy, not one per check');
        await v.ctx.store.db.updateTable('machines').set({ last_seen_at: clock }).execute();
        await checkAgentLiveness(v.ctx);
        const back = await v.ctx.store.db.selectFrom('audit_events').select('action').where('action', '=', 'rotation.agent_back').execute();
        assert.equal(back.length, policies.length);
        assert.equal((await v.call(op(), 'GET', '/v1/audit/verify')).body.ok, true);
    });
});
//# sourceMappingURL=rotation-operations.test.js.map