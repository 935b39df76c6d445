// Twenty rotations while the vault is restarted with SIGTERM again and again (over TLS, on a
// password-enforcing PostgreSQL): every rotation ends promoted or failed — none stuck or left
// pending — every SIGTERM is a clean drain, and the live credential logs in at the end.
import { test, before, after } from 'node:test';
import { loginWithFields } from '../support/engine-fixtures.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pg from 'pg';
import SqliteDatabase from 'better-sqlite3';
import { scramCluster } from '../support/pg-scram-cluster.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import { makeTestCa } from '../support/test-ca.js';
import { randomTag } from '../support/services.js';
import { sleep, waitFor } from '../support/wait.js';
import { VaultClient } from '../../protocol/client.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
let cluster;
let ca;
let h;
const tag = randomTag();
const ROLE = `app_restart_${tag}`;
const ADMIN = `sk_restart_admin_${tag}`;
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
/** Retries while the vault is restarting (unreachable, or draining with 503). */
async function whileRestarting(what, fn, timeoutMs = 60_000) {
    const got = await waitFor(async () => ({ value: await fn() }), {
        what, timeoutMs, intervalMs: 200,
        retryOn: (err) => isSikkerKeyError(err) && ['SK_ERR_CONNECT', 'SK_ERR_UNAVAILABLE', 'SK_ERR_RESPONSE'].includes(err.code),
    });
    return got.value;
}
before(async () => {
    cluster = await scramCluster();
    ca = makeTestCa();
    const initial = `initial-pw-${randomTag(8)}`;
    await admin(async (c) => {
        await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(ROLE)}`);
        await c.query(`CREATE ROLE ${c.escapeIdentifier(ROLE)} LOGIN PASSWORD ${c.escapeLiteral(initial)}`);
        await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(ADMIN)}`);
        await c.query(`CREATE ROLE ${c.escapeIdentifier(ADMIN)} LOGIN CREATEROLE PASSWORD ${c.escapeLiteral(ADMIN_PASSWORD)}`);
    });
    const server = ca.issue();
    const base = { host: cluster.host, port: String(cluster.port), database: 'postgres', tls: 'disable' };
    h = await startRotationHarness({
        engine: 'postgres',
        target: { ...base, username: ROLE, password: initial },
        admin: { ...base, username: ADMIN, password: ADMIN_PASSWORD },
        tls: { cert: server.certFile, key: server.keyFile, ca: ca.caFile },
    });
});
after(async () => {
    await h?.close();
    ca?.cleanup();
    await admin(async (c) => {
        await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(ROLE)}`);
        await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(ADMIN)}`);
    }).catch(() => undefined);
});
// Twenty rotations, six of them across a vault restart with a drain and the agent's backoff:
// 31–43 s measured on a 2-core machine at load 4–7, so under more load it can pass the runner's
// default 120 s. Each rotation bounds its own wait (90 s).
test('twenty rotations across repeated SIGTERM restarts of the vault: each ends promoted or failed, the live credential works', { timeout: 600_000 }, async (t) => {
    const agent = await h.startAgent();
    const op = new VaultClient({ url: h.url, keyFile: join(h.dir, 'operator.key'), caFile: ca.caFile, timeoutMs: 10_000 });
    const status = (id) => whileRestarting(`the vault to answer a rotation status${id ? ` of ${id}` : ''}`, async () => (await op.request('GET', `/v1/projects/db/secrets/app/rotation${id ? `?rotation=${id}` : ''}`)).body);
    // Every third rotation, SIGTERM the vault 0–400 ms after asking for it: the restart lands while
    // the agent claims, applies, verifies or confirms. (Restarting on a timer instead mostly hits
    // idle moments, and back-to-back restarts only measure the agent's backoff.)
    const exitCodes = [];
    // The log of every vault whose drain did not exit 0: the exit code alone does not say why.
    const uncleanLogs = [];
    const outcomes = [];
    for (let i = 1; i <= 20; i++) {
        let id;
        try {
            id = (await whileRestarting(`the vault to accept rotation run ${i}`, () => op.request('POST', '/v1/projects/db/secrets/app/rotation/run'))).body.id;
        }
        catch (err) {
            // The run was taken but its answer lost with a connection, or a retry is already queued: follow that one.
            if (!isSikkerKeyError(err, 'SK_ERR_ROTATION_IN_PROGRESS'))
                throw err;
            id = (await status()).rotationId;
        }
        const restart = i % 3 === 0
            ? (async () => {
                await sleep(Math.random() * 400); // deliberately random: where in the rotation the restart lands
                const stopped = h.vault;
                const code = await h.restartVault({ signal: 'SIGTERM' });
                exitCodes.push(code);
                if (code !== 0) {
                    const log = `vault pid ${stopped.proc.pid} (restart during rotation ${i}) exited ${code ?? stopped.proc.signalCode}; its last output:\n${stopped.output().slice(-6000)}`;
                    uncleanLogs.push(log);
                    t.diagnostic(log);
                }
            })()
            : undefined;
        const st = await waitFor(() => status(id), {
            what: `rotation ${i} (${id}) to end promoted, failed or stuck`, timeoutMs: 90_000, intervalMs: 200,
            until: (x) => ['promoted', 'failed', 'stuck'].includes(x.state),
        }).catch((err) => { throw new Error(`${err.message}; agent log: ${agent.output().slice(-3000)}`); });
        await restart;
        outcomes.push(st.state);
    }
    t.diagnostic(`${exitCodes.length} SIGTERM restarts; outcomes: ${outcomes.join(',')}`);
    assert.equal(exitCodes.length, 6, 'the vault was restarted during six of the rotations');
    assert.deepEqual(exitCodes.filter((c) => c !== 0), [], `every SIGTERM drained cleanly (exit code 0)${uncleanLogs.map((l) => `\n${l}`).join('')}`);
    assert.equal(outcomes.length, 20);
    assert.deepEqual(outcomes.filter((o) => o !== 'promoted' && o !== 'failed'), [], `outcomes: ${outcomes.join(',')}`);
    // The store agrees: no rotation of the secret is left unfinished, whichever way it was created.
    const store = new SqliteDatabase(join(h.dir, 'data', 'vault.db'), { readonly: true, fileMustExist: true });
    try {
        const rows = store.prepare("SELECT r.state AS state, COUNT(*) AS n FROM rotations r JOIN secrets s ON s.id = r.secret_id WHERE s.name = 'app' AND r.kind = 'rotate' GROUP BY r.state").all();
        const byState = Object.fromEntries(rows.map((r) => [r.state, r.n]));
        assert.ok((byState.promoted ?? 0) + (byState.failed ?? 0) >= 20, JSON.stringify(byState));
        for (const unfinished of ['pending', 'claimed', 'applied', 'stuck'])
            assert.equal(byState[unfinished] ?? 0, 0, `${unfinished}: ${JSON.stringify(byState)}`);
    }
    finally {
        store.close();
    }
    const live = (await whileRestarting('the vault to serve the live credential', () => h.read())).fields.password;
    assert.equal(await login(ROLE, live), true, 'the live credential logs in');
    assert.ok(outcomes.includes('promoted'));
    op.close();
    await agent.stop();
});
//# sourceMappingURL=ops-restart-rotations.test.js.map