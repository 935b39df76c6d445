export declare const KEY_BYTES = 32;
export declare const NONCE_BYTES = 12;
export declare const TAG_BYTES = 16;
/** The size a sealed box adds to its plaintext. */
export declare const SEAL_OVERHEAD: number;
export declare function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer;
/**
 * `seal` with a nonce chosen by the caller. Only for known-answer tests (Wycheproof): a nonce used
 * twice under one key breaks GCM completely, so production code calls `seal`, never this.
 */
export declare function sealWithNonce(key: Buffer, nonce: Buffer, plaintext: Buffer, aad: Buffer): Buffer;
export declare function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer;
