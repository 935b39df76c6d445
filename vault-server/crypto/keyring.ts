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
 * During a root-key rotation without downtime (`serve --root-key-file OLD --root-key-file NEW`,
 * docs/operations.md "Rotating the root key") it holds two root keys: every box is opened with
 * whichever of them sealed it, and a new box is sealed under the key the store records — the one
 * that opens the store's check value, which the caller reads in the same write transaction and
 * passes as `storeCheck` (a `rekey` committed by another process moves it; see vault-state.ts
 * `storeCheckValue`).
 *
 * @example
 *   const keyring = new Keyring(rootKey);
 *   const { wrapped } = keyring.newProjectKey({ projectId, keyVersion: 1 });
 *   const box = keyring.encryptValue({ projectId, keyVersion: 1, wrappedProjectKey: wrapped,
 *     secretId, version: 1, plaintext: Buffer.from('s3cret') });
 *   keyring.decryptValue({ projectId, keyVersion: 1, wrappedProjectKey: wrapped, secretId, version: 1, ...box });
 */
import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { SikkerKeyError } from '../../protocol/errors.js';
import { AAD_PURPOSE, encodeAad } from './aad.js';
import { KEY_BYTES, open, seal } from './envelope.js';

export interface NewProjectKeyRequest {
  projectId: string;
  keyVersion: number;
  /**
   * The store's check value as read in the writing transaction: the new key is sealed under the
   * root key that opens it. Without it, under the key that last verified the store.
   */
  storeCheck?: Buffer;
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

/** The plaintext of the check value; it is no secret, it only proves the key opens what it sealed. */
const CHECK_LABEL = Buffer.from('sikkerkey root key check v1', 'utf8');
/** Enough for every project's current and previous key version in any realistic vault. */
const PROJECT_KEY_CACHE_SIZE = 1024;

export class Keyring {
  /** The root keys held (one, or two during a rotation); the first seals when no check value is given. */
  #rootKeys: Buffer[];
  /** Which held root key opens a given check value (base64), so each distinct value is verified once. */
  #byCheck = new Map<string, Buffer>();
  /** Unwrapped project keys by "<keyVersion>:<projectId>", with the wrapped bytes they came from. */
  readonly #projectKeys = new Map<string, { wrapped: Buffer; key: Buffer }>();

  constructor(rootKey: Buffer | readonly Buffer[]) {
    this.#rootKeys = copyKeys(rootKey);
  }

