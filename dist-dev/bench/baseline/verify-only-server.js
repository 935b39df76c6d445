/**
 * The read bench's baseline, as issue 19 defines it: the same fastify, the same protocol/ verifier
 * in the vault's default mode (Ed25519 on libuv's thread pool, `ed25519VerifyAsync`), a cached
 * KeyObject for the one machine key, an in-memory nonce map, no store, and a GET route answering a
 * fixed body shaped like the vault's read answer ({project, name, version, value}).
 *
 * Run as its own process (the bench pins it like the vault):
 *   node dist/bench/baseline/verify-only-server.js --public-key <base64> [--port 0] [--value-bytes 1024] [--verify thread-pool|sync]
 * It prints one line `{"url":"http://127.0.0.1:<port>"}` once listening.
 */
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { SikkerKeyError } from '../../protocol/errors.js';
import { keyIdFromPublicKey, parsePublicKey, publicKeyObject } from '../../protocol/keys.js';
import { ed25519Verify, ed25519VerifyAsync, verifyRequest } from '../../protocol/signing.js';
import { flag } from '../stats.js';
const args = process.argv.slice(2);
const raw = parsePublicKey(flag(args, 'public-key', ''));
const keyId = keyIdFromPublicKey(raw);
const key = publicKeyObject(raw);
const valueBytes = Number(flag(args, 'value-bytes', '1024'));
const mode = flag(args, 'verify', 'thread-pool');
if (mode !== 'thread-pool' && mode !== 'sync')
    throw new Error('--verify takes thread-pool or sync');
/** Claimed (key id, nonce hash) pairs until their retention ends; swept every few seconds. */
const claimed = new Map();
const nonces = {
    claim: (id, nonceHash, expiresAtUnix) => {
        const k = `${id}\u0000${nonceHash}`;
        const held = claimed.get(k);
        if (held !== undefined && held * 1000 > Date.now())
            return Promise.resolve(false);
        claimed.set(k, expiresAtUnix);
        return Promise.resolve(true);
    },
};
setInterval(() => {
    const now = Date.now() / 1000;
    for (const [k, until] of claimed)
        if (until < now)
            claimed.delete(k);
}, 5000).unref();
// Not secret: a fixed filler of the vault secret's length.
const answer = JSON.stringify({ project: 'p', name: 's', version: 1, value: createHash('sha256').update('filler').digest('hex').repeat(Math.ceil(valueBytes / 64)).slice(0, valueBytes) });
// fastify's defaults match the vault's router settings (case-sensitive, no trailing-slash rewriting).
const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
let authority = '';
app.addHook('preValidation', async (request) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    await verifyRequest({ method: request.method, target: request.raw.url ?? request.url, headers: request.headers, body }, {
        authority,
        nonces,
        lookupKey: (id) => (id === keyId ? key : undefined),
        verify: mode === 'sync' ? ed25519Verify : ed25519VerifyAsync,
    });
});
app.setErrorHandler((err, _request, reply) => {
    const sk = err instanceof SikkerKeyError ? err : new SikkerKeyError('SK_ERR_INTERNAL', 'unexpected error');
    void reply.code(sk.statusCode).send(sk.toBody());
});
app.get('/v1/projects/:project/secrets/:name', {
    schema: { params: { type: 'object', required: ['project', 'name'], properties: { project: { type: 'string' }, name: { type: 'string' } } } },
}, async (_request, reply) => reply.type('application/json; charset=utf-8').send(answer));
const address = await app.listen({ host: '127.0.0.1', port: Number(flag(args, 'port', '0')) });
authority = new URL(address).host;
process.stdout.write(`${JSON.stringify({ url: address })}\n`);
for (const signal of ['SIGINT', 'SIGTERM'])
    process.once(signal, () => { void app.close().then(() => process.exit(0)); });
//# sourceMappingURL=verify-only-server.js.map