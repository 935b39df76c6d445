import { parseDictionary } from 'structured-headers';
export type DigestAlgorithm = 'sha-256' | 'sha-512';
/** The only algorithms accepted (RFC 9530 lists sha-256 and sha-512 as the active ones). */
export declare const DIGEST_ALGORITHMS: ReadonlyMap<DigestAlgorithm, string>;
/**
 * The `Content-Digest` header value for a body: `sha-256=:<base64>:` (or `sha-512=:…:`).
 * A string body is hashed as its UTF-8 bytes.
 *
 * @example
 *   computeContentDigest('{"hello": "world"}'); // 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:'
 */
export declare function computeContentDigest(body: Uint8Array | string, alg?: DigestAlgorithm): string;
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
export declare function checkContentDigest(header: string | undefined, body: Uint8Array): void;
/**
 * Parses a structured-field Dictionary and refuses duplicated keys. RFC 8941 parsers (this one
 * included) silently keep the last of two equal keys; for security headers we want to refuse
 * instead, so an attacker cannot make two components disagree about which value counts.
 * Throws SK_ERR_SIGNATURE_MALFORMED.
 * @internal shared with signing.ts
 */
export declare function parseStrictDictionary(header: string, name: string): ReturnType<typeof parseDictionary>;
/**
 * Scans an already successfully parsed Dictionary for its member names and, per member, the names of
 * its own parameters (those after an inner list's `)` or after an item), in order and with
 * repetitions. It only splits on `,` `;` `=` outside quoted strings, display strings and
 * parentheses; byte sequences, tokens and numbers cannot contain those characters, so this is
 * exact for any input the structured-field parser accepted.
 * @internal shared with signing.ts
 */
export declare function topLevelKeys(header: string): {
    members: string[];
    params: string[][];
};
