import { inspect } from 'node:util';
export interface NewProjectKeyRequest {
    projectId: string;
    keyVersion: number;
}
export interface NewProjectKeyResponse {
    /** The new project master key, sealed under the root key: store it in `project_keys`/`projects`. */
    wrapped: Buffer;
}
/** Where a project key lives: which project, which version, and its wrapped bytes. */
export interface ProjectKeyRef {
    keyVersion: number;
    wrappedProjectKey: Buffer;
}
export interface EncryptValueRequest extends ProjectKeyRef {
    projectId: string;
    secretId: string;
    version: number;
    plaintext: Buffer;
}
export interface EncryptValueResponse {
    ciphertext: Buffer;
    wrappedDataKey: Buffer;
}
export interface DecryptValueRequest extends ProjectKeyRef {
    projectId: string;
    secretId: string;
    version: number;
    ciphertext: Buffer;
    wrappedDataKey: Buffer;
}
export interface RewrapDataKeyRequest {
    projectId: string;
    secretId: string;
    version: number;
    wrappedDataKey: Buffer;
    from: ProjectKeyRef;
    to: ProjectKeyRef;
}
export declare class Keyring {
    #private;
    constructor(rootKey: Buffer);
    newProjectKey(req: NewProjectKeyRequest): NewProjectKeyResponse;
    encryptValue(req: EncryptValueRequest): EncryptValueResponse;
    decryptValue(req: DecryptValueRequest): Buffer;
    /**
     * Re-wraps one version's data key from one project key version to another (project-key
     * rotation). The value itself is not touched: its box stays as it was written.
     */
    rewrapDataKey(req: RewrapDataKeyRequest): Buffer;
    /** A fresh check value for a new store (kept in `vault_meta`); it proves the root key at boot. */
    checkValue(): Buffer;
    /** Throws `SK_ERR_ROOT_KEY_WRONG` unless this keyring's root key sealed `stored`. */
    verifyCheckValue(stored: Buffer): void;
    /**
     * Wraps an audit key (`mac`: the HMAC key, `signing`: the Ed25519 private key's PKCS#8 DER)
     * under the root key, bound to its kind and version. A root-key rotation re-wraps these boxes
     * (open with the old keyring, wrap with the new) and never changes the keys inside.
     */
    wrapAuditKey(kind: 'mac' | 'signing', keyVersion: number, key: Buffer): Buffer;
    unwrapAuditKey(kind: 'mac' | 'signing', keyVersion: number, wrapped: Buffer): Buffer;
    toJSON(): string;
    [inspect.custom](): string;
}
