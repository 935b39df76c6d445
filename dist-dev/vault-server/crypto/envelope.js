/**
 * AES-256-GCM, the one cipher of the vault. A sealed box is `nonce (12 B) ‖ ciphertext ‖ tag (16 B)`,
 * with a fresh random nonce for every seal; the caller's AAD is authenticated, not stored.
 *
 * Opening fails with `SK_ERR_DECRYPT_FAILED` and nothing more, whatever went wrong (too short, wrong
 * key, wrong AAD, edited bytes): telling those apart would only help someone probing the store.
 *
 * @example
 *   const box = seal(key, Buffer.from('hello'), encodeAad(AAD_PURPOSE.secretValue, p, s, 1));
 *   open(key, box, encodeAad(AAD_PURPOSE.secretValue, p, s, 1)); // → <Buffer 68 65 6c 6c 6f>
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SikkerKeyError } from '../../protocol/errors.js';
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** The size a sealed box adds to its plaintext. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;
const ALGORITHM = 'aes-256-gcm';
export function seal(key, plaintext, aad) {
    return sealWithNonce(key, randomBytes(NONCE_BYTES), plaintext, aad);
}
/**
 * `seal` with a nonce chosen by the caller. Only for known-answer tests (Wycheproof): a nonce used
 * twice under one key breaks GCM completely, so production code calls `seal`, never this.
 */
export function sealWithNonce(key, nonce, plaintext, aad) {
    if (key.length !== KEY_BYTES)
        throw new SikkerKeyError('SK_ERR_INTERNAL', `an AES-256-GCM key must be ${KEY_BYTES} bytes`);
    if (nonce.length !== NONCE_BYTES)
        throw new SikkerKeyError('SK_ERR_INTERNAL', `an AES-GCM nonce must be ${NONCE_BYTES} bytes`);
    const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}
export function open(key, sealed, aad) {
    try {
        if (key.length !== KEY_BYTES || sealed.length < SEAL_OVERHEAD)
            throw decryptFailed();
        const nonce = sealed.subarray(0, NONCE_BYTES);
        const tag = sealed.subarray(sealed.length - TAG_BYTES);
        const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
        const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad);
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(body), decipher.final()]);
    }
    catch {
        // No `cause`: OpenSSL's reason ("unable to authenticate data") is exactly the detail withheld.
        throw decryptFailed();
    }
}
function decryptFailed() {
    return new SikkerKeyError('SK_ERR_DECRYPT_FAILED', 'decryption failed: the ciphertext was moved, edited or sealed under another key');
}
//# sourceMappingURL=envelope.js.map