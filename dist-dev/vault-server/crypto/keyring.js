/**
 * The envelope of DESIGN §3, all AES-256-GCM (see envelope.ts):
 *
 *   root key (32 B, memory only)
 *     └─ wraps each project master key     AAD (sk/project-key/v1, project id, key version)
 *          └─ wraps each version's data key AAD (sk/data-key/v1, project id, secret id, version)
 *               └─ seals that version's value AAD (sk/secret-value/v1, project id, secret id, version)
 *
 * One fresh data key per secret version, used for exactly one seal. The AAD binds every box to its
 * place, so a row copied to another project, secret or version fails to open.
 *
 * The keyring never writes anything: callers store what it returns. It holds the root key and a
 * small cache of unwrapped project keys, and shows neither to `JSON.stringify` or `util.inspect`.
 *
 * @example
 *   const keyring = new Keyring(rootKey);
 *   const { wrapped } = keyring.newProjectKey({ projectId, keyVersion: 1 });
 *   const box = keyring.encryptValue({ projectId, keyVersion: 1, wrappedProjectKey: wrapped,
 *     secretId, version: 1, plaintext: Buffer.from('s3cret') });
 *   keyring.decryptValue({ projectId, keyVersion: 1, wrappedProjectKey: wrapped, secretId, version: 1, ...box });
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { SikkerKeyError } from '../../protocol/errors.js';
import { AAD_PURPOSE, encodeAad } from './aad.js';
import { KEY_BYTES, open, seal } from './envelope.js';
/** The plaintext of the check value; it is no secret, it only proves the key opens what it sealed. */
const CHECK_LABEL = Buffer.from('sikkerkey root key check v1', 'utf8');
/** Enough for every project's current and previous key version in any realistic vault. */
const PROJECT_KEY_CACHE_SIZE = 1024;
export class Keyring {
    #rootKey;
    /** Unwrapped project keys by "<keyVersion>:<projectId>", with the wrapped bytes they came from. */
    #projectKeys = new Map();
    constructor(rootKey) {
        if (!Buffer.isBuffer(rootKey) || rootKey.length !== KEY_BYTES) {
            throw new SikkerKeyError('SK_ERR_ROOT_KEY_INVALID', `the root key must be exactly ${KEY_BYTES} bytes`);
        }
        // A copy: the caller may zero or reuse its buffer.
        this.#rootKey = Buffer.from(rootKey);
    }
    newProjectKey(req) {
        const key = randomBytes(KEY_BYTES);
        const wrapped = seal(this.#rootKey, key, projectKeyAad(req.projectId, req.keyVersion));
        this.#remember(req.projectId, req.keyVersion, wrapped, key);
        return { wrapped };
    }
    encryptValue(req) {
        const projectKey = this.#projectKey(req.projectId, req);
        const dataKey = randomBytes(KEY_BYTES);
        try {
            const ciphertext = seal(dataKey, req.plaintext, valueAad(req.projectId, req.secretId, req.version));
            const wrappedDataKey = seal(projectKey, dataKey, dataKeyAad(req.projectId, req.secretId, req.version));
            return { ciphertext, wrappedDataKey };
        }
        finally {
            dataKey.fill(0);
        }
    }
    decryptValue(req) {
        const projectKey = this.#projectKey(req.projectId, req);
        const dataKey = this.#openDataKey(projectKey, req.projectId, req.secretId, req.version, req.wrappedDataKey);
        try {
            return open(dataKey, req.ciphertext, valueAad(req.projectId, req.secretId, req.version));
        }
        finally {
            dataKey.fill(0);
        }
    }
    /**
     * Re-wraps one version's data key from one project key version to another (project-key
     * rotation). The value itself is not touched: its box stays as it was written.
     */
    rewrapDataKey(req) {
        const fromKey = this.#projectKey(req.projectId, req.from);
        const toKey = this.#projectKey(req.projectId, req.to);
        const dataKey = this.#openDataKey(fromKey, req.projectId, req.secretId, req.version, req.wrappedDataKey);
        try {
            return seal(toKey, dataKey, dataKeyAad(req.projectId, req.secretId, req.version));
        }
        finally {
            dataKey.fill(0);
        }
    }
    /** A fresh check value for a new store (kept in `vault_meta`); it proves the root key at boot. */
    checkValue() {
        return seal(this.#rootKey, CHECK_LABEL, encodeAad(AAD_PURPOSE.rootCheck));
    }
    /** Throws `SK_ERR_ROOT_KEY_WRONG` unless this keyring's root key sealed `stored`. */
    verifyCheckValue(stored) {
        let label;
        try {
            label = open(this.#rootKey, stored, encodeAad(AAD_PURPOSE.rootCheck));
        }
        catch {
            label = undefined;
        }
        if (!label?.equals(CHECK_LABEL)) {
            throw new SikkerKeyError('SK_ERR_ROOT_KEY_WRONG', 'the root key does not match this store: supply the root key that was printed when this store was initialised');
        }
    }
    /**
     * Wraps an audit key (`mac`: the HMAC key, `signing`: the Ed25519 private key's PKCS#8 DER)
     * under the root key, bound to its kind and version. A root-key rotation re-wraps these boxes
     * (open with the old keyring, wrap with the new) and never changes the keys inside.
     */
    wrapAuditKey(kind, keyVersion, key) {
        return seal(this.#rootKey, key, encodeAad(AAD_PURPOSE.auditKey, kind, keyVersion));
    }
    unwrapAuditKey(kind, keyVersion, wrapped) {
        return open(this.#rootKey, wrapped, encodeAad(AAD_PURPOSE.auditKey, kind, keyVersion));
    }
    toJSON() {
        return '[Keyring]';
    }
    [inspect.custom]() {
        return 'Keyring { <redacted> }';
    }
    #projectKey(projectId, ref) {
        const id = cacheId(projectId, ref.keyVersion);
        const cached = this.#projectKeys.get(id);
        // The wrapped bytes are part of the cache key: a different box offered for the same
        // (project, version) must be opened, and fail, rather than be answered from the cache.
        if (cached?.wrapped.equals(ref.wrappedProjectKey)) {
            this.#projectKeys.delete(id);
            this.#projectKeys.set(id, cached);
            return cached.key;
        }
        const key = open(this.#rootKey, ref.wrappedProjectKey, projectKeyAad(projectId, ref.keyVersion));
        if (key.length !== KEY_BYTES)
            throw new SikkerKeyError('SK_ERR_DECRYPT_FAILED', 'decryption failed: a project key has the wrong length');
        this.#remember(projectId, ref.keyVersion, ref.wrappedProjectKey, key);
        return key;
    }
    #openDataKey(projectKey, projectId, secretId, version, wrapped) {
        const dataKey = open(projectKey, wrapped, dataKeyAad(projectId, secretId, version));
        if (dataKey.length !== KEY_BYTES)
            throw new SikkerKeyError('SK_ERR_DECRYPT_FAILED', 'decryption failed: a data key has the wrong length');
        return dataKey;
    }
    #remember(projectId, keyVersion, wrapped, key) {
        const id = cacheId(projectId, keyVersion);
        this.#projectKeys.delete(id);
        this.#projectKeys.set(id, { wrapped: Buffer.from(wrapped), key });
        // Least recently used first: Map iterates in insertion order and hits re-insert.
        while (this.#projectKeys.size > PROJECT_KEY_CACHE_SIZE) {
            const oldest = this.#projectKeys.keys().next().value;
            if (oldest === undefined)
                break;
            this.#projectKeys.delete(oldest);
        }
    }
}
function cacheId(projectId, keyVersion) {
    // The version is digits only, so the first ':' separates it unambiguously from the project id.
    return `${keyVersion}:${projectId}`;
}
const projectKeyAad = (projectId, keyVersion) => encodeAad(AAD_PURPOSE.projectKey, projectId, keyVersion);
const dataKeyAad = (projectId, secretId, version) => encodeAad(AAD_PURPOSE.dataKey, projectId, secretId, version);
const valueAad = (projectId, secretId, version) => encodeAad(AAD_PURPOSE.secretValue, projectId, secretId, version);
//# sourceMappingURL=keyring.js.map