// Batch reads (one signature, one transaction, one audit event per item) and the cheap defences
// in front of signature verification: failure budgets and the vault-wide allowlist.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { buildApp } from '../../vault-server/app.js';
import { openVault } from '../../vault-server/vault-state.js';
import { pino } from 'pino';
import { generateIdentityKey } from '../../protocol/keys.js';
import { signRequest } from '../../protocol/signing.js';
import { computeContentDigest } from '../../protocol/digest.js';
import { TEST_AUTHORITY } from '../support/vault-app.js';
forEachStore('batch read', (s) => {
    let v;
    let m;
    before(async () => {
        v = await startTestVault(await s.open());
        await v.call(v.operator, 'POST', '/v1/projects', { name: 'a' });
        await v.call(v.operator, 'POST', '/v1/projects', { name: 'b' });
        for (let i = 0; i < 4; i++)
            await v.call(v.operator, 'PUT', `/v1/projects/a/secrets/s${i}`, { value: `value-a-${i}` });
        await v.call(v.operator, 'PUT', '/v1/projects/b/secrets/t0', { value: 'value-b-0' });
        await v.call(v.operator, 'PUT', '/v1/projects/b/secrets/db', { fields: { user: 'u', password: 'value-b-pw' } });
        m = await v.addMachine('batcher');
        await v.call(v.operator, 'POST', '/v1/grants', { machine: 'batcher', project: 'a' });
        await v.call(v.operator, 'POST', '/v1/grants', { machine: 'batcher', project: 'b', secret: 'db', fields: ['user'] });
    });
    after(async () => v.close());
    test('a batch of 10 returns 10 results mixing granted, ungranted and unknown items', async () => {
        const items = [
            { project: 'a', name: 's0' }, { project: 'a', name: 's1' }, { project: 'a', name: 's2' }, { project: 'a', name: 's3' },
            { project: 'a', name: 'missing' }, { project: 'b', name: 't0' }, { project: 'b', name: 'db' }, { project: 'b', name: 'missing' },
            { project: 'nope', name: 'x' }, { project: 'a', name: 's0' },
        ];
        const auditBefore = (await v.ctx.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n;
        const res = await v.call(m, 'POST', '/v1/secrets:batchGet', { items });
        assert.equal(res.status, 200, res.raw);
        const results = res.body.results;
        assert.equal(results.length, 10);
        assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 404, 403, 200, 403, 403, 200]);
        assert.deepEqual(results.slice(0, 4).map((r) => r.value), ['value-a-0', 'value-a-1', 'value-a-2', 'value-a-3']);
        assert.deepEqual(results[6]?.fields, { user: 'u' });
        assert.equal(results[5]?.error?.code, 'SK_ERR_NO_GRANT');
        assert.equal(results[4]?.error?.code, 'SK_ERR_NOT_FOUND');
        const auditAfter = (await v.ctx.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n;
        // One event per item that was read or refused (not for the plain 404 of a missing secret).
        assert.equal(Number(auditAfter) - Number(auditBefore), 9);
        assert.equal((await v.call(v.operator, 'GET', '/v1/audit/verify')).body.ok, true);
    });
    test('a batch is validated: empty, oversized or malformed item lists are 400', async () => {
        for (const body of [{ items: [] }, { items: Array.from({ length: 101 }, () => ({ project: 'a', name: 's0' })) }, { items: [{ project: 'a' }] }, { items: 'x' }]) {
            const res = await v.call(m, 'POST', '/v1/secrets:batchGet', body);
            assert.equal(res.status, 400);
            assert.equal(res.body.error.code, 'SK_ERR_VALIDATION');
        }
    });
});
forEachStore('auth guard', (s) => {
    /** A vault with the production failure budget (20 a minute), a secret `p/s` and a machine granted it. */
    const guarded = async () => {
        const v = await startTestVault(await s.openAt(await s.freshLocation()), { authFailureLimit: 20, trustProxy: ['192.0.2.0/24'] });
        assert.equal((await v.call(v.operator, 'POST', '/v1/projects', { name: 'p' })).status, 201);
        assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/p/secrets/s', { value: 'the-value' })).status, 200);
        const m = await v.addMachine('victim');
        assert.equal((await v.call(v.operator, 'POST', '/v1/grants', { machine: 'victim', project: 'p' })).status, 201);
        return { v, m };
    };
    const SECRET = '/v1/projects/p/secrets/s';
    /** `m`'s signed request with one character of the signature bytes flipped: well-formed, invalid. */
    const forged = (v, m) => {
        const signed = v.sign(m, 'GET', SECRET);
        const sig = signed.headers['signature'];
        return { ...signed.headers, signature: sig.slice(0, 6) + (sig[6] === 'A' ? 'B' : 'A') + sig.slice(7) };
    };
    /** `m`'s signed request, as it would have been signed 10 minutes ago: fails the time window, no crypto needed. */
    const stale = (v, m) => signRequest({ method: 'GET', authority: TEST_AUTHORITY, target: SECRET }, { keyId: m.keyId, privateKey: m.privateKey }, { now: Math.floor(Date.now() / 1000) - 600 });
    const tally = (counts, res) => {
        const key = `${res.status} ${codeOf(res)}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
    };
    test('forged requests naming a real key id, from one address and from many, never make that key\'s valid requests fail', async () => {
        const { v, m } = await guarded();
        const counts = new Map();
        for (let i = 0; i < 100; i++)
            tally(counts, await v.send('GET', SECRET, forged(v, m), undefined, { remoteAddress: '10.0.0.1' }));
        for (let i = 0; i < 100; i++)
            tally(counts, await v.send('GET', SECRET, stale(v, m), undefined, { remoteAddress: '10.0.0.1' }));
        for (let i = 0; i < 100; i++)
            tally(counts, await v.send('GET', SECRET, forged(v, m), undefined, { remoteAddress: `10.1.${i >> 8}.${i & 255}` }));
        // Through a trusted proxy: X-Forwarded-For is the address that counts.
        for (let i = 0; i < 100; i++)
            tally(counts, await v.send('GET', SECRET, { ...stale(v, m), 'x-forwarded-for': `10.2.0.${i}` }, undefined, { remoteAddress: '192.0.2.1' }));
        // Every bad signature was verified and refused 401; the stale ones from 10.0.0.1 (a spent address) 429.
        assert.equal(counts.get('401 SK_ERR_SIGNATURE_INVALID'), 200, JSON.stringify([...counts]));
        assert.equal(counts.get('429 SK_ERR_RATE_LIMITED'), 100, JSON.stringify([...counts]));
        assert.equal(counts.get('401 SK_ERR_SIGNATURE_EXPIRED'), 100, JSON.stringify([...counts]));
        for (const remoteAddress of ['10.0.0.1', '10.1.0.5', '10.9.8.7']) {
            const ok = await v.call(m, 'GET', SECRET, undefined, { remoteAddress });
            assert.equal(ok.status, 200, `${remoteAddress}: ${ok.raw}`);
        }
        const viaProxy = await v.call(m, 'GET', SECRET, undefined, { remoteAddress: '192.0.2.1', headers: { 'x-forwarded-for': '10.2.0.5' } });
        assert.equal(viaProxy.status, 200, viaProxy.raw);
        await v.close();
    });
    test('1,000 unsigned requests from one address: 20 answered 401, the rest 429 with Retry-After and no signature work; a valid key on that address still gets in', async () => {
        const { v, m } = await guarded();
        const counts = new Map();
        const verifyBefore = await verificationCount(v);
        let retryAfter;
        for (let i = 0; i < 1000; i++) {
            const res = await v.send('GET', SECRET, {}, undefined, { remoteAddress: '10.0.0.5' });
            tally(counts, res);
            if (res.status === 429)
                retryAfter = res.headers['retry-after'];
        }
        assert.deepEqual([...counts.entries()].sort(), [['401 SK_ERR_SIGNATURE_MISSING', 20], ['429 SK_ERR_RATE_LIMITED', 980]]);
        assert.ok(Number(retryAfter) > 0 && Number(retryAfter) <= 60, `retry-after ${retryAfter}`);
        assert.equal(await verificationCount(v) - verifyBefore, 0, 'no unsigned request reached a verification');
        const ok = await v.call(m, 'GET', SECRET, undefined, { remoteAddress: '10.0.0.5' });
        assert.equal(ok.status, 200, ok.raw);
        assert.equal(await verificationCount(v) - verifyBefore, 1, 'only the valid request was verified');
        await v.close();
    });
    test('a flood signed by an unknown key: 20 answered 401, the rest 429 before any signature work; known keys on that address still get in', async () => {
        const { v, m } = await guarded();
        const stranger = generateIdentityKey();
        const counts = new Map();
        const verifyBefore = await verificationCount(v);
        for (let i = 0; i < 200; i++)
            tally(counts, await v.call(stranger, 'GET', SECRET, undefined, { remoteAddress: '10.0.0.6' }));
        assert.deepEqual([...counts.entries()].sort(), [['401 SK_ERR_SIGNATURE_UNKNOWN_KEY', 20], ['429 SK_ERR_RATE_LIMITED', 180]]);
        assert.equal(await verificationCount(v) - verifyBefore, 0, 'an unknown key id is never verified');
        assert.equal((await v.call(m, 'GET', SECRET, undefined, { remoteAddress: '10.0.0.6' })).status, 200);
        assert.equal((await v.call(v.operator, 'GET', '/v1/projects', undefined, { remoteAddress: '10.0.0.6' })).status, 200);
        await v.close();
    });
    test('bad signatures from a known key are each verified and answered 401, never 429; they spend only their address\'s budget', async () => {
        const { v, m } = await guarded();
        const verifyBefore = await verificationCount(v);
        const counts = new Map();
        for (let i = 0; i < 100; i++)
            tally(counts, await v.send('GET', SECRET, forged(v, m), undefined, { remoteAddress: '10.0.0.7' }));
        assert.deepEqual([...counts.entries()], [['401 SK_ERR_SIGNATURE_INVALID', 100]]);
        assert.equal(await verificationCount(v) - verifyBefore, 100);
        // The address's budget is spent for requests that fail without cryptography…
        assert.equal(codeOf(await v.send('GET', SECRET, {}, undefined, { remoteAddress: '10.0.0.7' })), 'SK_ERR_RATE_LIMITED');
        // …never for a valid signature.
        assert.equal((await v.call(m, 'GET', SECRET, undefined, { remoteAddress: '10.0.0.7' })).status, 200);
        await v.close();
    });
    test('replays of a captured valid request are refused 401 and never lock its key out', async () => {
        const { v, m } = await guarded();
        const captured = v.sign(m, 'GET', SECRET);
        assert.equal((await v.send('GET', SECRET, captured.headers, undefined, { remoteAddress: '10.0.0.8' })).status, 200);
        const counts = new Map();
        for (let i = 0; i < 100; i++)
            tally(counts, await v.send('GET', SECRET, captured.headers, undefined, { remoteAddress: '10.0.0.8' }));
        for (let i = 0; i < 100; i++)
            tally(counts, await v.send('GET', SECRET, captured.headers, undefined, { remoteAddress: `10.3.0.${i}` }));
        assert.deepEqual([...counts.entries()], [['401 SK_ERR_SIGNATURE_REPLAYED', 200]]);
        for (const remoteAddress of ['10.0.0.8', '10.3.0.1', '10.9.9.9']) {
            assert.equal((await v.call(m, 'GET', SECRET, undefined, { remoteAddress })).status, 200, remoteAddress);
        }
        await v.close();
    });
    test('a body on GET, HEAD or DELETE is refused 400 SK_ERR_BODY_UNEXPECTED even when the signature covers the empty body\'s digest', async () => {
        const { v, m } = await guarded();
        for (const method of ['GET', 'DELETE']) {
            const target = method === 'GET' ? SECRET : '/v1/grants/00000000-0000-0000-0000-000000000000';
            const key = method === 'GET' ? m : v.operator;
            const signed = v.sign(key, method, target);
            assert.equal(signed.headers['content-digest'], computeContentDigest(''));
            const res = await v.send(method, target, { ...signed.headers, 'content-type': 'application/json' }, '{"smuggled":true}');
            assert.equal(res.status, 400, `${method}: ${res.raw}`);
            assert.equal(codeOf(res), 'SK_ERR_BODY_UNEXPECTED', method);
            const chunked = await v.app.inject({ method, url: target, headers: { host: TEST_AUTHORITY, ...v.sign(key, method, target).headers, 'transfer-encoding': 'chunked' }, payload: 'x' });
            assert.equal(chunked.statusCode, 400, `${method} chunked: ${chunked.body}`);
        }
        const head = await v.app.inject({ method: 'HEAD', url: SECRET, headers: { host: TEST_AUTHORITY, ...v.sign(m, 'HEAD', SECRET).headers, 'content-length': '3' }, payload: 'abc' });
        assert.equal(head.statusCode, 400);
        // Without the body the same kind of request is served.
        assert.equal((await v.call(m, 'GET', SECRET)).status, 200);
        await v.close();
    });
    test('an address outside --allow-cidr is refused before verification; health checks stay open', async () => {
        const store = await s.openAt(await s.freshLocation());
        const v = await startTestVault(store);
        const { app, metrics } = await buildApp({ store, keyring: await openVault(store, v.rootKey), log: pino({ level: 'silent' }), authorities: ['vault.test:8200'], allowCidrs: ['10.0.0.0/8'] });
        const verified = async () => (await metrics.verifications.get()).values[0]?.value ?? 0;
        const signed = v.sign(v.operator, 'GET', '/v1/projects');
        const outside = await app.inject({ method: 'GET', url: '/v1/projects', remoteAddress: '192.0.2.1', headers: { host: 'vault.test:8200', ...signed.headers } });
        assert.equal(outside.statusCode, 403);
        assert.equal(JSON.parse(outside.body).error.code, 'SK_ERR_IP_NOT_ALLOWED');
        assert.equal(await verified(), 0, 'the refused request\'s signature was never verified');
        const inside = await app.inject({ method: 'GET', url: '/v1/projects', remoteAddress: '10.1.2.3', headers: { host: 'vault.test:8200', ...v.sign(v.operator, 'GET', '/v1/projects').headers } });
        assert.equal(inside.statusCode, 200);
        assert.equal(await verified(), 1, 'the allowed one was');
        assert.equal((await app.inject({ method: 'GET', url: '/healthz', remoteAddress: '192.0.2.1' })).statusCode, 200);
        await app.close();
        await v.close();
    });
    test('X-Forwarded-For is believed only from a --trust-proxy address', async () => {
        const store = await s.openAt(await s.freshLocation());
        const v = await startTestVault(store);
        const { app } = await buildApp({ store, keyring: await openVault(store, v.rootKey), log: pino({ level: 'silent' }), authorities: ['vault.test:8200'], allowCidrs: ['10.0.0.0/8'], trustProxy: ['192.0.2.0/24'] });
        const viaProxy = await app.inject({ method: 'GET', url: '/v1/projects', remoteAddress: '192.0.2.5', headers: { host: 'vault.test:8200', 'x-forwarded-for': '10.1.1.1', ...v.sign(v.operator, 'GET', '/v1/projects').headers } });
        assert.equal(viaProxy.statusCode, 200);
        const spoofed = await app.inject({ method: 'GET', url: '/v1/projects', remoteAddress: '198.51.100.9', headers: { host: 'vault.test:8200', 'x-forwarded-for': '10.1.1.1', ...v.sign(v.operator, 'GET', '/v1/projects').headers } });
        assert.equal(spoofed.statusCode, 403);
        await app.close();
        await v.close();
    });
});
async function verificationCount(v) {
    const metric = await v.metrics.verifications.get();
    return metric.values[0]?.value ?? 0;
}
const codeOf = (res) => res.body?.error?.code;
//# sourceMappingURL=batch-and-guard.test.js.map