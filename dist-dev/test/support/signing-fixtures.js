/**
 * Helpers for the request-signing tests: an in-memory nonce store, and an independent, permissive
 * RFC 9421 signer that signs whatever Signature-Input it is given (so a test can produce a
 * correctly signed request that breaks one rule of the profile, and prove the rule itself — not
 * the cryptography — refuses it). It deliberately does not use protocol/signing.ts.
 */
import { sign } from 'node:crypto';
import { parseDictionary, serializeInnerList, serializeItem } from 'structured-headers';
/** A NonceStore in a Map; `claims` counts every call, `held` the claimed pairs. */
export function memoryNonceStore() {
    const held = new Map();
    const store = {
        held,
        claims: 0,
        claim(keyId, nonceHash, expiresAtUnix) {
            store.claims += 1;
            const k = `${keyId}\u0000${nonceHash}`;
            if (held.has(k))
                return Promise.resolve(false);
            held.set(k, expiresAtUnix);
            return Promise.resolve(true);
        },
    };
    return store;
}
function headerValue(headers, name) {
    const v = headers[name];
    if (v === undefined)
        throw new Error(`test signer: header ${name} is absent`);
    return (Array.isArray(v) ? v.join(', ') : v).trim();
}
/**
 * The Signature header value (`<label>=:<base64>:`) for the first member of `signatureInput`,
 * computed straight from RFC 9421 §2.5 over `req` as the verifier will see it.
 */
export function signForInput(req, authority, signatureInput, privateKey) {
    const first = [...parseDictionary(signatureInput)][0];
    if (first === undefined)
        throw new Error('test signer: empty Signature-Input');
    const [label, member] = first;
    const [items] = member;
    const q = req.target.indexOf('?');
    const lines = items.map(([name, params]) => {
        let value;
        switch (name) {
            case '@method':
                value = req.method;
                break;
            case '@authority':
                value = authority.toLowerCase();
                break;
            case '@path':
                value = q === -1 ? req.target : req.target.slice(0, q);
                break;
            case '@query':
                value = q === -1 ? '?' : req.target.slice(q);
                break;
            default: value = headerValue(req.headers, String(name));
        }
        return `${serializeItem([name, params])}: ${value}`;
    });
    lines.push(`"@signature-params": ${serializeInnerList(member)}`);
    const signature = sign(null, Buffer.from(lines.join('\n'), 'utf8'), privateKey);
    return `${label}=:${signature.toString('base64')}:`;
}
//# sourceMappingURL=signing-fixtures.js.map