// The drain's gate (http/shutdown.ts), in process: an answer already past the gate's onSend hook
// when the drain begins (waiting in a later hook, as the vault's answers wait for their batch's
// fsync, or with its body still being written) must still close its kept-alive connection, or
// app.close() waits for the keep-alive timeout and the vault's drain exits 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { PassThrough } from 'node:stream';
import Fastify from 'fastify';
import { installShutdownGate } from '../../vault-server/http/shutdown.js';
/** Resolves true when `p` settles within `ms`. */
function within(p, ms) {
    return new Promise((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        void p.finally(() => { clearTimeout(t); resolve(true); });
    });
}
function get(port, path, agent, onHeaders) {
    return new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
            onHeaders?.(res.headers);
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { body += d; });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
        }).on('error', reject);
    });
}
/** A gated app as the vault builds it (keep-alive far longer than any drain); `draining` resolves once the drain began: the gate's preClose ran, idle connections were closed and the server no longer listens. */
function gatedApp() {
    const app = Fastify({ keepAliveTimeout: 60_000, return503OnClosing: false, forceCloseConnections: 'idle' });
    installShutdownGate(app);
    let began;
    const draining = new Promise((r) => { began = r; });
    app.addHook('preClose', async () => { began(); }); // preClose hooks run in order: the gate's first
    // …and the server stops listening right after its idle connections were closed.
    const closedListener = draining.then(async () => {
        while (app.server.listening)
            await new Promise((r) => setImmediate(r));
    });
    return { app, draining: closedListener };
}
async function portOf(app) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    assert.ok(addr && typeof addr === 'object');
    return addr.port;
}
test('an answer held in a later onSend hook when the drain begins closes its kept-alive connection: app.close() does not wait for it', async () => {
    const { app, draining } = gatedApp();
    let entered;
    const inHook = new Promise((r) => { entered = r; });
    let release;
    const held = new Promise((r) => { release = r; });
    app.addHook('onSend', async (request, _reply, payload) => {
        if (request.url === '/held') {
            entered();
            await held; // as the vault's answers wait for their batch's fsync
        }
        return payload;
    });
    app.get('/held', async () => ({ ok: true }));
    const port = await portOf(app);
    const agent = new http.Agent({ keepAlive: true });
    try {
        const answer = get(port, '/held', agent);
        await inHook;
        const closed = app.close();
        await draining;
        release();
        const got = await answer;
        assert.equal(got.status, 200);
        assert.equal(got.connection, 'close', 'the answer sent during the drain closes its connection');
        // The client sends nothing more on it: only the server can end that connection.
        assert.ok(await within(closed, 5000), 'app.close() waited for the kept-alive connection');
    }
    finally {
        release();
        agent.destroy();
        await app.close();
    }
});
test('an answer whose body is still being written when the drain begins: its connection ends once it is sent', async () => {
    const { app, draining } = gatedApp();
    const body = new PassThrough();
    app.get('/stream', async (_request, reply) => {
        body.write('first ');
        return reply.type('text/plain').send(body);
    });
    const port = await portOf(app);
    const agent = new http.Agent({ keepAlive: true });
    try {
        let headersArrived;
        const headers = new Promise((r) => { headersArrived = r; });
        const answer = get(port, '/stream', agent, headersArrived);
        assert.equal((await headers).connection, 'keep-alive', 'the headers went out before the drain');
        const closed = app.close();
        await draining;
        body.end('last');
        const got = await answer;
        assert.equal(got.body, 'first last');
        assert.ok(await within(closed, 5000), 'app.close() waited for the kept-alive connection');
    }
    finally {
        body.destroy();
        agent.destroy();
        await app.close();
    }
});
//# sourceMappingURL=ops-shutdown-gate.test.js.map