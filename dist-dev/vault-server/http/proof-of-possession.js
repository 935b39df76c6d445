import { keyIdFromPublicKey, publicKeyObject } from '../../protocol/keys.js';
import { verifyRequest } from '../../protocol/signing.js';
import { rateLimited } from './auth-guard.js';
/** Verifies the request's signature with `raw` (and only it); returns its key id. */
export async function verifyProofOfPossession(req, deps, raw) {
    const keyId = keyIdFromPublicKey(raw);
    await verifyRequest({ method: req.method, target: req.raw.url ?? req.url, headers: req.headers, body: req.rawBody ?? Buffer.alloc(0) }, {
        authority: pickAuthority(req, deps.authorities), now: deps.now, nonces: deps.nonces, verify: deps.verify,
        lookupKey: (id) => (id === keyId ? publicKeyObject(raw) : undefined),
    });
    return keyId;
}
/** An onRequest hook: an address that spent its failure budget is refused before any work. */
export function refuseSpentAddress(guard) {
    return async (req) => {
        const wait = guard.retryAfter(req.ip);
        if (wait > 0)
            throw rateLimited(wait);
    };
}
/**
 * The Host header chooses among the configured authorities only (as the auth hook does): an
 * unlisted Host falls back to the first, and the signature then fails unless it covered that.
 */
export function pickAuthority(request, authorities) {
    const host = request.headers.host?.toLowerCase();
    if (host && authorities.includes(host))
        return host;
    return authorities[0] ?? '';
}
//# sourceMappingURL=proof-of-possession.js.map