// Rotation end to end over TLS: a real vault serving https with a certificate from a CA this test
// made, a real agent that verifies it, a password-enforcing PostgreSQL. A recording proxy on the
// agent's path proves that what crosses the network carries none of the passwords a claim holds —
// and, as a control, that the same proxy on a plaintext loopback path does see them.
import { test, before, after } from 'node:test';
import { loginWithFields } from '../support/engine-fixtures.js';
import assert from 'node:assert/strict';
import pg from 'pg';
import { scramCluster } from '../support/pg-scram-cluster.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { makeTestCa } from '../support/test-ca.js';
import { randomTag } from '../support/services.js';
let cluster;
let ca;
const cleanups = [];
const tag = randomTag();
const ADMIN = `sk_tls_admin_${tag}`;
const ADMIN_PASSWORD = `admin-pw-${randomTag(8)}`;
async function admin(fn) {
    const c = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
    await c.connect();
    try {
        return await fn(c);
    }
    finally {
        await c.end();
    }
}
/** A fresh login to the scram cluster (refused: false). */
function login(user, password) {
    return loginWithFields('postgres', { host: cluster.host, port: String(cluster.port), database: 'postgres', username: user, password });
}
before(async () => {
    cluster = await scramCluster();
    ca = makeTestCa();
    cleanups.push(() => ca.cleanup());
    await admin(async (c) => {
        await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(ADMIN)}`);
        await c.query(`CREATE ROLE ${c.escapeIdentifier(ADMIN)} LOGIN CREATEROLE PASSWORD ${c.escapeLiteral(ADMIN_PASSWORD)}`);
    });
});
after(async () => {
    for (const c of cleanups.reverse())
        await c();
    await admin((c) => c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(ADMIN)}`)).catch(() => undefined);
});
/** A harness whose agent reaches the vault only through a recording proxy. */
async function throughProxy(opts) {
    await admin(async (c) => {
        await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(opts.role)}`);
        await c.query(`CREATE ROLE ${c.escapeIdentifier(opts.role)} LOGIN PASSWORD ${c.escapeLiteral(opts.initial)}`);
    });
    cleanups.push(() => admin((c) => c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(opts.role)}`)).then(() => undefined));
    const proxy = await startRecordingProxy();
    cleanups.push(() => proxy.close());
    const server = ca.issue();
    const base = { host: cluster.host, port: String(cluster.port), database: 'postgres', tls: 'disable' };
    const h = await startRotationHarness({
        engine: 'postgres',
        target: { ...base, username: opts.role, password: opts.initial },
        admin: { ...base, username: ADMIN, password: ADMIN_PASSWORD },
        ...(opts.tls ? { tls: { cert: server.certFile, key: server.keyFile, ca: ca.caFile } } : {}),
        // The agent signs for the proxy's address; the vault must answer to it.
        publicUrls: [`${opts.tls ? 'https' : 'http'}://127.0.0.1:${proxy.port}`],
    });
    cleanups.push(() => h.close());
    proxy.setTarget({ port: Number(new URL(h.url).port) });
    return { h, proxy };
}
/** Every encoding of a secret an observer could search a capture for. */
function leaks(capture, secret) {
    return [secret, Buffer.from(secret).toString('base64'), JSON.stringify(secret)].some((form) => capture.includes(Buffer.from(form)));
}
test('three rotations over TLS through a recording proxy: all promoted, and the capture holds no pending, live or admin password', async () => {
    const role = `app_tls_${tag}`;
    const initial = `initial-pw-${randomTag(8)}`;
    const { h, proxy } = await throughProxy({ tls: true, role, initial });
    assert.match(h.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const agent = await h.startAgent({ vaultUrl: `https://127.0.0.1:${proxy.port}` });
    const seen = [initial];
    for (let i = 1; i <= 3; i++) {
        const r = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--json']);
        assert.equal(r.code, 0, `rotation ${i}: ${r.stdout} ${r.stderr}`);
        assert.equal(JSON.parse(r.stdout).state, 'promoted');
        const now = (await h.read()).fields.password;
        assert.ok(!seen.includes(now));
        assert.equal(await login(role, now), true, `rotation ${i}: the promoted password logs in`);
        seen.push(now);
    }
    await agent.stop();
    const capture = proxy.recorded();
    assert.ok(proxy.connections() >= 1, 'the agent talked to the vault through the proxy');
    assert.ok(capture.length > 2000, `the capture is not empty (${capture.length} bytes)`);
    assert.equal(proxy.fromClients()[0], 0x16, 'the first byte the agent sent is a TLS handshake record');
    assert.equal(capture.includes(Buffer.from('/v1/agent/rotations')), false, 'not even the request line is readable');
    // Every pending password was, in its claim, the pending one; all but the last were live in a later claim.
    for (const [i, password] of seen.entries())
        assert.equal(leaks(capture, password), false, `password #${i} is not in the capture`);
    assert.equal(leaks(capture, ADMIN_PASSWORD), false, 'the admin password is not in the capture');
    assert.equal(leaks(capture, role), false, 'not even the user name');
});
test('control: the same proxy on a plaintext loopback path captures the pending and admin passwords (the check can fail)', async () => {
    const role = `app_plain_${tag}`;
    const initial = `initial-pw-${randomTag(8)}`;
    const { h, proxy } = await throughProxy({ tls: false, role, initial });
    const agent = await h.startAgent({ vaultUrl: `http://127.0.0.1:${proxy.port}` });
    const r = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--json']);
    assert.equal(r.code, 0, `${r.stdout} ${r.stderr}`);
    await agent.stop();
    const promoted = (await h.read()).fields.password;
    const capture = proxy.recorded();
    assert.equal(leaks(capture, promoted), true, 'the pending password crossed in the clear');
    assert.equal(leaks(capture, initial), true, 'so did the live one');
    assert.equal(leaks(capture, ADMIN_PASSWORD), true, 'and the admin password');
});
//# sourceMappingURL=tls-rotation.test.js.map