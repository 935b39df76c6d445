import { pino } from 'pino';
import { Writable } from 'node:stream';
import { generateIdentityKey } from '../../protocol/keys.js';
import { signRequest } from '../../protocol/signing.js';
import { buildApp } from '../../vault-server/app.js';
import { initVault, openVault } from '../../vault-server/vault-state.js';
export const TEST_AUTHORITY = 'vault.test:8200';
/**
 * `authFailureLimit` defaults high here: functional tests send many deliberately bad requests from
 * one address, and the guard tests set the production default (20) themselves.
 */
export async function startTestVault(store, opts = {}) {
    const operator = generateIdentityKey();
    const { rootKey } = await initVault(store, { operatorPublicKey: Buffer.from(operator.publicKey).toString('base64'), operatorName: 'owner' });
    const keyring = await openVault(store, rootKey);
    const logs = [];
    const sink = new Writable({ write(chunk, _enc, cb) { logs.push(chunk.toString()); cb(); } });
    const log = pino({ level: 'debug' }, sink);
    const { app, ctx, metrics } = await buildApp({ store, keyring, log, authorities: [TEST_AUTHORITY], authFailureLimit: opts.authFailureLimit ?? 100_000, ...(opts.now ? { now: opts.now } : {}),
        ...(opts.geoipDb ? { geoipDb: opts.geoipDb } : {}), ...(opts.trustProxy ? { trustProxy: opts.trustProxy } : {}), ...(opts.onRoute ? { onRoute: opts.onRoute } : {}), ...(opts.limits ? { limits: opts.limits } : {}) });
    const send = async (method, target, headers, payload, o = {}) => {
        const res = await app.inject({
            method: method, url: target, headers: { host: TEST_AUTHORITY, ...headers }, ...(payload !== undefined ? { payload } : {}),
            ...(o.remoteAddress ? { remoteAddress: o.remoteAddress } : {}),
        });
        let body;
        try {
            body = res.body ? JSON.parse(res.body) : undefined;
        }
        catch {
            body = res.body;
        }
        return { status: res.statusCode, headers: res.headers, body, raw: res.body };
    };
    const sign = (key, method, target, body) => {
        const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
        const headers = signRequest({ method, authority: TEST_AUTHORITY, target, ...(payload.length ? { body: payload, contentType: 'application/json' } : {}) }, { keyId: key.keyId, privateKey: key.privateKey }, opts.now ? { now: Math.floor(opts.now() / 1000) } : {});
        return { headers, payload };
    };
    const call = async (key, method, target, body, o = {}) => {
        const signed = sign(key, method, target, body);
        return send(method, target, { ...signed.headers, ...o.headers }, signed.payload.length ? signed.payload : undefined, o.remoteAddress ? { remoteAddress: o.remoteAddress } : {});
    };
    return {
        app, ctx, metrics, operator, rootKey, logs, call, sign, send,
        addMachine: async (name, labels = []) => {
            const key = generateIdentityKey();
            const res = await call(operator, 'POST', '/v1/machines', { name, publicKey: Buffer.from(key.publicKey).toString('base64'), labels });
            if (res.status !== 201)
                throw new Error(`machine add failed: ${res.raw}`);
            return key;
        },
        close: () => app.close(),
    };
}
//# sourceMappingURL=vault-app.js.map