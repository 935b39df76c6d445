// The vault's HTTP API on both stores: operators write, machines read exactly what they were
// granted, and nothing else gets a value — with every error carrying its registered code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { generateIdentityKey } from '../../protocol/keys.js';
import { isErrorCode } from '../../protocol/errors.js';
import { openVault } from '../../vault-server/vault-state.js';
function codeOf(res) {
    return res.body?.error?.code;
}
forEachStore('vault API', (s) => {
    let v;
    let op;
    let app1;
    let app2;
    before(async () => {
        v = await startTestVault(await s.open());
        op = v.operator;
        assert.equal((await v.call(op, 'POST', '/v1/projects', { name: 'shop' })).status, 201);
        assert.equal((await v.call(op, 'POST', '/v1/projects', { name: 'other' })).status, 201);
        assert.equal((await v.call(op, 'PUT', '/v1/projects/shop/secrets/db', { fields: { username: 'app', password: 'pw-one-aaaa' } })).status, 200);
        assert.equal((await v.call(op, 'PUT', '/v1/projects/shop/secrets/api-token', { value: 'token-value-1' })).status, 200);
        assert.equal((await v.call(op, 'PUT', '/v1/projects/other/secrets/x', { value: 'other-value' })).status, 200);
        app1 = await v.addMachine('app1');
        app2 = await v.addMachine('app2');
    });
    after(async () => v.close());
    test('a machine with a project grant reads any secret of it', async () => {
        assert.equal((await v.call(op, 'POST', '/v1/grants', { machine: 'app1', project: 'shop' })).status, 201);
        const res = await v.call(app1, 'GET', '/v1/projects/shop/secrets/api-token');
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { project: 'shop', name: 'api-token', version: 1, value: 'token-value-1' });
        const db = await v.call(app1, 'GET', '/v1/projects/shop/secrets/db');
        assert.deepEqual(db.body.fields, { username: 'app', password: 'pw-one-aaaa' });
    });
    test('a field grant returns only the granted fields', async () => {
        assert.equal((await v.call(op, 'POST', '/v1/grants', { machine: 'app2', project: 'shop', secret: 'db', fields: ['username'] })).status, 201);
        const res = await v.call(app2, 'GET', '/v1/projects/shop/secrets/db');
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { project: 'shop', name: 'db', version: 1, fields: { username: 'app' } });
    });
    test('without a grant the answer is 403 whether or not the secret exists', async () => {
        const ungranted = await v.call(app2, 'GET', '/v1/projects/shop/secrets/api-token');
        const missing = await v.call(app2, 'GET', '/v1/projects/shop/secrets/no-such-secret');
        const otherProject = await v.call(app2, 'GET', '/v1/projects/other/secrets/x');
        const noProject = await v.call(app2, 'GET', '/v1/projects/nope/secrets/x');
        for (const r of [ungranted, missing, otherProject, noProject]) {
            assert.equal(r.status, 403);
            assert.equal(codeOf(r), 'SK_ERR_NO_GRANT');
        }
        // Same body for an existing and a missing secret: no hint.
        assert.deepEqual(ungranted.body, missing.body);
        // With a project grant, a missing secret is an honest 404.
        assert.equal(codeOf(await v.call(app1, 'GET', '/v1/projects/shop/secrets/no-such-secret')), 'SK_ERR_NOT_FOUND');
    });
    test('an operator key and an unknown key cannot read values (401, looked up among machines only)', async () => {
        const asOperator = await v.call(op, 'GET', '/v1/projects/shop/secrets/api-token');
        assert.equal(asOperator.status, 401);
        assert.equal(codeOf(asOperator), 'SK_ERR_SIGNATURE_UNKNOWN_KEY');
        const stranger = await v.call(generateIdentityKey(), 'GET', '/v1/projects/shop/secrets/api-token');
        assert.equal(codeOf(stranger), 'SK_ERR_SIGNATURE_UNKNOWN_KEY');
        // …and a machine cannot call operator routes.
        assert.equal(codeOf(await v.call(app1, 'GET', '/v1/projects')), 'SK_ERR_SIGNATURE_UNKNOWN_KEY');
    });
    test('a captured read replayed is rejected', async () => {
        const signed = v.sign(app1, 'GET', '/v1/projects/shop/secrets/api-token');
        assert.equal((await v.send('GET', '/v1/projects/shop/secrets/api-token', signed.headers)).status, 200);
        const replay = await v.send('GET', '/v1/projects/shop/secrets/api-token', signed.headers);
        assert.equal(replay.status, 401);
        assert.equal(codeOf(replay), 'SK_ERR_SIGNATURE_REPLAYED');
    });
    test('every write makes a new version with its own data key; rollback makes an old one live', async () => {
        await v.call(op, 'PUT', '/v1/projects/shop/secrets/api-token', { value: 'token-value-2' });
        await v.call(op, 'PUT', '/v1/projects/shop/secrets/api-token', { value: 'token-value-3' });
        const versions = await v.call(op, 'GET', '/v1/projects/shop/secrets/api-token/versions');
        assert.deepEqual(versions.body.versions.map((x) => [x.version, x.state]), [[3, 'live'], [2, 'previous'], [1, 'retired']]);
        const rows = await v.ctx.store.db.selectFrom('secret_versions').innerJoin('secrets', 'secrets.id', 'secret_versions.secret_id')
            .select(['wrapped_data_key']).where('secrets.name', '=', 'api-token').execute();
        assert.equal(new Set(rows.map((r) => r.wrapped_data_key.toString('hex'))).size, 3, 'each version has its own data key');
        assert.equal((await v.call(op, 'POST', '/v1/projects/shop/secrets/api-token/rollback', { to: 1 })).status, 200);
        const read = await v.call(app1, 'GET', '/v1/projects/shop/secrets/api-token');
        assert.deepEqual(read.body, { project: 'shop', name: 'api-token', version: 1, value: 'token-value-1' });
    });
    test('rotating the project key re-wraps every data key and old versions stay readable', async () => {
        const res = await v.call(op, 'POST', '/v1/projects/shop/rotate-key');
        assert.equal(res.status, 200);
        assert.equal(res.body.keyVersion, 2);
        const wrappedUnder = await v.ctx.store.db.selectFrom('secret_versions').innerJoin('secrets', 'secrets.id', 'secret_versions.secret_id')
            .innerJoin('projects', 'projects.id', 'secrets.project_id').select('secret_versions.project_key_version as k').where('projects.name', '=', 'shop').execute();
        assert.ok(wrappedUnder.length >= 4);
        assert.deepEqual([...new Set(wrappedUnder.map((r) => r.k))], [2], 'every data key of the project is wrapped under the new key');
        for (const [version, value] of [[3, 'token-value-3'], [1, 'token-value-1'], [2, 'token-value-2']]) {
            assert.equal((await v.call(op, 'POST', '/v1/projects/shop/secrets/api-token/rollback', { to: version })).status, 200);
            assert.equal((await v.call(app1, 'GET', '/v1/projects/shop/secrets/api-token')).body.value, value, `version ${version}`);
        }
        const keys = await v.ctx.store.db.selectFrom('project_keys').innerJoin('projects', 'projects.id', 'project_keys.project_id')
            .select('project_keys.key_version as key_version').where('projects.name', '=', 'shop').execute();
        assert.deepEqual(keys.map((k) => k.key_version), [2], 'the unreferenced old key version is gone');
    });
    test('a disabled machine is refused', async () => {
        const m = await v.addMachine('short-lived');
        await v.call(op, 'POST', '/v1/grants', { machine: 'short-lived', project: 'shop' });
        assert.equal((await v.call(m, 'GET', '/v1/projects/shop/secrets/db')).status, 200);
        await v.call(op, 'POST', '/v1/machines/short-lived/disable');
        const res = await v.call(m, 'GET', '/v1/projects/shop/secrets/db');
        assert.equal(res.status, 403);
        assert.equal(codeOf(res), 'SK_ERR_MACHINE_DISABLED');
    });
    test('bad input gets a registered code and never a 500', async () => {
        const cases = [
            ['unknown route', v.call(op, 'GET', '/v1/nothing-here'), 404, 'SK_ERR_ROUTE_NOT_FOUND'],
            ['duplicate project', v.call(op, 'POST', '/v1/projects', { name: 'shop' }), 409, 'SK_ERR_CONFLICT'],
            ['bad project name', v.call(op, 'POST', '/v1/projects', { name: '../etc' }), 400, 'SK_ERR_VALIDATION'],
            ['extra field', v.call(op, 'POST', '/v1/projects', { name: 'ok', admin: true }), 400, 'SK_ERR_VALIDATION'],
            ['value and fields', v.call(op, 'PUT', '/v1/projects/shop/secrets/z', { value: 'a', fields: { a: 'b' } }), 400, 'SK_ERR_VALIDATION'],
            ['non-string field', v.call(op, 'PUT', '/v1/projects/shop/secrets/z', { fields: { a: 1 } }), 400, 'SK_ERR_VALIDATION'],
            ['rollback to nothing', v.call(op, 'POST', '/v1/projects/shop/secrets/db/rollback', { to: 99 }), 404, 'SK_ERR_NOT_FOUND'],
            ['unknown machine grant', v.call(op, 'POST', '/v1/grants', { machine: 'ghost', project: 'shop' }), 404, 'SK_ERR_NOT_FOUND'],
            ['unsigned', v.send('GET', '/v1/projects', {}), 401, 'SK_ERR_SIGNATURE_MISSING'],
            ['bad public key', v.call(op, 'POST', '/v1/machines', { name: 'm9', publicKey: 'A'.repeat(44) + '!!' }), 400, 'SK_ERR_PUBLIC_KEY'],
        ];
        for (const [what, pending, status, code] of cases) {
            const res = await pending;
            assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
            assert.equal(codeOf(res), code, what);
        }
        // Malformed JSON under a valid signature.
        const raw = Buffer.from('{"name": ');
        const { signRequest } = await import('../../protocol/signing.js');
        const headers = signRequest({ method: 'POST', authority: 'vault.test:8200', target: '/v1/projects', body: raw, contentType: 'application/json' }, { keyId: op.keyId, privateKey: op.privateKey });
        const bad = await v.send('POST', '/v1/projects', headers, raw);
        assert.equal(bad.status, 400);
        assert.equal(codeOf(bad), 'SK_ERR_BAD_REQUEST');
        // A body over the limit.
        const big = await v.call(op, 'PUT', '/v1/projects/shop/secrets/big', { value: 'x'.repeat(300 * 1024) });
        assert.equal(big.status, 413);
        assert.equal(codeOf(big), 'SK_ERR_BODY_TOO_LARGE');
    });
    test('garbage requests are answered with registered codes, none with a 500', async () => {
        const targets = ['/v1/projects', '/v1/projects/shop/secrets/db', '/v1/grants', '/v1/machines/x/approve', '/%zz', '/v1/projects/%00', '/v1/agent/rotations?wait=abc'];
        const headerSets = [
            {}, { signature: 'sk=:AAAA:', 'signature-input': 'sk=()', 'content-digest': 'sha-256=:x:' },
            { signature: '\u00ff', 'signature-input': 'garbage;;;', 'content-digest': '' },
            { 'content-type': 'application/json' },
        ];
        let count = 0;
        for (const t of targets) {
            for (const h of headerSets) {
                for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
                    const res = await v.send(method, t, h, method === 'GET' || method === 'DELETE' ? undefined : '{"a":');
                    count += 1;
                    assert.ok(res.status >= 400 && res.status < 500, `${method} ${t} → ${res.status} ${res.raw}`);
                    assert.ok(isErrorCode(codeOf(res)), `${method} ${t} → ${res.raw}`);
                }
            }
        }
        assert.ok(count >= 100);
    });
    test('the audit chain records the flows and verifies; no log line carries a value', async () => {
        const verify = await v.call(op, 'GET', '/v1/audit/verify');
        assert.equal(verify.body.ok, true, JSON.stringify(verify.body));
        const events = (await v.call(op, 'GET', '/v1/audit?project=shop')).body;
        const actions = new Set(events.events.map((e) => `${e.action}:${e.outcome}`));
        for (const a of ['project.create:success', 'secret.write:success', 'secret.read:success', 'secret.read:denied', 'grant.add:success', 'secret.rollback:success', 'project.rotate_key:success']) {
            assert.ok(actions.has(a), `missing ${a}`);
        }
        const all = v.logs.join('\n');
        for (const value of ['pw-one-aaaa', 'token-value-1', 'token-value-2', 'token-value-3', 'other-value']) {
            assert.equal(all.includes(value), false, 'a secret value reached the log');
        }
    });
    test('the wrong root key is refused at open with a clear error', async () => {
        await assert.rejects(openVault(v.ctx.store, Buffer.alloc(32, 7)), (err) => err.code === 'SK_ERR_ROOT_KEY_WRONG');
        // …and the right one opens.
        await openVault(v.ctx.store, v.rootKey);
    });
});
//# sourceMappingURL=api.test.js.map