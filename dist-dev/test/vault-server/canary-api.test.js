// Canary secrets through the HTTP API, on both stores: creation and listing, indistinguishability
// from real secrets, what a trip locks and records, batches, a failing trip, concurrent trips,
// and unlocking.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { auditEvents, codeOf, machineStatus, projectLock, serveOverHttp } from '../support/canary-fixtures.js';
forEachStore('canary secrets', (s) => {
    let v;
    let served;
    before(async () => {
        v = await startTestVault(await s.open());
        served = await serveOverHttp(v);
    });
    after(async () => {
        served.close();
        await v.close();
    });
    const ok = async (res, status = 200) => {
        const r = await res;
        assert.equal(r.status, status, r.raw);
        return r;
    };
    const project = (name) => ok(v.call(v.operator, 'POST', '/v1/projects', { name }), 201);
    const secret = (p, name, body) => ok(v.call(v.operator, 'PUT', `/v1/projects/${p}/secrets/${name}`, body));
    const canary = (p, body) => ok(v.call(v.operator, 'POST', `/v1/projects/${p}/canaries`, body), 201);
    const grant = (machine, body) => ok(v.call(v.operator, 'POST', '/v1/grants', { machine, ...body }), 201);
    const read = (key, p, name) => v.call(key, 'GET', `/v1/projects/${p}/secrets/${name}`);
    const trips = async () => (await v.metrics.canaryTrips.get()).values.reduce((n, x) => n + x.value, 0);
    test('an operator creates a canary like a secret, and only operators see which secrets are canaries', async () => {
        await project('make');
        await secret('make', 'real-one', { value: 'real-value' });
        const plain = await canary('make', { name: 'fake-one', value: 'decoy-value' });
        assert.deepEqual({ ...plain.body.canary, createdAt: 0 }, { project: 'make', name: 'fake-one', kind: 'plain', version: 1, lockMachineProjects: false, createdAt: 0 });
        const structured = await canary('make', { name: 'fake-db', fields: { username: 'u', password: 'decoy-pw' }, lockMachineProjects: true });
        assert.equal(structured.body.canary['kind'], 'structured');
        // A name in use, real or canary, is refused: a real secret never silently becomes a canary.
        for (const name of ['real-one', 'fake-one']) {
            const dup = await v.call(v.operator, 'POST', '/v1/projects/make/canaries', { name, value: 'x' });
            assert.equal(dup.status, 409);
            assert.equal(codeOf(dup), 'SK_ERR_CONFLICT');
        }
        for (const body of [{ name: 'c1' }, { name: 'c2', value: 'a', fields: { a: 'b' } }, { name: 'c3', value: 'a', extra: true }, { name: '../x', value: 'a' }, { name: 'c4', value: 'a', lockMachineProjects: 'yes' }]) {
            const bad = await v.call(v.operator, 'POST', '/v1/projects/make/canaries', body);
            assert.equal(bad.status, 400, JSON.stringify(body));
            assert.equal(codeOf(bad), 'SK_ERR_VALIDATION');
        }
        assert.equal(codeOf(await v.call(v.operator, 'POST', '/v1/projects/nope/canaries', { name: 'c', value: 'a' })), 'SK_ERR_NOT_FOUND');
        // Operators: `secret list` marks canaries, with otherwise the same fields; `canary list` shows the settings.
        const list = (await ok(v.call(v.operator, 'GET', '/v1/projects/make/secrets'))).body.secrets;
        const byName = Object.fromEntries(list.map((x) => [x['name'], x]));
        assert.equal(byName['fake-one']?.['isCanary'], true);
        assert.equal(byName['fake-db']?.['isCanary'], true);
        assert.equal(byName['real-one']?.['isCanary'], false);
        assert.deepEqual(Object.keys(byName['fake-one'] ?? {}).sort(), Object.keys(byName['real-one'] ?? {}).sort());
        assert.equal(byName['fake-one']?.['version'], byName['real-one']?.['version']);
        const canaries = (await ok(v.call(v.operator, 'GET', '/v1/projects/make/canaries'))).body.canaries;
        assert.deepEqual(canaries.map((c) => [c['name'], c['lockMachineProjects']]), [['fake-db', true], ['fake-one', false]]);
        const created = await auditEvents(v, 'canary.create');
        assert.deepEqual(created.map((e) => e.target), ['secret:make/fake-one', 'secret:make/fake-db']);
        assert.equal(JSON.stringify(created).includes('decoy-'), false, 'no decoy value in the audit trail');
        // Machines: no listing route at all, the same answer for any project; no canary routes either.
        const m = await v.addMachine('make-reader');
        await grant('make-reader', { project: 'make' });
        for (const target of ['/v1/projects/make/secrets', '/v1/projects/make/canaries']) {
            const res = await v.call(m, 'GET', target);
            assert.equal(res.status, 401);
            assert.equal(codeOf(res), 'SK_ERR_SIGNATURE_UNKNOWN_KEY');
        }
        assert.equal(codeOf(await v.call(m, 'POST', '/v1/projects/make/canaries', { name: 'm1', value: 'a' })), 'SK_ERR_SIGNATURE_UNKNOWN_KEY');
    });
    test('a machine cannot tell a canary from a real secret by status, body, headers or audit action', async () => {
        const kinds = [
            { p: 'look-plain', real: { value: 'real-value-0123456789' }, decoy: { value: 'fake-value-9876543210' } },
            { p: 'look-fields', real: { fields: { username: 'app', password: 'real-pw-0123456789' } }, decoy: { fields: { username: 'app', password: 'fake-pw-9876543210' } } },
        ];
        for (const k of kinds) {
            await project(k.p);
            // Same-length names and values, so even Content-Length matches; each created the same way a user would.
            await secret(k.p, 'token-a', k.real);
            await canary(k.p, { name: 'token-b', ...k.decoy });
            const mName = `${k.p}-m`;
            const key = await v.addMachine(mName);
            await grant(mName, { project: k.p });
            const client = served.client(key);
            const real = await client.request('GET', `/v1/projects/${k.p}/secrets/token-a`);
            const decoy = await client.request('GET', `/v1/projects/${k.p}/secrets/token-b`);
            assert.equal(decoy.status, real.status);
            // Body: the same keys in the same order, the same types, version 1 like any new secret.
            assert.deepEqual(Object.keys(decoy.body), Object.keys(real.body));
            for (const field of Object.keys(real.body))
                assert.equal(typeof decoy.body[field], typeof real.body[field], field);
            assert.equal(decoy.body['version'], 1);
            assert.equal(real.body['version'], 1);
            assert.deepEqual(decoy.body, { project: k.p, name: 'token-b', version: 1, ...k.decoy });
            assert.deepEqual(real.body, { project: k.p, name: 'token-a', version: 1, ...k.real });
            // Headers: the same names, and the same values except the date.
            assert.deepEqual(Object.keys(decoy.headers).sort(), Object.keys(real.headers).sort());
            for (const h of Object.keys(real.headers)) {
                if (h === 'date')
                    continue;
                assert.equal(decoy.headers[h], real.headers[h], `header ${h}`);
            }
            // The same audit action for both reads, with the same detail keys (only operators see audit).
            const readEvents = (await auditEvents(v, 'secret.read')).filter((e) => e.target.startsWith(`secret:${k.p}/`) && e.outcome === 'success');
            assert.deepEqual(readEvents.map((e) => [e.target, Object.keys(e.details).sort().join(',')]), [[`secret:${k.p}/token-a`, 'version'], [`secret:${k.p}/token-b`, 'version']]);
            // Now the project is locked: real and canary answer the very same 423.
            const afterReal = await read(key, k.p, 'token-a');
            const afterDecoy = await read(key, k.p, 'token-b');
            assert.equal(afterReal.status, 403, 'the tripping machine itself is disabled');
            const other = await v.addMachine(`${k.p}-other`);
            await grant(`${k.p}-other`, { project: k.p });
            const lockedReal = await read(other, k.p, 'token-a');
            const lockedDecoy = await read(other, k.p, 'token-b');
            assert.equal(lockedReal.status, 423);
            assert.equal(lockedDecoy.status, 423);
            assert.equal(lockedDecoy.raw, lockedReal.raw);
            assert.deepEqual(Object.keys(lockedDecoy.headers).sort(), Object.keys(lockedReal.headers).sort());
            assert.deepEqual(afterDecoy.body, afterReal.body);
        }
    });
    test('a machine without a grant on the canary is refused like any ungranted read and trips nothing', async () => {
        await project('stray');
        await secret('stray', 'granted', { value: 'g' });
        await secret('stray', 'other', { value: 'o' });
        await canary('stray', { name: 'bait', value: 'decoy-stray', lockMachineProjects: true });
        const m = await v.addMachine('stray-m');
        await grant('stray-m', { project: 'stray', secret: 'granted' });
        const outsider = await v.addMachine('stray-outsider');
        const tripsBefore = await trips();
        const onCanary = await read(m, 'stray', 'bait');
        const onReal = await read(m, 'stray', 'other');
        assert.equal(onCanary.status, 403);
        assert.equal(codeOf(onCanary), 'SK_ERR_NO_GRANT');
        assert.equal(onCanary.raw, onReal.raw);
        assert.equal(codeOf(await read(outsider, 'stray', 'bait')), 'SK_ERR_NO_GRANT');
        const batch = await ok(v.call(m, 'POST', '/v1/secrets:batchGet', { items: [{ project: 'stray', name: 'bait' }, { project: 'stray', name: 'granted' }] }));
        assert.deepEqual(batch.body.results.map((r) => r.status), [403, 200]);
        assert.deepEqual(await projectLock(v, 'stray'), { locked: false, lockedReason: null });
        assert.equal(await machineStatus(v, 'stray-m'), 'active');
        assert.equal(await trips(), tripsBefore);
        assert.equal((await auditEvents(v, 'canary.tripped')).some((e) => e.target === 'secret:stray/bait'), false);
    });
    test('reading a canary locks its project, disables the machine and records canary.tripped (critical) with machine, project, time and source', async () => {
        await project('trip');
        await project('trip-side');
        await secret('trip', 'db', { value: 'real-trip' });
        await secret('trip-side', 'x', { value: 'side-value' });
        await canary('trip', { name: 'old-backup-key', value: 'decoy-trip-marker' });
        const m = await v.addMachine('trip-m');
        const other = await v.addMachine('trip-other');
        await grant('trip-m', { project: 'trip' });
        await grant('trip-m', { project: 'trip-side' });
        await grant('trip-other', { project: 'trip' });
        const tripsBefore = await trips();
        const t0 = Date.now();
        const res = await ok(read(m, 'trip', 'old-backup-key'));
        assert.deepEqual(res.body, { project: 'trip', name: 'old-backup-key', version: 1, value: 'decoy-trip-marker' });
        assert.deepEqual(await projectLock(v, 'trip'), { locked: true, lockedReason: 'canary old-backup-key read by machine trip-m' });
        assert.deepEqual(await projectLock(v, 'trip-side'), { locked: false, lockedReason: null }, 'without --lock-machine-projects only the canary\'s project locks');
        assert.equal(await machineStatus(v, 'trip-m'), 'disabled');
        assert.equal(await trips(), tripsBefore + 1);
        const locked = await read(other, 'trip', 'db');
        assert.equal(locked.status, 423);
        assert.equal(codeOf(locked), 'SK_ERR_PROJECT_LOCKED');
        assert.equal(codeOf(await read(m, 'trip-side', 'x')), 'SK_ERR_MACHINE_DISABLED');
        const [event, ...more] = (await auditEvents(v, 'canary.tripped')).filter((e) => e.target === 'secret:trip/old-backup-key');
        assert.ok(event);
        assert.equal(more.length, 0);
        assert.equal(event.actorKind, 'machine');
        assert.ok(event.at >= t0 && event.at <= Date.now());
        assert.ok(typeof event.sourceIp === 'string' && event.sourceIp.length > 0);
        assert.equal(event.outcome, 'success');
        const machineId = (await v.ctx.store.db.selectFrom('machines').select('id').where('name', '=', 'trip-m').executeTakeFirstOrThrow()).id;
        assert.equal(event.actorId, machineId);
        assert.deepEqual(event.details, {
            severity: 'critical', machineId, machine: 'trip-m', project: 'trip', secret: 'old-backup-key', sourceIp: event.sourceIp,
            lockedProjects: ['trip'], machineDisabled: true,
        });
        // In one transaction and in this order: the trip, the lock, then the read itself.
        const chain = (await auditEvents(v)).filter((e) => e.seq >= event.seq && e.seq <= event.seq + 3);
        assert.deepEqual(chain.map((e) => [e.action, e.target, e.outcome]), [
            ['canary.tripped', 'secret:trip/old-backup-key', 'success'], ['project.lock', 'project:trip', 'success'],
            ['machine.disable', 'machine:trip-m', 'success'], ['secret.read', 'secret:trip/old-backup-key', 'success'],
        ]);
        // Never the decoy in a log line or an audit event; the log line names the trip.
        assert.equal(v.logs.some((l) => l.includes('decoy-trip-marker')), false);
        assert.equal(JSON.stringify(await auditEvents(v)).includes('decoy-trip-marker'), false);
        assert.ok(v.logs.some((l) => l.includes('canary tripped') && l.includes('"critical"') && l.includes('trip-m')));
    });
    test('with lockMachineProjects a trip locks every project the machine holds a grant on, and no other', async () => {
        for (const p of ['wide-a', 'wide-b', 'wide-c', 'wide-d']) {
            await project(p);
            await secret(p, 's', { value: `${p}-value` });
        }
        await canary('wide-a', { name: 'wide-bait', value: 'decoy-wide', lockMachineProjects: true });
        const m = await v.addMachine('wide-m');
        await grant('wide-m', { project: 'wide-a' });
        await grant('wide-m', { project: 'wide-b' });
        await grant('wide-m', { project: 'wide-c', secret: 's' });
        const other = await v.addMachine('wide-other');
        for (const p of ['wide-a', 'wide-b', 'wide-c', 'wide-d'])
            await grant('wide-other', { project: p });
        await ok(read(m, 'wide-a', 'wide-bait'));
        for (const p of ['wide-a', 'wide-b', 'wide-c']) {
            assert.equal((await projectLock(v, p)).locked, true, p);
            assert.equal(codeOf(await read(other, p, 's')), 'SK_ERR_PROJECT_LOCKED', p);
        }
        assert.equal((await projectLock(v, 'wide-b')).lockedReason, 'canary wide-a/wide-bait read by machine wide-m');
        assert.equal((await projectLock(v, 'wide-d')).locked, false);
        assert.equal((await ok(read(other, 'wide-d', 's'))).status, 200);
        const event = (await auditEvents(v, 'canary.tripped')).find((e) => e.target === 'secret:wide-a/wide-bait');
        assert.deepEqual([...event?.details['lockedProjects']].sort(), ['wide-a', 'wide-b', 'wide-c']);
        const locks = (await auditEvents(v, 'project.lock')).filter((e) => e.details['canary'] === 'wide-a/wide-bait');
        assert.deepEqual(locks.map((e) => e.target).sort(), ['project:wide-a', 'project:wide-b', 'project:wide-c']);
    });
    test('a canary read in a project that is locked already answers 423 like any read there and is audited as a denied canary attempt', async () => {
        await project('twice');
        await secret('twice', 'real', { value: 'real-twice' });
        await canary('twice', { name: 'bait', value: 'decoy-twice' });
        const first = await v.addMachine('twice-first');
        const second = await v.addMachine('twice-second');
        await grant('twice-first', { project: 'twice' });
        await grant('twice-second', { project: 'twice' });
        await ok(read(first, 'twice', 'bait'));
        const tripsBefore = await trips();
        const onCanary = await read(second, 'twice', 'bait');
        const onReal = await read(second, 'twice', 'real');
        assert.equal(onCanary.status, 423);
        assert.equal(onCanary.raw, onReal.raw);
        assert.equal(await machineStatus(v, 'twice-second'), 'active', 'nothing tripped a second time');
        assert.equal(await trips(), tripsBefore);
        assert.equal((await auditEvents(v, 'canary.tripped')).filter((e) => e.target === 'secret:twice/bait').length, 1);
        const denied = (await auditEvents(v, 'secret.read')).filter((e) => e.outcome === 'denied' && e.target.startsWith('secret:twice/'));
        assert.deepEqual(denied.map((e) => [e.target, e.details]), [
            ['secret:twice/bait', { code: 'SK_ERR_PROJECT_LOCKED', canary: true, severity: 'critical' }],
            ['secret:twice/real', { code: 'SK_ERR_PROJECT_LOCKED' }],
        ]);
    });
    test('a batch that includes a canary trips it first: every item of the locked project answers 423, other projects are served', async () => {
        await project('batch-a');
        await project('batch-b');
        for (const n of ['r1', 'r2'])
            await secret('batch-a', n, { value: `batch-a-${n}` });
        await secret('batch-b', 'x', { value: 'batch-b-x' });
        await canary('batch-a', { name: 'bait', value: 'decoy-batch' });
        const m = await v.addMachine('batch-m');
        await grant('batch-m', { project: 'batch-a' });
        await grant('batch-m', { project: 'batch-b' });
        const startSeq = (await auditEvents(v)).at(-1)?.seq ?? 0;
        const res = await ok(v.call(m, 'POST', '/v1/secrets:batchGet', {
            items: [{ project: 'batch-a', name: 'r1' }, { project: 'batch-b', name: 'x' }, { project: 'batch-a', name: 'bait' }, { project: 'batch-a', name: 'r2' }],
        }));
        const results = res.body.results;
        assert.deepEqual(results.map((r) => r.status), [423, 200, 423, 423]);
        assert.equal(results[1]?.value, 'batch-b-x');
        assert.deepEqual([results[0], results[2], results[3]].map((r) => r?.error?.code), ['SK_ERR_PROJECT_LOCKED', 'SK_ERR_PROJECT_LOCKED', 'SK_ERR_PROJECT_LOCKED']);
        assert.equal(res.raw.includes('decoy-batch'), false);
        assert.equal(res.raw.includes('batch-a-r'), false);
        const events = (await auditEvents(v)).filter((e) => e.seq > startSeq);
        const trip = events.find((e) => e.action === 'canary.tripped');
        assert.ok(trip);
        assert.equal(trip.target, 'secret:batch-a/bait');
        // The trip comes before every item's event; no item of the locked project was served.
        for (const e of events.filter((x) => x.action === 'secret.read'))
            assert.ok(e.seq > trip.seq, `${e.target} before the trip`);
        assert.deepEqual(events.filter((e) => e.action === 'secret.read').map((e) => [e.target, e.outcome]), [
            ['secret:batch-a/r1', 'denied'], ['secret:batch-b/x', 'success'], ['secret:batch-a/bait', 'denied'], ['secret:batch-a/r2', 'denied'],
        ]);
        assert.equal(await machineStatus(v, 'batch-m'), 'disabled');
        assert.equal((await v.call(v.operator, 'GET', '/v1/audit/verify')).body.ok, true);
    });
    test('when the trip\'s audit write fails, the read returns no value and nothing is locked or disabled', async () => {
        await project('fail');
        await canary('fail', { name: 'bait', value: 'decoy-fail-marker' });
        const m = await v.addMachine('fail-m');
        await grant('fail-m', { project: 'fail' });
        const db = v.ctx.store.db;
        if (s.dialect === 'postgres') {
            await sql `create function sk_test_fail_trip() returns trigger language plpgsql as $$ begin if new.action = 'canary.tripped' then raise exception 'injected audit failure'; end if; return new; end $$`.execute(db);
            await sql `create trigger sk_test_fail_trip before insert on audit_events for each row execute function sk_test_fail_trip()`.execute(db);
        }
        else {
            await sql `create trigger sk_test_fail_trip before insert on audit_events when new.action = 'canary.tripped' begin select raise(abort, 'injected audit failure'); end`.execute(db);
        }
        const tripsBefore = await trips();
        try {
            const res = await read(m, 'fail', 'bait');
            assert.equal(res.status, 500);
            assert.equal(codeOf(res), 'SK_ERR_INTERNAL');
            assert.equal(res.raw.includes('decoy-fail-marker'), false);
            assert.deepEqual(await projectLock(v, 'fail'), { locked: false, lockedReason: null });
            assert.equal(await machineStatus(v, 'fail-m'), 'active');
            assert.equal(await trips(), tripsBefore);
            assert.equal((await auditEvents(v, 'secret.read', 'project.lock')).some((e) => e.target.includes('fail')), false);
        }
        finally {
            await sql `drop trigger sk_test_fail_trip${sql.raw(s.dialect === 'postgres' ? ' on audit_events' : '')}`.execute(db);
            if (s.dialect === 'postgres')
                await sql `drop function sk_test_fail_trip()`.execute(db);
        }
        // With the audit writable again, the same read trips and answers.
        assert.equal((await ok(read(m, 'fail', 'bait'))).body.value, 'decoy-fail-marker');
        assert.equal((await projectLock(v, 'fail')).locked, true);
        assert.equal((await v.call(v.operator, 'GET', '/v1/audit/verify')).body.ok, true);
    });
    test('two canary trips at once, with batch reads across the same projects: four rounds, each with exactly one trip, and no deadlock', async () => {
        for (let round = 0; round < 4; round++) {
            const a = `dl${round}-a`;
            const b = `dl${round}-b`;
            await project(a);
            await project(b);
            await secret(a, 'x', { value: 'va' });
            await secret(b, 'x', { value: 'vb' });
            await canary(a, { name: 'bait', value: 'decoy-a', lockMachineProjects: true });
            await canary(b, { name: 'bait', value: 'decoy-b', lockMachineProjects: true });
            const t1 = await v.addMachine(`dl${round}-t1`);
            const t2 = await v.addMachine(`dl${round}-t2`);
            const r = await v.addMachine(`dl${round}-r`);
            for (const m of ['t1', 't2', 'r']) {
                await grant(`dl${round}-${m}`, { project: a });
                await grant(`dl${round}-${m}`, { project: b });
            }
            const rc = served.client(r);
            const batch = (items) => rc.request('POST', '/v1/secrets:batchGet', { items });
            const [c1, c2, ...others] = await Promise.allSettled([
                served.client(t1).request('GET', `/v1/projects/${a}/secrets/bait`),
                served.client(t2).request('GET', `/v1/projects/${b}/secrets/bait`),
                batch([{ project: b, name: 'x' }, { project: a, name: 'x' }]),
                batch([{ project: a, name: 'x' }, { project: b, name: 'x' }]),
                batch([{ project: b, name: 'x' }, { project: a, name: 'x' }]),
                rc.request('GET', `/v1/projects/${a}/secrets/x`),
                rc.request('GET', `/v1/projects/${b}/secrets/x`),
            ]);
            const statusOf = (x) => {
                if (x?.status === 'fulfilled')
                    return x.value.status;
                return Number(x?.reason?.details?.httpStatus ?? 0);
            };
            // Exactly one trip wins and locks both projects; the other canary read finds its project locked.
            assert.deepEqual([statusOf(c1), statusOf(c2)].sort(), [200, 423], `round ${round}`);
            for (const o of others)
                assert.ok([200, 423].includes(statusOf(o)), `round ${round}: ${JSON.stringify(o)}`);
            assert.equal((await auditEvents(v, 'canary.tripped')).filter((e) => e.target === `secret:${a}/bait` || e.target === `secret:${b}/bait`).length, 1);
            assert.equal((await projectLock(v, a)).locked, true);
            assert.equal((await projectLock(v, b)).locked, true);
        }
        assert.equal(v.logs.some((l) => /deadlock/i.test(l)), false);
    });
    test('unlock restores reads, the tripping machine stays disabled until enabled, and the episode verifies in the audit chain', async () => {
        await project('episode');
        await secret('episode', 'db', { value: 'episode-value' });
        await canary('episode', { name: 'bait', value: 'decoy-episode' });
        const m = await v.addMachine('episode-m');
        const other = await v.addMachine('episode-other');
        await grant('episode-m', { project: 'episode' });
        await grant('episode-other', { project: 'episode' });
        await ok(read(m, 'episode', 'bait'));
        assert.equal((await read(other, 'episode', 'db')).status, 423);
        const unlocked = await ok(v.call(v.operator, 'POST', '/v1/projects/episode/unlock', { reason: 'investigated: red-team exercise' }));
        assert.equal(unlocked.body.project.locked, false);
        assert.equal((await ok(read(other, 'episode', 'db'))).body.value, 'episode-value');
        assert.equal(codeOf(await read(m, 'episode', 'db')), 'SK_ERR_MACHINE_DISABLED', 'unlocking a project does not re-enable the machine');
        const enabled = await ok(v.call(v.operator, 'POST', '/v1/machines/episode-m/enable'));
        assert.equal(enabled.body.machine.status, 'active');
        assert.equal((await ok(read(m, 'episode', 'db'))).body.value, 'episode-value');
        // The tripwire is armed again.
        await ok(read(other, 'episode', 'bait'));
        assert.equal((await read(m, 'episode', 'db')).status, 423);
        const episode = (await auditEvents(v, 'canary.tripped', 'project.lock', 'machine.disable', 'project.unlock', 'machine.enable'))
            .filter((e) => e.target.includes('episode'));
        assert.deepEqual(episode.map((e) => [e.action, e.target]), [
            ['canary.tripped', 'secret:episode/bait'], ['project.lock', 'project:episode'], ['machine.disable', 'machine:episode-m'],
            ['project.unlock', 'project:episode'], ['machine.enable', 'machine:episode-m'],
            ['canary.tripped', 'secret:episode/bait'], ['project.lock', 'project:episode'], ['machine.disable', 'machine:episode-other'],
        ]);
        assert.deepEqual(episode[3]?.details, { reason: 'investigated: red-team exercise', wasLocked: true });
        assert.equal(episode[3]?.actorKind, 'operator');
        assert.equal(episode[4]?.actorKind, 'operator');
        const verify = await ok(v.call(v.operator, 'GET', '/v1/audit/verify'));
        assert.equal(verify.body.ok, true);
        // Enabling is for disabled machines: a machine waiting for approval is approved instead.
        await v.ctx.store.db.updateTable('machines').set({ status: 'pending_approval' }).where('name', '=', 'episode-other').execute();
        const pending = await v.call(v.operator, 'POST', '/v1/machines/episode-other/enable');
        assert.equal(pending.status, 409);
        assert.equal(codeOf(pending), 'SK_ERR_CONFLICT');
    });
});
//# sourceMappingURL=canary-api.test.js.map