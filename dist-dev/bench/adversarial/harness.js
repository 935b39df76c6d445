/**
 * What every category of the adversarial run shares: the in-process vault (startTestVault over a
 * fresh SQLite store) with an operator and a machine key, a seeded random source, request
 * signing and sending through fastify's inject (each from a random source address, so the
 * per-address failure budget never turns the run into 429s), a bounded-concurrency loop, and the
 * per-route count of requests that reached a handler (an `onRoute` hook wraps every handler).
 *
 * @example
 *   const h = await startHarness({ seed: 1 });
 *   const req = h.signed(h.operator, 'GET', '/v1/projects');
 *   const answer = await h.send(req);
 *   await h.close();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentityKey } from '../../protocol/keys.js';
import { signRequest } from '../../protocol/signing.js';
import { openStore } from '../../vault-server/store/open-store.js';
import { startTestVault, TEST_AUTHORITY } from '../../test/support/vault-app.js';
export function createRand(seed) {
    let s = seed >>> 0;
    const next = () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const rand = next;
    rand.int = (min, max) => min + Math.floor(next() * (max - min + 1));
    rand.pick = (items) => items[Math.floor(next() * items.length)];
    rand.seed = () => Math.floor(next() * 0x7fffffff);
    return rand;
}
/** The names the run creates, so generators can aim at things that exist. */
export const FIXTURE = Object.freeze({
    project: 'shop',
    otherProject: 'other',
    secrets: ['db', 'api', 'db-admin'],
    /** Machines the route fuzz may name (and disable, approve …); never the signing machine. */
    victimMachines: ['victim-1', 'victim-2'],
    signingMachine: 'adv-agent',
});
export async function startHarness(opts) {
    const dir = mkdtempSync(join(tmpdir(), 'sk-adversarial-'));
    const store = await openStore({ dataDir: join(dir, 'data') });
    const routes = [];
    const handlerHits = new Map();
    const onRoute = (route) => {
        routes.push(route);
        const key = `${String(route.method)} ${route.url}`;
        handlerHits.set(key, 0);
        const inner = route.handler;
        // Counting at the handler itself: a request got here only past the auth hook and the schema.
        route.handler = function counted(...args) {
            handlerHits.set(key, (handlerHits.get(key) ?? 0) + 1);
            return inner.apply(this, args);
        };
    };
    let v;
    try {
        v = await startTestVault(store, { authFailureLimit: 1_000_000_000, onRoute, ...(opts.limits ? { limits: opts.limits } : {}) });
    }
    catch (err) {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
        throw err;
    }
    const rand = createRand(opts.seed);
    const address = () => (rand() < 0.85
        ? `10.${rand.int(0, 255)}.${rand.int(0, 255)}.${rand.int(1, 254)}`
        : `2001:db8::${rand.int(1, 0xffff).toString(16)}:${rand.int(1, 0xffff).toString(16)}`);
    const signed = (key, method, target, body, o = {}) => {
        const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
        const headers = signRequest({ method, authority: o.authority ?? TEST_AUTHORITY, target, ...(payload && payload.length > 0 ? { body: payload, contentType: o.contentType ?? 'application/json' } : {}) }, { keyId: key.keyId, privateKey: key.privateKey }, o.now !== undefined ? { now: o.now } : {});
        return { method, target, headers, payload: payload && payload.length > 0 ? payload : undefined };
    };
    const loggedErrors = { count: 0, examples: [] };
    // startTestVault keeps every log line in memory: scan them for errors, then let them go.
    const drainLogs = () => {
        for (const line of v.logs) {
            if (/"level":(50|60)\b/.test(line)) {
                loggedErrors.count += 1;
                if (loggedErrors.examples.length < 5)
                    loggedErrors.examples.push(line.slice(0, 500));
            }
        }
        v.logs.length = 0;
    };
    const send = async (req, o = {}) => {
        if (v.logs.length > 5_000)
            drainLogs();
        if (o.tcp)
            return sendTcp(v, req);
        const res = await v.app.inject({
            method: req.method, url: req.target,
            headers: { host: TEST_AUTHORITY, ...req.headers },
            ...(req.payload !== undefined ? { payload: req.payload } : {}),
            remoteAddress: o.remoteAddress ?? address(),
        });
        let body;
        try {
            body = res.body ? JSON.parse(res.body) : undefined;
        }
        catch {
            body = undefined;
        }
        return { method: req.method, target: req.target, status: res.statusCode, body, raw: res.body };
    };
    const h = {
        v, store, operator: v.operator, machine: generateIdentityKey(), rand, routes, handlerHits, signed, send, address, loggedErrors,
        close: async () => {
            drainLogs();
            await v.close();
            await store.close();
            rmSync(dir, { recursive: true, force: true });
        },
    };
    try {
        await seedFixture(h);
    }
    catch (err) {
        await h.close();
        throw err;
    }
    // Fixture requests are not hostile: start the handler counts from zero.
    for (const k of handlerHits.keys())
        handlerHits.set(k, 0);
    return h;
}
/** Projects, secrets, the signing machine (with grants) and victim machines, through the API. */
async function seedFixture(h) {
    const ok = async (method, target, body, want) => {
        const res = await h.v.call(h.operator, method, target, body);
        if (res.status !== want)
            throw new Error(`fixture ${method} ${target}: ${res.status} ${res.raw}`);
    };
    await ok('POST', '/v1/projects', { name: FIXTURE.project }, 201);
    await ok('POST', '/v1/projects', { name: FIXTURE.otherProject }, 201);
    await ok('PUT', `/v1/projects/${FIXTURE.project}/secrets/db`, { value: 'adversarial-db-value' }, 200);
    await ok('PUT', `/v1/projects/${FIXTURE.project}/secrets/api`, { fields: { user: 'u', password: 'p-adversarial' } }, 200);
    await ok('PUT', `/v1/projects/${FIXTURE.project}/secrets/db-admin`, { fields: { host: '127.0.0.1', port: '5432', user: 'admin', password: 'pw' } }, 200);
    await ok('POST', '/v1/machines', { name: FIXTURE.signingMachine, publicKey: Buffer.from(h.machine.publicKey).toString('base64'), labels: ['rotator'] }, 201);
    for (const secret of ['db', 'api'])
        await ok('POST', '/v1/grants', { machine: FIXTURE.signingMachine, project: FIXTURE.project, secret }, 201);
    for (const name of FIXTURE.victimMachines) {
        const key = generateIdentityKey();
        await ok('POST', '/v1/machines', { name, publicKey: Buffer.from(key.publicKey).toString('base64') }, 201);
    }
}
/** Runs `fn(i)` for i in [0, n) with at most `concurrency` in flight. */
export async function pool(n, concurrency, fn) {
    let next = 0;
    const worker = async () => {
        while (next < n) {
            const i = next;
            next += 1;
            await fn(i);
        }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}
function sendTcp(v, req) {
    const address = v.app.server.address();
    if (!address)
        return Promise.reject(new Error('the vault is not listening'));
    return new Promise((resolve, reject) => {
        const r = http.request({ host: '127.0.0.1', port: address.port, method: req.method, path: req.target, agent: false, headers: { host: TEST_AUTHORITY, ...req.headers } }, (res) => {
            let raw = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { raw += d; });
            res.on('end', () => {
                let body;
                try {
                    body = raw ? JSON.parse(raw) : undefined;
                }
                catch {
                    body = undefined;
                }
                resolve({ method: req.method, target: req.target, status: res.statusCode ?? 0, body, raw });
            });
        });
        r.on('error', reject);
        r.end(req.payload);
    });
}
//# sourceMappingURL=harness.js.map