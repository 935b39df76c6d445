// Enrollment tokens on both stores: a fleet machine registers itself with a token (its own key
// signs the registration), gets the token's grants, labels and lifetime, and every way a
// registration can be wrong is refused with its own code — under concurrency too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { codeOf, createToken, enroll, enrollBody, messageOf } from '../support/enrollment.js';
import { generateIdentityKey } from '../../protocol/keys.js';
const HOUR = 3_600_000;
forEachStore('machine enrollment', (s) => {
    let v;
    let clock = Date.now();
    before(async () => {
        v = await startTestVault(await s.open(), { now: () => clock });
        assert.equal((await v.call(v.operator, 'POST', '/v1/projects', { name: 'ci' })).status, 201);
        assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/ci/secrets/deploy-key', { value: 'deploy-key-value-1' })).status, 200);
        assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/ci/secrets/other', { value: 'other-value-1' })).status, 200);
    });
    after(async () => v.close());
    test('an enrolled machine is active at once with the token\'s grants, labels, lifetime and name', async () => {
        const t = await createToken(v, 'enrollment', {
            project: 'ci', secrets: ['deploy-key'], labels: ['ci', 'linux'], machineLifetime: '2h', hostnameRegex: 'runner-[0-9]+',
            sourceCidrs: ['127.0.0.0/8'], nameTemplate: 'ci-{hostname}-{n}', maxUses: 10,
        });
        assert.match(t.token, /^ske_[A-Za-z0-9_-]{43}$/);
        const { key, res } = await enroll(v, t.token, { hostname: 'runner-7' });
        assert.equal(res.status, 201, res.raw);
        const m = res.body;
        assert.deepEqual(Object.keys(m).sort(), ['expiresAt', 'keyId', 'machineId', 'name', 'status']);
        assert.equal(m.name, 'ci-runner-7-1');
        assert.equal(m.keyId, key.keyId);
        assert.equal(m.status, 'active');
        assert.equal(m.expiresAt, clock + 2 * HOUR);
        const read = await v.call(key, 'GET', '/v1/projects/ci/secrets/deploy-key');
        assert.equal(read.status, 200, read.raw);
        assert.equal(read.body.value, 'deploy-key-value-1');
        assert.equal(codeOf(await v.call(key, 'GET', '/v1/projects/ci/secrets/other')), 'SK_ERR_NO_GRANT');
        const list = (await v.call(v.operator, 'GET', '/v1/machines')).body;
        const row = list.machines.find((x) => x.name === 'ci-runner-7-1');
        assert.deepEqual(row?.labels, ['ci', 'linux']);
        assert.equal(row?.createdVia, 'enrollment_token');
        const second = await enroll(v, t.token, { hostname: 'runner-8' });
        assert.equal(second.res.body.name, 'ci-runner-8-2', 'the {n} placeholder counts uses');
    });
    test('a token is shown once: the store holds its SHA-256 only, and the audit log never the token', async () => {
        const t = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h' });
        const row = await v.ctx.store.db.selectFrom('enrollment_tokens').selectAll().where('id', '=', t.id).executeTakeFirstOrThrow();
        assert.equal(row.token_hash, createHash('sha256').update(t.token).digest('hex'));
        assert.equal(JSON.stringify(row).includes(t.token.slice(4)), false);
        const listed = JSON.stringify((await v.call(v.operator, 'GET', '/v1/enrollment-tokens')).body);
        assert.ok(listed.includes(t.id));
        assert.equal(listed.includes(t.token.slice(4)), false);
        assert.equal(listed.includes(row.token_hash), false);
        await enroll(v, t.token);
        const audit = await v.ctx.store.db.selectFrom('audit_events').selectAll().execute();
        assert.ok(audit.some((e) => e.action === 'enrollment_token.create' && e.target === `enrollment_token:${t.id}`));
        assert.equal(JSON.stringify(audit).includes(t.token.slice(4)), false, 'a token reached the audit log');
        assert.equal(v.logs.join('\n').includes(t.token.slice(4)), false, 'a token reached the log');
    });
    test('refusals: CIDR and hostname are SK_ERR_TOKEN_CONSTRAINT saying which; used up, expired, revoked and unknown tokens get one indistinguishable SK_ERR_TOKEN_INVALID; the audit log has each reason', async () => {
        const cidr = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h', sourceCidrs: ['10.0.0.0/8'] });
        const outside = await enroll(v, cidr.token, { remoteAddress: '192.0.2.10' });
        assert.equal(outside.res.status, 403);
        assert.equal(codeOf(outside.res), 'SK_ERR_TOKEN_CONSTRAINT');
        assert.match(messageOf(outside.res), /source address 192\.0\.2\.10 is outside the token's CIDRs/);
        assert.equal((await enroll(v, cidr.token, { remoteAddress: '10.20.30.40' })).res.status, 201);
        const host = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h', hostnameRegex: 'runner-[0-9]+' });
        const wrongHost = await enroll(v, host.token, { hostname: 'laptop-1' });
        assert.equal(codeOf(wrongHost.res), 'SK_ERR_TOKEN_CONSTRAINT');
        assert.match(messageOf(wrongHost.res), /hostname "laptop-1" does not match/);
        // Matched whole: a prefix or suffix match is not enough.
        assert.equal(codeOf((await enroll(v, host.token, { hostname: 'xrunner-1' })).res), 'SK_ERR_TOKEN_CONSTRAINT');
        assert.equal(codeOf((await enroll(v, host.token, { hostname: 'runner-1x' })).res), 'SK_ERR_TOKEN_CONSTRAINT');
        assert.equal((await enroll(v, host.token, { hostname: 'RUNNER-12' })).res.status, 201, 'hostnames match case-insensitively');
        const once = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h', maxUses: 1 });
        assert.equal((await enroll(v, once.token)).res.status, 201);
        const used = await enroll(v, once.token);
        assert.equal(used.res.status, 401);
        assert.equal(codeOf(used.res), 'SK_ERR_TOKEN_INVALID');
        const short = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h', expiresIn: '10m' });
        clock += 10 * 60_000;
        const expired = await enroll(v, short.token);
        assert.equal(codeOf(expired.res), 'SK_ERR_TOKEN_INVALID');
        const revoked = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h' });
        assert.equal((await v.call(v.operator, 'POST', `/v1/enrollment-tokens/${revoked.id}/revoke`)).status, 200);
        assert.equal(codeOf((await enroll(v, revoked.token)).res), 'SK_ERR_TOKEN_INVALID');
        const unknown = await enroll(v, 'ske_' + Buffer.alloc(32, 1).toString('base64url'));
        assert.equal(codeOf(unknown.res), 'SK_ERR_TOKEN_INVALID');
        assert.equal(codeOf((await enroll(v, 'not-a-token')).res), 'SK_ERR_TOKEN_INVALID');
        // No hint which: used, expired, revoked and unknown tokens read the same.
        assert.deepEqual(used.res.body, expired.res.body);
        assert.deepEqual(used.res.body, unknown.res.body);
        // Every refusal is in the audit trail with the precise reason.
        const denied = await v.ctx.store.db.selectFrom('audit_events').select(['details', 'source_ip']).where('action', '=', 'machine.enroll')
            .where('outcome', '=', 'denied').execute();
        const reasons = denied.map((d) => JSON.parse(d.details).reason);
        for (const r of ['source address outside the CIDRs', 'hostname does not match', 'used up', 'expired', 'revoked', 'unknown token']) {
            assert.ok(reasons.includes(r), `no audited refusal for: ${r}`);
        }
        assert.ok(denied.some((d) => d.source_ip === '192.0.2.10'));
    });
    test('proof of possession: a registration signed by another key than the one it registers is refused', async () => {
        const t = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h', maxUses: 1 });
        const claimed = generateIdentityKey();
        const signer = generateIdentityKey();
        const res = await v.call(signer, 'POST', '/v1/enroll', enrollBody(claimed, t.token, 'runner-1'));
        assert.equal(res.status, 401);
        assert.equal(codeOf(res), 'SK_ERR_SIGNATURE_UNKNOWN_KEY');
        const unsigned = await v.send('POST', '/v1/enroll', { 'content-type': 'application/json' }, JSON.stringify(enrollBody(claimed, t.token, 'runner-1')));
        assert.equal(codeOf(unsigned), 'SK_ERR_SIGNATURE_MISSING');
        // The single use is still there.
        assert.equal((await enroll(v, t.token, { key: claimed })).res.status, 201);
    });
    test('a replayed registration is refused with SK_ERR_SIGNATURE_REPLAYED', async () => {
        const t = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h' });
        const key = generateIdentityKey();
        const signed = v.sign(key, 'POST', '/v1/enroll', enrollBody(key, t.token, 'runner-1'));
        assert.equal((await v.send('POST', '/v1/enroll', signed.headers, signed.payload)).status, 201);
        const replay = await v.send('POST', '/v1/enroll', signed.headers, signed.payload);
        assert.equal(replay.status, 401);
        assert.equal(codeOf(replay), 'SK_ERR_SIGNATURE_REPLAYED');
    });
    test('a key that is registered already is a conflict and spends no use', async () => {
        const t = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h', maxUses: 5 });
        const first = await enroll(v, t.token);
        assert.equal(first.res.status, 201);
        const again = await enroll(v, t.token, { key: first.key });
        assert.equal(again.res.status, 409);
        assert.equal(codeOf(again.res), 'SK_ERR_CONFLICT');
        const operatorKey = await enroll(v, t.token, { key: v.operator });
        assert.equal(codeOf(operatorKey.res), 'SK_ERR_CONFLICT', 'an operator key cannot become a machine');
        const row = await v.ctx.store.db.selectFrom('enrollment_tokens').select('uses').where('id', '=', t.id).executeTakeFirstOrThrow();
        assert.equal(row.uses, 1);
    });
    test('max-uses holds under concurrency: of N+5 simultaneous enrollments exactly N succeed', async () => {
        const n = 6;
        const t = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h', maxUses: n, nameTemplate: 'burst-{rand4}' });
        const results = await Promise.all(Array.from({ length: n + 5 }, (_, i) => enroll(v, t.token, { hostname: `runner-${i}` })));
        const ok = results.filter((r) => r.res.status === 201);
        assert.equal(ok.length, n, JSON.stringify(results.map((r) => r.res.body)));
        assert.ok(results.filter((r) => r.res.status !== 201).every((r) => codeOf(r.res) === 'SK_ERR_TOKEN_INVALID'));
        const row = await v.ctx.store.db.selectFrom('enrollment_tokens').select('uses').where('id', '=', t.id).executeTakeFirstOrThrow();
        assert.equal(row.uses, n);
        const minted = await v.ctx.store.db.selectFrom('machines').select('id').where('token_id', '=', t.id).execute();
        assert.equal(minted.length, n);
    });
    test('a name template without {rand4} still gives unique names', async () => {
        const t = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h', nameTemplate: 'fixed.{date}' });
        const a = (await enroll(v, t.token)).res.body;
        const b = (await enroll(v, t.token)).res.body;
        const day = new Date(clock).toISOString().slice(0, 10).replaceAll('-', '');
        assert.equal(a.name, `fixed.${day}`);
        assert.match(b.name, new RegExp(`^fixed\\.${day}-[a-z0-9]{4}$`));
    });
    test('machines from a token an AI agent created wait for an operator\'s approval', async () => {
        const project = await v.ctx.store.db.selectFrom('projects').select('id').where('name', '=', 'ci').executeTakeFirstOrThrow();
        const token = 'ske_' + Buffer.alloc(32, 9).toString('base64url');
        await v.ctx.store.db.insertInto('enrollment_tokens').values({
            id: randomUUID(), token_hash: createHash('sha256').update(token).digest('hex'), name: 'from-an-ai-agent',
            grants: JSON.stringify([{ projectId: project.id, project: 'ci' }]), constraints: null, labels: '[]', max_uses: null,
            expires_at: clock + HOUR, revoked_at: null, machine_lifetime_ms: HOUR, requires_approval: 0,
            created_by: randomUUID(), created_by_kind: 'ai_agent', created_at: clock,
        }).execute();
        const { key, res } = await enroll(v, token);
        assert.equal(res.body.status, 'pending_approval');
        assert.equal(codeOf(await v.call(key, 'GET', '/v1/projects/ci/secrets/deploy-key')), 'SK_ERR_MACHINE_PENDING_APPROVAL');
        assert.equal((await v.call(v.operator, 'POST', `/v1/machines/${res.body.name}/approve`)).status, 200);
        assert.equal((await v.call(key, 'GET', '/v1/projects/ci/secrets/deploy-key')).status, 200);
    });
    test('a token carrying a constraint this vault does not know refuses to enroll (fail closed)', async () => {
        const t = await createToken(v, 'enrollment', { project: 'ci', machineLifetime: '1h' });
        await v.ctx.store.db.updateTable('enrollment_tokens').set({ constraints: JSON.stringify({ sourceCidrs: ['127.0.0.0/8'], geoFence: 'mars' }) })
            .where('id', '=', t.id).execute();
        const res = (await enroll(v, t.token)).res;
        assert.equal(res.status, 403);
        assert.equal(codeOf(res), 'SK_ERR_CONSTRAINT_UNKNOWN');
        // A bootstrap-only key in an enrollment token is just as unknown there.
        await v.ctx.store.db.updateTable('enrollment_tokens').set({ constraints: JSON.stringify({ timeWindow: '08:00-18:00 UTC' }) }).where('id', '=', t.id).execute();
        assert.equal(codeOf((await enroll(v, t.token)).res), 'SK_ERR_CONSTRAINT_UNKNOWN');
    });
    test('token creation checks its input', async () => {
        const bad = [
            ['unknown placeholder', { project: 'ci', machineLifetime: '1h', nameTemplate: 'ci-{host}' }, 'enrollment'],
            ['bad regex', { project: 'ci', machineLifetime: '1h', hostnameRegex: 'runner-(' }, 'enrollment'],
            ['bad CIDR', { project: 'ci', machineLifetime: '1h', sourceCidrs: ['10.0.0.0/33'] }, 'enrollment'],
            ['lifetime too short', { project: 'ci', lifetime: '30m' }, 'bootstrap'],
            ['lifetime over 12 months', { project: 'ci', lifetime: '366d' }, 'bootstrap'],
            ['not a country', { project: 'ci', lifetime: '2h', countryAllowlist: ['XX'] }, 'bootstrap'],
            ['UK is not ISO-3166', { project: 'ci', lifetime: '2h', countryAllowlist: ['UK'] }, 'bootstrap'],
            ['bad zone', { project: 'ci', lifetime: '2h', timeWindow: '08:00-18:00 Mars/Olympus' }, 'bootstrap'],
            ['guardrails on an enrollment token', { project: 'ci', machineLifetime: '1h', timeWindow: '08:00-18:00 UTC' }, 'enrollment'],
            ['no lifetime', { project: 'ci' }, 'enrollment'],
        ];
        for (const [what, body, kind] of bad) {
            const res = await v.call(v.operator, 'POST', kind === 'enrollment' ? '/v1/enrollment-tokens' : '/v1/bootstrap-tokens', body);
            assert.equal(res.status, 400, `${what}: ${res.raw}`);
            assert.equal(codeOf(res), 'SK_ERR_VALIDATION', what);
        }
        const missing = await v.call(v.operator, 'POST', '/v1/enrollment-tokens', { project: 'ci', machineLifetime: '1h', secrets: ['nope'] });
        assert.equal(codeOf(missing), 'SK_ERR_NOT_FOUND');
    });
    test('failed enrollments count against the shared failure budget', async () => {
        const guarded = await startTestVault(await s.openAt(await s.freshLocation()), { authFailureLimit: 3 });
        try {
            for (let i = 0; i < 3; i += 1)
                assert.equal(codeOf((await enroll(guarded, 'ske_guess' + i)).res), 'SK_ERR_TOKEN_INVALID');
            const limited = (await enroll(guarded, 'ske_guess-again')).res;
            assert.equal(limited.status, 429);
            assert.equal(codeOf(limited), 'SK_ERR_RATE_LIMITED');
        }
        finally {
            await guarded.close();
        }
    });
    test('--trust-proxy decides whether a forwarded source address counts', async () => {
        const proxied = await startTestVault(await s.openAt(await s.freshLocation()), { trustProxy: ['127.0.0.1/32'] });
        try {
            assert.equal((await proxied.call(proxied.operator, 'POST', '/v1/projects', { name: 'p' })).status, 201);
            const t = await createToken(proxied, 'enrollment', { project: 'p', machineLifetime: '1h', sourceCidrs: ['10.0.0.0/8'] });
            const key = generateIdentityKey();
            const viaProxy = await proxied.call(key, 'POST', '/v1/enroll', enrollBody(key, t.token, 'runner-1'), { headers: { 'x-forwarded-for': '10.1.1.1' } });
            assert.equal(viaProxy.status, 201, viaProxy.raw);
            const other = generateIdentityKey();
            const notTrusted = await proxied.call(other, 'POST', '/v1/enroll', enrollBody(other, t.token, 'runner-2'), { headers: { 'x-forwarded-for': '10.1.1.2' }, remoteAddress: '192.0.2.50' });
            assert.equal(codeOf(notTrusted), 'SK_ERR_TOKEN_CONSTRAINT', 'a forwarded address from an untrusted peer does not count');
        }
        finally {
            await proxied.close();
        }
    });
});
//# sourceMappingURL=lifecycle-enrollment.test.js.map