// Requests Node's HTTP server refuses before fastify routes them get our error shape and a
// registered code, like every other refusal: a request slower than the listener's timeouts is
// 408 SK_ERR_REQUEST_TIMEOUT (it was fastify's own `{"error":"Request Timeout",…}`, found by the
// adversarial run), headers over Node's 16 KiB are 431 SK_ERR_HEADERS_TOO_LARGE, bytes that are
// not HTTP are 400 SK_ERR_BAD_REQUEST; each connection is then closed and the vault serves on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { ERROR_CODES } from '../../protocol/errors.js';
import { tempDataDir } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { openStore } from '../../vault-server/store/open-store.js';
let v;
let store;
let remove;
let port = 0;
before(async () => {
    const made = await tempDataDir();
    remove = made.remove;
    store = await openStore(made.location);
    v = await startTestVault(store, { limits: { headersTimeoutMs: 500, requestTimeoutMs: 1_000, checkIntervalMs: 100 } });
    await v.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = v.app.server.address();
    port = typeof addr === 'object' && addr ? addr.port : 0;
});
after(async () => {
    await v.close();
    await store.close();
    await remove();
});
/** Writes `head` (and `trickle` a byte every 50 ms); resolves with what came back once the server closed. */
function exchange(head, trickle = '') {
    return new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1');
        let data = '';
        let at = 0;
        let timer;
        const deadline = setTimeout(() => socket.destroy(), 8_000);
        socket.on('data', (d) => { data += d.toString('latin1'); });
        socket.on('error', () => undefined);
        socket.on('close', () => {
            clearTimeout(deadline);
            if (timer)
                clearInterval(timer);
            const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
            let code;
            try {
                code = JSON.parse(data.slice(data.indexOf('\r\n\r\n') + 4)).error?.code;
            }
            catch {
                code = undefined;
            }
            resolve({ status, code, closed: true });
        });
        socket.on('connect', () => {
            socket.write(head);
            if (trickle) {
                timer = setInterval(() => {
                    if (at < trickle.length && !socket.destroyed)
                        socket.write(trickle[at++]);
                }, 50);
            }
        });
    });
}
const cases = [
    { what: 'a body trickled past the request timeout', head: 'POST /v1/secrets:batchGet HTTP/1.1\r\nHost: vault.test:8200\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n', trickle: ' '.repeat(500), status: 408, code: 'SK_ERR_REQUEST_TIMEOUT' },
    { what: 'headers trickled past the headers timeout', head: 'GET /v1/projects HTTP/1.1\r\n', trickle: `X-Pad: ${'a'.repeat(200)}`, status: 408, code: 'SK_ERR_REQUEST_TIMEOUT' },
    { what: 'headers over 16 KiB', head: `GET /v1/projects HTTP/1.1\r\nHost: vault.test:8200\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431, code: 'SK_ERR_HEADERS_TOO_LARGE' },
    { what: 'bytes that are not HTTP', head: 'HELLO THERE\r\n\r\n', status: 400, code: 'SK_ERR_BAD_REQUEST' },
];
for (const c of cases) {
    test(`${c.what}: ${c.status} ${c.code}, in our error shape, then the connection is closed`, async () => {
        const res = await exchange(c.head, c.trickle);
        assert.equal(res.status, c.status);
        assert.equal(res.code, c.code);
        assert.equal(ERROR_CODES[c.code].status, c.status, 'the registry agrees on the status');
        const health = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: 'close' } });
        assert.equal(health.status, 200, 'the vault serves on');
    });
}
//# sourceMappingURL=client-error-shape.test.js.map