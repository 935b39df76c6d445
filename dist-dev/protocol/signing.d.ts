import type { KeyObject } from 'node:crypto';
/** Every fixed number and name of the profile, in one place. */
export declare const SIGNATURE_PROFILE: Readonly<{
    /** The one signature label in Signature-Input and Signature. */
    label: "sk";
    /** Value of the `tag` parameter: names this profile and its version. */
    tag: "sikkerkey/v1";
    /** The only algorithm; if the `alg` parameter is present it must say this. */
    alg: "ed25519";
    /** Components every request covers, in the order the signer lists them. */
    components: readonly ["@method", "@authority", "@path", "@query", "content-digest"];
    /** Covered in addition when the request has a body (non-empty). */
    bodyComponent: "content-type";
    /** Signature parameters that must be present, and the one that may be. */
    requiredParams: readonly ["created", "expires", "nonce", "keyid", "tag"];
    optionalParams: readonly ["alg"];
    /** How far `created` may be ahead of the verifier's clock, and how long after `expires` a request is still accepted. */
    maxSkewSeconds: 30;
    /** Largest allowed `expires - created`. */
    maxLifetimeSeconds: 60;
    /** What the signer uses when not told otherwise. */
    defaultLifetimeSeconds: 30;
    /** The nonce is base64url (no padding) of at least this many random bytes … */
    nonceMinBytes: 16;
    /** … and at most this many characters. */
    nonceMaxChars: 128;
    /** The signer's nonce: 32 random bytes (43 characters). */
    nonceDefaultBytes: 32;
    /** A claimed nonce is kept until `expires + nonceRetentionAfterExpiresSeconds` (past the skew window). */
    nonceRetentionAfterExpiresSeconds: 30;
    /** Longest key id accepted. */
    keyIdMaxChars: 256;
    /** Longest Signature-Input / Signature header parsed (a real one is ~250 / ~95 characters). */
    maxHeaderChars: 4096;
    /** Ed25519 signatures are exactly this long. */
    signatureBytes: 64;
}>;
/** A request as the client is about to send it. */
export interface RequestToSign {
    method: string;
    /** host[:port] the request is addressed to (RFC 9421 §2.2.3: lower-case, default port omitted). */
    authority: string;
    /** Raw path plus optional `?query`, exactly as sent on the wire (already percent-encoded). */
    target: string;
    body?: Uint8Array;
    /** Required when `body` is non-empty; covered by the signature. */
    contentType?: string;
}
/** The key a request is signed with. */
export interface SignerKey {
    keyId: string;
    privateKey: KeyObject;
}
/** Finds the public key for a key id; `undefined` when the id is unknown (to this route). */
export type KeyLookup = (keyId: string) => KeyObject | undefined | Promise<KeyObject | undefined>;
/**
 * The shared replay store: claims `(keyId, nonceHash)` atomically, on every replica.
 * `claim` resolves `true` when the pair was not held yet (and holds it until `expiresAtUnix`).
 */
export interface NonceStore {
    claim(keyId: string, nonceHash: string, expiresAtUnix: number): Promise<boolean>;
}
/** A received request, as node's http server hands it over (headers lower-cased). */
export interface IncomingRequest {
    method: string;
    /** The raw request target (`req.url`), never decoded. */
    target: string;
    headers: Record<string, string | string[] | undefined>;
    /** The raw body bytes (empty for a bodiless request). */
    body: Uint8Array;
}
export interface VerifyOptions {
    /** The configured public authority (host[:port]); never taken from Host or forwarded headers. */
    authority: string;
    lookupKey: KeyLookup;
    nonces: NonceStore;
    /** Clock in milliseconds (default Date.now). */
    now?: () => number;
    /** Verify on libuv's thread pool (crypto.verify's callback form) instead of the main thread. */
    async?: boolean;
    /**
     * Performs the Ed25519 verification itself instead of `async` / the synchronous primitive: the
     * server passes a concurrency-capped verifier. Called only once every check that needs no
     * cryptography has passed and the key id resolved to a key.
     */
    verify?: (key: KeyObject, message: Uint8Array, signature: Uint8Array) => boolean | Promise<boolean>;
}
/** What a successful verification proves. */
export interface Verified {
    keyId: string;
    created: number;
    expires: number;
    nonce: string;
}
/**
 * The RFC 9421 §2.5 signature base: one line `"<name>": <value>` per covered component, then
 * `"@signature-params": <params>`, joined by `\n`, no trailing newline.
 *
 * @example
 *   buildSignatureBase([['@method', 'GET']], '("@method");created=1');
 *   // '"@method": GET\n"@signature-params": ("@method");created=1'
 */
export declare function buildSignatureBase(components: Array<[string, string]>, signatureParams: string): string;
/**
 * Signs a request: returns the headers to add — `content-digest`, `signature-input`, `signature`,
 * and `content-type` when the request has a body.
 *
 * @example
 *   const body = Buffer.from(JSON.stringify({ value: 'x' }));
 *   const headers = signRequest(
 *     { method: 'POST', authority: 'vault.example.com', target: '/v1/projects/p/secrets/s', body, contentType: 'application/json' },
 *     { keyId, privateKey },
 *   );
 */
export declare function signRequest(req: RequestToSign, key: SignerKey, opts?: {
    now?: number;
    nonce?: string;
    lifetimeSeconds?: number;
}): Record<string, string>;
/**
 * The Ed25519 verification primitive the verifier uses: node:crypto with a cached KeyObject,
 * strict signature length, never throws (a wrong key type or malformed input is `false`).
 *
 * @example
 *   ed25519Verify(publicKeyObject(raw), message, signature); // boolean
 */
export declare function ed25519Verify(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean;
/**
 * Same as {@link ed25519Verify}, on libuv's thread pool: lets one process spread verifications over
 * every core while the main thread keeps serving HTTP.
 *
 * @example
 *   await ed25519VerifyAsync(publicKeyObject(raw), message, signature); // boolean
 */
export declare function ed25519VerifyAsync(key: KeyObject, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
type HeaderBag = Record<string, string | string[] | undefined>;
/**
 * The key id a request claims, read without any cryptography (and without throwing), so the
 * server can rate-limit per key id before spending a verification on it.
 *
 * @example
 *   const keyId = peekKeyId(req.headers); // string | undefined
 */
export declare function peekKeyId(headers: HeaderBag): string | undefined;
/**
 * Verifies a signed request against the profile; resolves with the key id and parameters, or
 * rejects with a SikkerKeyError whose code names the first rule broken (never any other error
 * for any input). The nonce is claimed only after the signature verified, so an attacker
 * cannot burn a legitimate client's nonces with forged requests.
 *
 * @example
 *   const v = await verifyRequest(
 *     { method: req.method, target: req.url, headers: req.headers, body: rawBody },
 *     { authority: 'vault.example.com', lookupKey: (id) => keyCache.get(id), nonces },
 *   );
 */
export declare function verifyRequest(req: IncomingRequest, opts: VerifyOptions): Promise<Verified>;
/**
 * What the new key signs in `operator rotate-key` (the request itself is signed by the old key):
 * it binds the proof to this one replacement, so it proves nothing anywhere else.
 */
export declare function rotationProofMessage(oldKeyId: string, newKeyId: string): Buffer;
export {};
