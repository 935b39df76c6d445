/**
 * Category 5 of the adversarial run: bodies meant to exhaust the vault.
 *
 * - through inject: bodies over the body limit (signed, so the digest is right, and unsigned),
 *   and deeply nested JSON (100,000 levels of `[`, 40,000 of `{"a":`) validly signed by the
 *   operator or the machine for routes that take a body, unsigned, and to `/v1/enroll` (which
 *   parses before it authenticates) — each must be a registered 4xx;
 * - over real TCP sockets to the same vault listening on 127.0.0.1: headers and bodies trickled
 *   a byte at a time (Content-Length and chunked), a 10 GB Content-Length, a chunked body over
 *   the limit, headers over Node's 16 KiB, bytes that are not HTTP. Each must be answered with a registered 4xx, Node's own 408 of its request or
 *   headers timeout, or closed by the server — never left hanging past the timeouts.
 */
import { connect } from 'node:net';
import { TEST_AUTHORITY } from '../../test/support/vault-app.js';
import { FIXTURE, pool } from './harness.js';
export const DEEP_ARRAYS = Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
const DEEP_OBJECTS = Buffer.from(`${'{"a":'.repeat(40_000)}1${'}'.repeat(40_000)}`);
const DEEP_IN_FIELD = Buffer.from(`{"items":${'['.repeat(60_000)}${']'.repeat(60_000)}}`);
const DEEP_IN_VALUE = Buffer.from(`{"value":${'{"v":'.repeat(30_000)}1${'}'.repeat(30_000)}}`);
/** Where the signed deep bodies go, and as whom. */
const DEEP_TARGETS = [
    { who: 'operator', method: 'PUT', target: `/v1/projects/${FIXTURE.otherProject}/secrets/deep` },
    { who: 'operator', method: 'POST', target: '/v1/grants' },
    { who: 'operator', method: 'POST', target: `/v1/projects/${FIXTURE.project}/unlock` },
    { who: 'machine', method: 'POST', target: '/v1/secrets:batchGet' },
    { who: 'machine', method: 'POST', target: '/v1/agent/rotations/1/fail' },
];
/** How `n` body requests are split: signed deep arrays cost ~0.1 s of JSON.parse each, so they are capped. */
export function planBodies(n) {
    const sockets = Math.max(4, Math.min(400, Math.round(n * 0.08)));
    const deepSigned = Math.max(2, Math.min(300, Math.round(n * 0.1)));
    const rest = Math.max(0, n - sockets - deepSigned);
    const oversized = Math.ceil(rest / 2);
    return { oversized, deepSigned, deepUnsigned: rest - oversized, sockets };
}
export async function runBodies(h, tally, plan, bodyLimit, concurrency = 8) {
    const big = Buffer.alloc(bodyLimit * 4, 0x61);
    const sizes = [bodyLimit + 1, bodyLimit * 2, bodyLimit * 4];
    await pool(plan.oversized, concurrency, async (i) => {
        const payload = big.subarray(0, sizes[i % sizes.length]);
        const req = i % 2 === 0
            ? h.signed(h.operator, 'PUT', `/v1/projects/${FIXTURE.otherProject}/secrets/big`, payload)
            : { method: 'POST', target: i % 4 === 1 ? '/v1/enroll' : '/v1/secrets:batchGet', headers: { 'content-type': 'application/json' }, payload };
        tally.check('bodies', await h.send(req), { mustRefuse: 'body' });
    });
    const bodies = [DEEP_ARRAYS, DEEP_OBJECTS, DEEP_IN_FIELD, DEEP_IN_VALUE];
    // Signed deep arrays are the expensive ones (JSON.parse of 100,000 levels): fewer at once.
    await pool(plan.deepSigned, 2, async (i) => {
        const t = DEEP_TARGETS[i % DEEP_TARGETS.length];
        const payload = bodies[Math.floor(i / DEEP_TARGETS.length) % bodies.length];
        const req = h.signed(t.who === 'operator' ? h.operator : h.machine, t.method, t.target, payload);
        tally.check('bodies', await h.send(req), { mustRefuse: 'body' });
    });
    await pool(plan.deepUnsigned, concurrency, async (i) => {
        const payload = bodies[i % bodies.length];
        const target = i % 3 === 0 ? '/v1/enroll' : DEEP_TARGETS[i % DEEP_TARGETS.length].target;
        const req = { method: target === '/v1/enroll' ? 'POST' : DEEP_TARGETS[i % DEEP_TARGETS.length].method, target, headers: { 'content-type': 'application/json' }, payload };
        tally.check('bodies', await h.send(req), { mustRefuse: 'body' });
    });
}
function scripts(h, bodyLimit) {
    const signedPut = h.signed(h.operator, 'PUT', `/v1/projects/${FIXTURE.otherProject}/secrets/slow`, JSON.stringify({ value: 'x'.repeat(200) }));
    const headerLines = (extra) => Object.entries(extra).map(([k, v]) => `${k}: ${String(v)}\r\n`).join('');
    const chunked = (data) => Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n0\r\n\r\n')]);
    return [
        { name: 'slow headers', head: 'GET /v1/projects HTTP/1.1\r\n', trickle: Buffer.from(`host: ${TEST_AUTHORITY}\r\nx-pad: ${'a'.repeat(4000)}\r\n\r\n`), everyMs: 40 },
        { name: 'slow signed body', head: `PUT ${signedPut.target} HTTP/1.1\r\nhost: ${TEST_AUTHORITY}\r\n${headerLines(signedPut.headers)}content-length: ${signedPut.payload?.length ?? 0}\r\n\r\n`, trickle: signedPut.payload ?? Buffer.alloc(0), everyMs: 40 },
        { name: 'slow unsigned body', head: `POST /v1/secrets:batchGet HTTP/1.1\r\nhost: ${TEST_AUTHORITY}\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n`, trickle: Buffer.alloc(5000, 0x20), everyMs: 40 },
        { name: 'slow chunked body', head: `POST /v1/enroll HTTP/1.1\r\nhost: ${TEST_AUTHORITY}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`, trickle: chunked(Buffer.alloc(3000, 0x20)), everyMs: 40 },
        { name: '10 GB content-length', head: `PUT /v1/projects/${FIXTURE.otherProject}/secrets/huge HTTP/1.1\r\nhost: ${TEST_AUTHORITY}\r\ncontent-type: application/json\r\ncontent-length: 10737418240\r\n\r\n`, trickle: Buffer.alloc(2000, 0x61), everyMs: 40 },
        { name: 'headers over 16 KiB', head: `GET /v1/projects HTTP/1.1\r\nhost: ${TEST_AUTHORITY}\r\nx-pad: ${'a'.repeat(20_000)}\r\n\r\n`, trickle: Buffer.alloc(0), everyMs: 0 },
        { name: 'not HTTP', head: `GET /v1/projects HTTP/1.1\r\nhost: ${TEST_AUTHORITY}\r\nbad header\u0001: x\r\ncontent-length: -1\r\n\r\n`, trickle: Buffer.alloc(0), everyMs: 0 },
        { name: 'chunked over the limit', head: `POST /v1/secrets:batchGet HTTP/1.1\r\nhost: ${TEST_AUTHORITY}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n`, trickle: chunked(Buffer.alloc(bodyLimit + 1024, 0x61)), everyMs: 0 },
    ];
}
/** Reads whatever the server answers on one socket; `closed` when it closed without answering. */
function runScript(port, s, deadlineMs) {
    return new Promise((resolve) => {
        const socket = connect({ host: '127.0.0.1', port });
        const chunks = [];
        let timer;
        let at = 0;
        let done = false;
        const [method = 'GET', target = '/'] = s.head.split(' ');
        const finish = (hung) => {
            if (done)
                return;
            done = true;
            if (timer)
                clearInterval(timer);
            clearTimeout(deadline);
            socket.destroy();
            const text = Buffer.concat(chunks).toString('latin1');
            const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
            if (!m)
                return resolve({ method, target, status: 0, body: undefined, closed: true, hung });
            const status = Number(m[1]);
            const rest = text.slice(text.indexOf('\r\n\r\n') + 4);
            let body;
            try {
                body = rest ? JSON.parse(rest) : undefined;
            }
            catch {
                body = undefined;
            }
            resolve({ method, target, status, body, serverTimeout: status === 408 && body === undefined, hung });
        };
        const deadline = setTimeout(() => finish(true), deadlineMs);
        socket.on('data', (d) => {
            chunks.push(d);
            // One answer is all we wait for: its head and (when it says how long) its body.
            const text = Buffer.concat(chunks).toString('latin1');
            const split = text.indexOf('\r\n\r\n');
            const len = /\r\ncontent-length: (\d+)/i.exec(text);
            if (split >= 0 && (len === null || text.length - split - 4 >= Number(len[1])))
                finish(false);
        });
        socket.on('error', () => finish(false));
        socket.on('close', () => finish(false));
        socket.on('connect', () => {
            socket.write(s.head);
            if (s.everyMs === 0) {
                socket.write(s.trickle);
                return;
            }
            timer = setInterval(() => {
                if (at >= s.trickle.length || socket.destroyed) {
                    if (timer)
                        clearInterval(timer);
                    return;
                }
                socket.write(s.trickle.subarray(at, at + 1));
                at += 1;
            }, s.everyMs);
        });
    });
}
/**
 * `n` sockets against the harness's vault listening on 127.0.0.1 (its request timeout should be
 * short, e.g. 3 s, for a quick run), `concurrency` at a time.
 */
export async function runSlowSockets(h, tally, n, opts) {
    const address = h.v.app.server.address();
    if (!address)
        throw new Error('the vault is not listening');
    const outcome = {};
    // Node checks its timeouts every checkIntervalMs on the event loop, which the other categories
    // keep busy: a socket counts as hung only when nothing came 10 s after its request timeout.
    const deadlineMs = opts.requestTimeoutMs + 10_000;
    await pool(n, opts.concurrency ?? 50, async (i) => {
        const list = scripts(h, opts.bodyLimit);
        const s = list[i % list.length];
        const started = performance.now();
        const a = await runScript(address.port, s, deadlineMs);
        const key = a.hung ? 'hung' : a.closed ? 'closed' : a.serverTimeout ? '408-timeout' : String(a.status);
        const o = (outcome[s.name] ??= {});
        o[key] = (o[key] ?? 0) + 1;
        o.slowestMs = Math.max(o.slowestMs ?? 0, Math.round(performance.now() - started));
        if (a.hung)
            tally.fail('bodies', 'hangs', `${s.name}: neither answered nor closed within ${deadlineMs} ms`);
        tally.check('bodies', a, { mustRefuse: 'body' });
    });
    return outcome;
}
//# sourceMappingURL=body-abuse.js.map