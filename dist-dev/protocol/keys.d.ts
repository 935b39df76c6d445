import type { KeyObject } from 'node:crypto';
/** An identity's key pair as a program holds it: the private key never leaves the process. */
export interface IdentityKey {
    privateKey: KeyObject;
    /** The raw 32-byte Ed25519 public key. */
    publicKey: Uint8Array;
    /** RFC 7638 thumbprint of the public key (see {@link keyIdFromPublicKey}). */
    keyId: string;
}
/**
 * The key id of a public key: the RFC 7638 JWK thumbprint, base64url (no padding) of the SHA-256
 * of `{"crv":"Ed25519","kty":"OKP","x":"<base64url raw key>"}` (members in that order, no spaces).
 * Anyone can compute it from the public key alone.
 *
 * @example
 *   keyIdFromPublicKey(rawPublicKey(createPublicKey(pem))); // 43 characters of base64url
 */
export declare function keyIdFromPublicKey(raw: Uint8Array): string;
/**
 * Parses a public key given as base64 or base64url of the raw 32 bytes (padding optional), or
 * as a PEM SubjectPublicKeyInfo block (`-----BEGIN PUBLIC KEY-----`). Returns the raw 32 bytes.
 * Throws SK_ERR_PUBLIC_KEY for anything else.
 *
 * @example
 *   parsePublicKey('JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs');
 */
export declare function parsePublicKey(text: string): Uint8Array;
/**
 * A node:crypto public KeyObject for a raw Ed25519 key (built through JWK import). The vault
 * caches one per key id: building it costs about as much as one verification.
 *
 * @example
 *   crypto.verify(null, message, publicKeyObject(raw), signature);
 */
export declare function publicKeyObject(raw: Uint8Array): KeyObject;
/**
 * The raw 32 bytes of an Ed25519 public key (or of the public half of a private key).
 *
 * @example
 *   rawPublicKey(generateIdentityKey().privateKey).length; // 32
 */
export declare function rawPublicKey(key: KeyObject): Uint8Array;
/**
 * A fresh Ed25519 identity, generated in this process.
 *
 * @example
 *   const { keyId, publicKey } = generateIdentityKey();
 */
export declare function generateIdentityKey(): IdentityKey;
/**
 * Writes a private key as PKCS#8 PEM to a new file created with mode 0600. Refuses to replace an
 * existing file unless `overwrite` is set (then the file is first narrowed to 0600, then written).
 * Throws SK_ERR_KEY_FILE.
 *
 * @example
 *   writePrivateKeyFile('./agent.key', generateIdentityKey().privateKey);
 */
export declare function writePrivateKeyFile(path: string, privateKey: KeyObject, opts?: {
    overwrite?: boolean;
}): void;
/**
 * Reads a PKCS#8 PEM Ed25519 private key file. Refuses a file that group or others may read or
 * write (`chmod 600` it), a missing or unreadable file, and anything that is not an unencrypted
 * Ed25519 private key. Error messages never include the file's content. Throws SK_ERR_KEY_FILE.
 *
 * @example
 *   const { keyId, privateKey } = readPrivateKeyFile(process.env.SIKKERKEY_KEY_FILE!);
 */
export declare function readPrivateKeyFile(path: string): IdentityKey;
