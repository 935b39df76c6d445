/**
 * RFC 9530 `Content-Digest` for SikkerKey requests: computed by the signer over the exact body
 * bytes it sends, recomputed by the verifier over the exact bytes it received, before anything
 * parses them as JSON.
 *
 * @example
 *   computeContentDigest('');                    // 'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:'
 *   checkContentDigest(req.headers['content-digest'], rawBody); // throws SikkerKeyError on mismatch
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { parseDictionary, serializeDictionary } from 'structured-headers';
import { SikkerKeyError } from './errors.js';
/** The only algorithms accepted (RFC 9530 lists sha-256 and sha-512 as the active ones). */
export const DIGEST_ALGORITHMS = new Map([
    ['sha-256', 'sha256'],
    ['sha-512', 'sha512'],
]);
/** Longest Content-Digest header we parse; a sha-256 plus a sha-512 entry is under 150 characters. */
const MAX_DIGEST_HEADER_LENGTH = 1024;
function toBytes(body) {
    return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}
/**
 * The `Content-Digest` header value for a body: `sha-256=:<base64>:` (or `sha-512=:…:`).
 * A string body is hashed as its UTF-8 bytes.
 *
 * @example
 *   computeContentDigest('{"hello": "world"}'); // 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:'
 */
export function computeContentDigest(body, alg = 'sha-256') {
    const nodeAlg = DIGEST_ALGORITHMS.get(alg);
    if (nodeAlg === undefined) {
        throw new SikkerKeyError('SK_ERR_SIGNATURE_DIGEST_ALG', `unsupported digest algorithm ${JSON.stringify(alg)}`);
    }
    const digest = createHash(nodeAlg).update(toBytes(body)).digest();
    return serializeDictionary(new Map([[alg, [digest, new Map()]]]));
}
/**
 * Checks a received `Content-Digest` header against the raw body bytes. Every sha-256 / sha-512
 * entry present must match; entries with other algorithms are ignored, but at least one supported
 * entry is required.
 *
 * Throws SikkerKeyError: SK_ERR_SIGNATURE_MISSING (no header), SK_ERR_SIGNATURE_MALFORMED (not a
 * structured-field Dictionary of byte sequences, or a duplicated algorithm),
 * SK_ERR_SIGNATURE_DIGEST_ALG (no supported algorithm), SK_ERR_SIGNATURE_DIGEST_MISMATCH.
 *
 * @example
 *   checkContentDigest('sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:', new Uint8Array());
 */
export function checkContentDigest(header, body) {
    if (header === undefined) {
        throw new SikkerKeyError('SK_ERR_SIGNATURE_MISSING', 'the Content-Digest header is absent');
    }
    if (typeof header !== 'string' || header.length > MAX_DIGEST_HEADER_LENGTH) {
        throw new SikkerKeyError('SK_ERR_SIGNATURE_MALFORMED', 'the Content-Digest header is not a structured-field dictionary');
    }
    const dict = parseStrictDictionary(header, 'Content-Digest');
    let checked = 0;
    for (const [alg, member] of dict) {
        const nodeAlg = DIGEST_ALGORITHMS.get(alg);
        if (nodeAlg === undefined)
            continue;
        const value = member[0];
        if (Array.isArray(value) || !(value instanceof ArrayBuffer) || member[1].size !== 0) {
            throw new SikkerKeyError('SK_ERR_SIGNATURE_MALFORMED', `Content-Digest ${alg} is not a byte sequence`);
        }
        const expected = createHash(nodeAlg).update(body).digest();
        const given = new Uint8Array(value);
        // Length first: timingSafeEqual throws on unequal lengths, and the length is not secret.
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
            throw new SikkerKeyError('SK_ERR_SIGNATURE_DIGEST_MISMATCH', `Content-Digest ${alg} does not match the request body`);
        }
        checked += 1;
    }
    if (checked === 0) {
        throw new SikkerKeyError('SK_ERR_SIGNATURE_DIGEST_ALG', 'Content-Digest carries no sha-256 or sha-512 entry');
    }
}
/**
 * Parses a structured-field Dictionary and refuses duplicated keys. RFC 8941 parsers (this one
 * included) silently keep the last of two equal keys; for security headers we want to refuse
 * instead, so an attacker cannot make two components disagree about which value counts.
 * Throws SK_ERR_SIGNATURE_MALFORMED.
 * @internal shared with signing.ts
 */
export function parseStrictDictionary(header, name) {
    let dict;
    try {
        dict = parseDictionary(header);
    }
    catch (cause) {
        throw new SikkerKeyError('SK_ERR_SIGNATURE_MALFORMED', `the ${name} header is not a valid structured-field dictionary`, { cause });
    }
    const keys = topLevelKeys(header);
    if (keys.members.length !== dict.size) {
        throw new SikkerKeyError('SK_ERR_SIGNATURE_MALFORMED', `the ${name} header repeats a member`);
    }
    return dict;
}
/**
 * Scans an already successfully parsed Dictionary for its member names and, per member, the names of
 * its own parameters (those after an inner list's `)` or after an item), in order and with
 * repetitions. It only splits on `,` `;` `=` outside quoted strings, display strings and
 * parentheses; byte sequences, tokens and numbers cannot contain those characters, so this is
 * exact for any input the structured-field parser accepted.
 * @internal shared with signing.ts
 */
export function topLevelKeys(header) {
    const members = [];
    const params = [];
    let depth = 0;
    let i = 0;
    let expectKey = 'member';
    const readKey = () => {
        while (header[i] === ' ' || header[i] === '\t')
            i += 1;
        const start = i;
        while (i < header.length && !'=;,() \t'.includes(header[i]))
            i += 1;
        return header.slice(start, i);
    };
    while (i < header.length) {
        if (expectKey !== null && depth === 0) {
            const key = readKey();
            if (expectKey === 'member') {
                members.push(key);
                params.push([]);
            }
            else {
                params[params.length - 1]?.push(key);
            }
            expectKey = null;
            continue;
        }
        const c = header[i];
        if (c === '"' || (c === '%' && header[i + 1] === '"')) {
            // Skip a quoted string (backslash escapes) or a display string (no escapes, %xx instead).
            const display = c === '%';
            i += display ? 2 : 1;
            while (i < header.length && header[i] !== '"')
                i += !display && header[i] === '\\' ? 2 : 1;
            i += 1;
            continue;
        }
        if (c === '(')
            depth += 1;
        else if (c === ')')
            depth -= 1;
        else if (depth === 0 && c === ',')
            expectKey = 'member';
        else if (depth === 0 && c === ';')
            expectKey = 'param';
        i += 1;
    }
    return { members, params };
}
//# sourceMappingURL=digest.js.map