// The listener's limits: --max-connections (config key maxConnections) caps concurrent
// connections — the next one is closed while the held ones stay open, and the vault serves again
// once they close; a client that sends its headers too slowly is cut off; the production timeouts
// are the ones on the server object; the cap never exceeds `ulimit -n` − 256.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDataDir } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { openStore } from '../../vault-server/store/open-store.js';
import { loadVaultConfig } from '../../vault-server/config.js';
import { DEFAULT_LIMITS, effectiveMaxConnections, FD_RESERVE, LONG_POLL_MAX_SECONDS, openFileLimit } from '../../vault-server/http/limits.js';
import { waitFor } from '../support/wait.js';
/** A keep-alive connection that has had one /healthz answered (so it is a real, held connection). */
async function heldConnection(port) {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => {
        let got = '';
        socket.on('data', (d) => { got += d.toString(); if (got.includes('"status":"ok"'))
            resolve(); });
        socket.once('error', reject);
        socket.once('close', () => reject(new Error(`closed before an answer: ${got}`)));
        socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    });
    socket.removeAllListeners('close');
    socket.removeAllListeners('data');
    socket.on('error', () => undefined);
    return socket;
}
/** Resolves with whether the socket was closed by the server (and what it sent) within `ms`. */
async function closedWithin(socket, ms) {
    let data = '';
    socket.on('data', (d) => { data += d.toString(); });
    socket.on('error', () => undefined);
    return new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ closed: false, data }), ms);
        socket.once('close', () => { clearTimeout(timer); resolve({ closed: true, data }); });
    });
}
async function healthz(port) {
    return (await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: 'close' } })).status;
}
test('maxConnections: config key, variable and flag; 1–1000000; unset means the default', () => {
    assert.equal(loadVaultConfig({ env: {}, flags: { dataDir: '/d' } }).maxConnections, undefined);
    assert.equal(loadVaultConfig({ env: {}, flags: { dataDir: '/d', maxConnections: '5' } }).maxConnections, 5);
    assert.equal(loadVaultConfig({ env: { SIKKERKEY_VAULT_MAX_CONNECTIONS: '9' }, flags: { dataDir: '/d' } }).maxConnections, 9);
    const dir = mkdtempSync(join(tmpdir(), 'sk-limits-'));
    try {
        const file = join(dir, 'vault.yaml');
        writeFileSync(file, 'dataDir: /d\nmaxConnections: 7\n');
        assert.equal(loadVaultConfig({ env: {}, file }).maxConnections, 7);
    }
    finally {
        rmSync(dir, { recursive: true, force: true });
    }
    for (const bad of ['0', 'lots', '1.5', '1000001']) {
        assert.throws(() => loadVaultConfig({ env: {}, flags: { dataDir: '/d', maxConnections: bad } }), (e) => e.code === 'SK_ERR_CONFIG' && /--max-connections/.test(e.message), bad);
    }
});
test('the cap is at most the open-file limit less 256', () => {
    assert.deepEqual(effectiveMaxConnections(undefined, 1024), { value: 1024 - FD_RESERVE, cappedFrom: 10_000 });
    assert.deepEqual(effectiveMaxConnections(5, 1024), { value: 5 });
    assert.deepEqual(effectiveMaxConnections(undefined, undefined), { value: 10_000 });
    assert.deepEqual(effectiveMaxConnections(undefined, 1_048_576), { value: 10_000 });
    const limit = openFileLimit();
    assert.ok(limit === undefined || (Number.isInteger(limit) && limit > 0), String(limit));
});
describe('listener limits (sqlite)', () => {
    const cleanups = [];
    const sockets = [];
    /** A vault on its own fresh store (a store is initialised once). */
    const vault = async (opts = {}) => {
        const made = await tempDataDir();
        const store = await openStore(made.location);
        const v = await startTestVault(store, opts);
        cleanups.push(async () => { await v.close(); await store.close(); await made.remove(); });
        return v;
    };
    const listen = async (v) => {
        await v.app.listen({ host: '127.0.0.1', port: 0 });
        const addr = v.app.server.address();
        return typeof addr === 'object' && addr ? addr.port : 0;
    };
    after(async () => {
        for (const s of sockets)
            s.destroy();
        for (const c of cleanups.reverse())
            await c();
    });
    test('the production limits are on the server: 10,000 connections, headers 10 s, request 30 s, idle = longest long-poll + 30 s', async () => {
        const v = await vault();
        assert.equal(v.app.server.maxConnections, 10_000);
        assert.equal(v.app.server.headersTimeout, 10_000);
        assert.equal(v.app.server.requestTimeout, 30_000);
        assert.equal(v.app.server.timeout, (LONG_POLL_MAX_SECONDS + 30) * 1000);
        assert.equal(v.app.server.keepAliveTimeout, DEFAULT_LIMITS.keepAliveTimeoutMs);
    });
    test('with maxConnections 5, a 6th connection is closed while the 5 held stay open; the vault serves again once they close', async () => {
        const v = await vault({ limits: { maxConnections: 5 } });
        const port = await listen(v);
        const held = [];
        for (let i = 0; i < 5; i++)
            held.push(await heldConnection(port));
        sockets.push(...held);
        const sixth = connect(port, '127.0.0.1');
        sockets.push(sixth);
        sixth.on('connect', () => sixth.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
        const refused = await closedWithin(sixth, 5_000);
        assert.equal(refused.closed, true, 'the 6th connection was closed');
        assert.equal(refused.data.includes('"status":"ok"'), false, 'and not served');
        for (const s of held)
            assert.equal(s.destroyed, false, 'a held connection stays open');
        // A held connection still works.
        const again = await new Promise((resolve) => {
            let got = '';
            held[0].on('data', (d) => { got += d.toString(); if (got.includes('"status":"ok"'))
                resolve(got); });
            held[0].write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        });
        assert.match(again, /^HTTP\/1\.1 200/);
        for (const s of held)
            s.destroy();
        await waitFor(async () => (await new Promise((resolve) => { v.app.server.getConnections((_e, n) => resolve(n)); })) === 0, { what: 'the held connections to close', timeoutMs: 10_000 });
        assert.equal(await healthz(port), 200);
    });
    test('a client that sends its headers slowly is cut off after the headers timeout', async () => {
        const v = await vault({ limits: { headersTimeoutMs: 500, requestTimeoutMs: 5_000, checkIntervalMs: 100 } });
        const port = await listen(v);
        const slow = connect(port, '127.0.0.1');
        sockets.push(slow);
        await new Promise((resolve) => slow.once('connect', () => resolve()));
        const started = Date.now();
        slow.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // and never the blank line
        const res = await closedWithin(slow, 4_000);
        assert.equal(res.closed, true, 'the slow client was cut off');
        assert.ok(Date.now() - started >= 400, `not before the headers timeout (${Date.now() - started} ms)`);
        assert.equal(res.data.includes('"status":"ok"'), false);
        assert.equal(await healthz(port), 200, 'others are still served');
    });
});
//# sourceMappingURL=ops-limits.test.js.map