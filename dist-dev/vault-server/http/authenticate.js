import { SikkerKeyError } from '../../protocol/errors.js';
import { publicKeyObject } from '../../protocol/keys.js';
import { ed25519Verify, ed25519VerifyAsync, verifyRequest } from '../../protocol/signing.js';
import { rateLimited } from './auth-guard.js';
import { pickAuthority } from './proof-of-possession.js';
import { createMachineConstraintCheck } from '../modules/machines/machine-constraints.js';
const ROLE_RANK = { viewer: 0, admin: 1, owner: 2 };
/** Looks a key id up in exactly the tables named, in that order; never anywhere else. */
async function findIdentity(store, kinds, keyId) {
    for (const kind of kinds) {
        if (kind === 'machine') {
            const row = await store.db.selectFrom('machines')
                .select(['id', 'name', 'public_key', 'status', 'expires_at', 'ip_allowlist', 'country_allowlist', 'time_window', 'constraints'])
                .where('key_id', '=', keyId).executeTakeFirst();
            if (row)
                return { kind, id: row.id, name: row.name, publicKey: row.public_key, status: row.status, expiresAt: row.expires_at, machine: row };
        }
        else if (kind === 'operator') {
            const row = await store.db.selectFrom('operator_keys').innerJoin('operators', 'operators.id', 'operator_keys.operator_id')
                .select(['operators.id as id', 'operators.name as name', 'operator_keys.public_key as public_key', 'operators.status as status',
                'operators.role as role', 'operator_keys.revoked_at as revoked_at'])
                .where('operator_keys.key_id', '=', keyId).executeTakeFirst();
            if (row) {
                return { kind, id: row.id, name: row.name, publicKey: row.public_key, status: row.revoked_at === null ? row.status : 'key_revoked', role: row.role, expiresAt: null };
            }
        }
        else {
            const row = await store.db.selectFrom('ai_agents').select(['id', 'name', 'public_key', 'status'])
                .where('key_id', '=', keyId).executeTakeFirst();
            if (row)
                return { kind, id: row.id, name: row.name, publicKey: row.public_key, status: row.status, expiresAt: null };
        }
    }
    return undefined;
}
/**
 * Installs the signed-request check as a preValidation hook: by then the raw body bytes are
 * buffered (our only content parser keeps them raw) and the digest can be recomputed over them
 * before any JSON is parsed. JSON parsing happens here, after the signature holds.
 */
