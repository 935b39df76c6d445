/**
 * The public face of `protocol/`: the wire contract every other piece imports — errors, request
 * signing and verification (RFC 9421 profile), Content-Digest, identity keys and the signed client.
 *
 * @example
 *   import { signRequest, verifyRequest, VaultClient, SikkerKeyError } from '../protocol/index.js';
 */
export { ERROR_CODES, SikkerKeyError, isErrorCode, isSikkerKeyError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { DIGEST_ALGORITHMS, checkContentDigest, computeContentDigest } from './digest.js';
export type { DigestAlgorithm } from './digest.js';
export { generateIdentityKey, keyIdFromPublicKey, parsePublicKey, publicKeyObject, rawPublicKey, readPrivateKeyFile, writePrivateKeyFile, } from './keys.js';
export type { IdentityKey } from './keys.js';
export { SIGNATURE_PROFILE, buildSignatureBase, ed25519Verify, ed25519VerifyAsync, peekKeyId, signRequest, verifyRequest, } from './signing.js';
export type { IncomingRequest, KeyLookup, NonceStore, RequestToSign, SignerKey, Verified, VerifyOptions } from './signing.js';
export { VaultClient, encodePathSegment } from './client.js';
export type { SecretValue, VaultClientOptions, VaultResponse } from './client.js';