  newProjectKey(req: NewProjectKeyRequest): NewProjectKeyResponse {
    const key = randomBytes(KEY_BYTES);
    const wrapped = seal(this.#sealingKey(req.storeCheck), key, projectKeyAad(req.projectId, req.keyVersion));
    this.#remember(req.projectId, req.keyVersion, wrapped, key);
    return { wrapped };
  }

  encryptValue(req: EncryptValueRequest): EncryptValueResponse {
    const projectKey = this.#projectKey(req.projectId, req);
    const dataKey = randomBytes(KEY_BYTES);
    try {
      const ciphertext = seal(dataKey, req.plaintext, valueAad(req.projectId, req.secretId, req.version));
      const wrappedDataKey = seal(projectKey, dataKey, dataKeyAad(req.projectId, req.secretId, req.version));
      return { ciphertext, wrappedDataKey };
    } finally {
      dataKey.fill(0);
    }
  }

  decryptValue(req: DecryptValueRequest): Buffer {
    const projectKey = this.#projectKey(req.projectId, req);
    const dataKey = this.#openDataKey(projectKey, req.projectId, req.secretId, req.version, req.wrappedDataKey);
    try {
      return open(dataKey, req.ciphertext, valueAad(req.projectId, req.secretId, req.version));
    } finally {
      dataKey.fill(0);
    }
  }

  /**
   * Re-wraps one version's data key from one project key version to another (project-key
   * rotation). The value itself is not touched: its box stays as it was written.
   */
  rewrapDataKey(req: RewrapDataKeyRequest): Buffer {
    const fromKey = this.#projectKey(req.projectId, req.from);
    const toKey = this.#projectKey(req.projectId, req.to);
    const dataKey = this.#openDataKey(fromKey, req.projectId, req.secretId, req.version, req.wrappedDataKey);
    try {
      return seal(toKey, dataKey, dataKeyAad(req.projectId, req.secretId, req.version));
    } finally {
      dataKey.fill(0);
    }
  }

  /** A fresh check value for a new store (kept in `vault_meta`); it proves the root key at boot. */
  checkValue(): Buffer {
    return seal(this.#rootKeys[0] as Buffer, CHECK_LABEL, encodeAad(AAD_PURPOSE.rootCheck));
  }

  /**
   * Throws `SK_ERR_ROOT_KEY_WRONG` unless one of the held root keys sealed `stored`; that key then
   * seals whatever is sealed without an explicit check value.
   */
  verifyCheckValue(stored: Buffer): void {
    const key = this.#keyForCheck(stored);
    this.#rootKeys = [key, ...this.#rootKeys.filter((k) => k !== key)];
  }

  /**
   * SIGHUP (`serve` re-reads its key files): the held root keys become `keys`, provided one of them
   * opens the store's check value `stored` — otherwise `SK_ERR_ROOT_KEY_WRONG` and nothing changes.
   * Unwrapped project keys are forgotten, so nothing keeps being opened with a dropped key.
   */
  replaceRootKeys(keys: readonly Buffer[], stored: Buffer): void {
    const next = new Keyring(keys);
    next.verifyCheckValue(stored);
    this.#rootKeys = next.#rootKeys;
    this.#byCheck = new Map();
    this.#projectKeys.clear();
  }

  /** The held root keys' fingerprints, the one the store records (at the last check) first. */
  fingerprints(): string[] {
    return this.#rootKeys.map(fingerprintOf);
  }

  /**
   * Wraps an audit key (`mac`: the HMAC key, `signing`: the Ed25519 private key's PKCS#8 DER)
   * under the root key, bound to its kind and version. A root-key rotation re-wraps these boxes
   * (open with the old keyring, wrap with the new) and never changes the keys inside.
   */
  wrapAuditKey(kind: 'mac' | 'signing', keyVersion: number, key: Buffer): Buffer {
    return seal(this.#rootKeys[0] as Buffer, key, encodeAad(AAD_PURPOSE.auditKey, kind, keyVersion));
  }

  unwrapAuditKey(kind: 'mac' | 'signing', keyVersion: number, wrapped: Buffer): Buffer {
    return this.#open(wrapped, encodeAad(AAD_PURPOSE.auditKey, kind, keyVersion));
  }

  /**
   * Seals a webhook's signing secret under the root key, bound to the webhook and the secret's
   * version (bumped by each `rotate-secret`), so a box cannot be moved to another webhook or an
   * older secret put back in place of the current one.
   */
  sealWebhookSecret(webhookId: string, secretVersion: number, secret: string, storeCheck?: Buffer): Buffer {
    return seal(this.#sealingKey(storeCheck), Buffer.from(secret, 'utf8'), encodeAad(AAD_PURPOSE.webhookSecret, webhookId, secretVersion));
  }

  openWebhookSecret(webhookId: string, secretVersion: number, sealed: Buffer): string {
    return this.#open(sealed, encodeAad(AAD_PURPOSE.webhookSecret, webhookId, secretVersion)).toString('utf8');
  }

  /**
   * Root-key rotation (`sikkerkey-vault rekey`): a box sealed under this keyring's root key,
   * opened and sealed again under `to`'s, with the same binding (AAD). The key inside never
   * changes, and never leaves the two keyrings.
   */
  rewrapProjectKey(to: Keyring, projectId: string, keyVersion: number, wrapped: Buffer): Buffer {
    return this.#rewrap(to, wrapped, projectKeyAad(projectId, keyVersion));
  }

  rewrapAuditKey(to: Keyring, kind: 'mac' | 'signing', keyVersion: number, wrapped: Buffer): Buffer {
    return this.#rewrap(to, wrapped, encodeAad(AAD_PURPOSE.auditKey, kind, keyVersion));
  }

  rewrapWebhookSecret(to: Keyring, webhookId: string, secretVersion: number, sealed: Buffer): Buffer {
    return this.#rewrap(to, sealed, encodeAad(AAD_PURPOSE.webhookSecret, webhookId, secretVersion));
  }

  #rewrap(to: Keyring, box: Buffer, aad: Buffer): Buffer {
    const inside = this.#open(box, aad);
    try {
      return seal(to.#rootKeys[0] as Buffer, inside, aad);
    } finally {
      inside.fill(0);
    }
  }

  /** A short public name of the root key (not a secret: a hash of it), recorded by `rekey` and shown by `serve`. */
  fingerprint(): string {
    return fingerprintOf(this.#rootKeys[0] as Buffer);
  }

  toJSON(): string {
    return '[Keyring]';
  }

  [inspect.custom](): string {
    return 'Keyring { <redacted> }';
  }

  #projectKey(projectId: string, ref: ProjectKeyRef): Buffer {
    const id = cacheId(projectId, ref.keyVersion);
    const cached = this.#projectKeys.get(id);
    // The wrapped bytes are part of the cache key: a different box offered for the same
    // (project, version) must be opened, and fail, rather than be answered from the cache.
    if (cached?.wrapped.equals(ref.wrappedProjectKey)) {
      this.#projectKeys.delete(id);
      this.#projectKeys.set(id, cached);
      return cached.key;
    }
    const key = this.#open(ref.wrappedProjectKey, projectKeyAad(projectId, ref.keyVersion));
    if (key.length !== KEY_BYTES) throw new SikkerKeyError('SK_ERR_DECRYPT_FAILED', 'decryption failed: a project key has the wrong length');
    this.#remember(projectId, ref.keyVersion, ref.wrappedProjectKey, key);
    return key;
  }

  /** Opens a box sealed under one of the held root keys (a wrong key fails GCM's tag check: the next is tried). */
  #open(box: Buffer, aad: Buffer): Buffer {
    let failure: unknown;
    for (const rootKey of this.#rootKeys) {
      try {
        return open(rootKey, box, aad);
      } catch (err) {
        failure = err;
      }
    }
    throw failure;
  }

  #keyForCheck(stored: Buffer): Buffer {
    const id = stored.toString('base64');
    const known = this.#byCheck.get(id);
    if (known && this.#rootKeys.includes(known)) return known;
    for (const rootKey of this.#rootKeys) {
      let label: Buffer | undefined;
      try {
        label = open(rootKey, stored, encodeAad(AAD_PURPOSE.rootCheck));
      } catch {
        label = undefined;
      }
      if (label?.equals(CHECK_LABEL)) {
        this.#byCheck.set(id, rootKey);
        return rootKey;
      }
    }
    throw new SikkerKeyError('SK_ERR_ROOT_KEY_WRONG', this.#rootKeys.length > 1
      ? 'none of the root keys given matches this store: supply the root key this store was initialised or last rekeyed with'
      : 'the root key does not match this store: supply the root key that was printed when this store was initialised');
  }

  #sealingKey(storeCheck: Buffer | undefined): Buffer {
    return storeCheck === undefined ? this.#rootKeys[0] as Buffer : this.#keyForCheck(storeCheck);
  }

  #openDataKey(projectKey: Buffer, projectId: string, secretId: string, version: number, wrapped: Buffer): Buffer {
    const dataKey = open(projectKey, wrapped, dataKeyAad(projectId, secretId, version));
    if (dataKey.length !== KEY_BYTES) throw new SikkerKeyError('SK_ERR_DECRYPT_FAILED', 'decryption failed: a data key has the wrong length');
    return dataKey;
  }

  #remember(projectId: string, keyVersion: number, wrapped: Buffer, key: Buffer): void {
    const id = cacheId(projectId, keyVersion);
    this.#projectKeys.delete(id);
    this.#projectKeys.set(id, { wrapped: Buffer.from(wrapped), key });
    // Least recently used first: Map iterates in insertion order and hits re-insert.
    while (this.#projectKeys.size > PROJECT_KEY_CACHE_SIZE) {
      const oldest = this.#projectKeys.keys().next().value;
      if (oldest === undefined) break;
      this.#projectKeys.delete(oldest);
    }
  }
}

function copyKeys(rootKey: Buffer | readonly Buffer[]): Buffer[] {
  const keys = Buffer.isBuffer(rootKey) ? [rootKey] : [...rootKey];
  if (keys.length === 0) throw new SikkerKeyError('SK_ERR_ROOT_KEY_MISSING', 'no root key given');
  for (const k of keys) {
    if (!Buffer.isBuffer(k) || k.length !== KEY_BYTES) {
      throw new SikkerKeyError('SK_ERR_ROOT_KEY_INVALID', `the root key must be exactly ${KEY_BYTES} bytes`);
    }
  }
  // Copies: the caller may zero or reuse its buffers. The same key twice (both files holding the
  // current key, between rotations) is held once.
  const unique = keys.filter((k, i) => keys.findIndex((other) => other.equals(k)) === i);
  return unique.map((k) => Buffer.from(k));
}

function fingerprintOf(rootKey: Buffer): string {
  return createHash('sha256').update('sikkerkey root key fingerprint v1\n').update(rootKey).digest('hex').slice(0, 16);
}

function cacheId(projectId: string, keyVersion: number): string {
  // The version is digits only, so the first ':' separates it unambiguously from the project id.
  return `${keyVersion}:${projectId}`;
}

const projectKeyAad = (projectId: string, keyVersion: number): Buffer => encodeAad(AAD_PURPOSE.projectKey, projectId, keyVersion);
const dataKeyAad = (projectId: string, secretId: string, version: number): Buffer => encodeAad(AAD_PURPOSE.dataKey, projectId, secretId, version);
const valueAad = (projectId: string, secretId: string, version: number): Buffer => encodeAad(AAD_PURPOSE.secretValue, projectId, secretId, version);