export function installAuthentication(app, opts) {
    // A key id is the hash of its public key, so the KeyObject cached for it never goes stale;
    // the identity's status is still read on every request.
    const keyCache = new Map();
    const identities = opts.caches?.map();
    const lookupIdentity = async (kinds, keyId) => {
        if (!opts.caches || !identities)
            return findIdentity(opts.store, kinds, keyId);
        const view = await opts.caches.view(opts.store.db);
        return (await view.get(identities, `${kinds.join(',')}\u0000${keyId}`, async () => (await findIdentity(opts.store, kinds, keyId)) ?? null)) ?? undefined;
    };
    const now = opts.now ?? Date.now;
    const checkMachine = opts.checkMachine ?? createMachineConstraintCheck({ now });
    const keyObjectFor = (keyId, raw) => {
        let key = keyCache.get(keyId);
        if (!key) {
            key = publicKeyObject(raw);
            if (keyCache.size > 10_000)
                keyCache.clear();
            keyCache.set(keyId, key);
        }
        return key;
    };
    app.addHook('preValidation', async (request) => {
        const routeAuth = request.routeOptions.config.auth;
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        request.rawBody = body;
        if (routeAuth === undefined || routeAuth === 'none') {
            request.body = parseJsonBody(request, body);
            return;
        }
        const started = process.hrtime.bigint();
        let identity;
        // Set once every check that needs no cryptography has passed and the key id named a key.
        let reachedCrypto = false;
        const verifyOnce = opts.verify ?? (opts.asyncVerify ? ed25519VerifyAsync : ed25519Verify);
        try {
            const verified = await verifyRequest({ method: request.method, target: request.raw.url ?? request.url, headers: request.headers, body }, {
                authority: pickAuthority(request, opts.authorities),
                now,
                nonces: opts.nonces,
                verify: (key, message, signature) => {
                    reachedCrypto = true;
                    opts.onVerify?.();
                    return verifyOnce(key, message, signature);
                },
                lookupKey: async (id) => {
                    identity = await lookupIdentity(routeAuth, id);
                    return identity ? keyObjectFor(id, identity.publicKey) : undefined;
                },
            });
            if (opts.commits)
                request.durableMark = opts.commits.committedSeq();
            opts.onAuthenticated?.(Number(process.hrtime.bigint() - started) / 1e9);
            if (!identity)
                throw new SikkerKeyError('SK_ERR_SIGNATURE_UNKNOWN_KEY');
            checkStatus(identity, now());
            if (identity.machine)
                await checkMachine(identity.machine, request.ip);
            const minRole = request.routeOptions.config.minRole;
            if (minRole && identity.kind === 'operator' && ROLE_RANK[identity.role ?? 'viewer'] < ROLE_RANK[minRole]) {
                throw new SikkerKeyError('SK_ERR_FORBIDDEN', `this needs the operator role ${minRole} or higher`);
            }
            request.caller = {
                kind: identity.kind, id: identity.id, name: identity.name, keyId: verified.keyId,
                sourceIp: request.ip, ...(identity.role ? { role: identity.role } : {}),
            };
        }
        catch (err) {
            const skErr = err instanceof SikkerKeyError ? err : new SikkerKeyError('SK_ERR_INTERNAL', 'authentication failed unexpectedly', { cause: err });
            if (skErr.code === 'SK_ERR_VERIFY_BUSY')
                opts.onFailure?.(request, skErr, 'busy');
            if (skErr.statusCode !== 401)
                throw skErr;
            if (!reachedCrypto) {
                // Nothing was verified: this address may be refused such requests outright.
                const wait = opts.addressRetryAfter?.(request) ?? 0;
                if (wait > 0) {
                    const limited = rateLimited(wait);
                    opts.onFailure?.(request, limited, 'limited');
                    throw limited;
                }
                opts.onFailure?.(request, skErr, 'precheck');
            }
            else {
                opts.onFailure?.(request, skErr, skErr.code === 'SK_ERR_SIGNATURE_REPLAYED' ? 'replay' : 'signature');
            }
            throw skErr;
        }
        request.body = parseJsonBody(request, body);
    });
    return { forgetKey: (keyId) => keyCache.delete(keyId) };
}
function checkStatus(identity, nowMs) {
    if (identity.status === 'active' && (identity.expiresAt === null || identity.expiresAt > nowMs))
        return;
    if (identity.status === 'pending_approval') {
        throw new SikkerKeyError('SK_ERR_MACHINE_PENDING_APPROVAL', 'this machine waits for an operator\'s approval (sikkerkey machine approve NAME)');
    }
    if (identity.status === 'expired' || (identity.expiresAt !== null && identity.expiresAt <= nowMs)) {
        throw new SikkerKeyError('SK_ERR_MACHINE_EXPIRED', 'this machine\'s lifetime has ended');
    }
    if (identity.kind === 'machine')
        throw new SikkerKeyError('SK_ERR_MACHINE_DISABLED', 'this machine is disabled');
    if (identity.status === 'key_revoked')
        throw new SikkerKeyError('SK_ERR_KEY_REVOKED', `this key of ${identity.kind} ${identity.name} was revoked`);
    throw new SikkerKeyError('SK_ERR_FORBIDDEN', `this ${identity.kind} is ${identity.status}`);
}
function parseJsonBody(request, body) {
    if (body.length === 0)
        return undefined;
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) {
        throw new SikkerKeyError('SK_ERR_BAD_REQUEST', 'request bodies must be application/json');
    }
    try {
        return JSON.parse(body.toString('utf8'));
    }
    catch {
        throw new SikkerKeyError('SK_ERR_BAD_REQUEST', 'the body is not valid JSON');
    }
}
//# sourceMappingURL=authenticate.js.map