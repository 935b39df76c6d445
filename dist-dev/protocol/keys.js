/**
 * Ed25519 identity keys: key ids (RFC 7638 thumbprints), public-key parsing, and the private key
 * file (PKCS#8 PEM, mode 0600) that every client program keeps next to itself.
 *
 * @example
 *   const id = generateIdentityKey();
 *   writePrivateKeyFile('/etc/sikkerkey/agent.key', id.privateKey);
 *   const again = readPrivateKeyFile('/etc/sikkerkey/agent.key'); // again.keyId === id.keyId
 */
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SikkerKeyError } from './errors.js';
const ED25519_PUBLIC_KEY_LENGTH = 32;
/** A PKCS#8 Ed25519 PEM is 119 bytes; anything far larger is not one of ours. */
const MAX_KEY_FILE_BYTES = 16 * 1024;
function requireRawKey(raw) {
    if (!(raw instanceof Uint8Array) || raw.length !== ED25519_PUBLIC_KEY_LENGTH) {
        throw new SikkerKeyError('SK_ERR_PUBLIC_KEY', `an Ed25519 public key is ${ED25519_PUBLIC_KEY_LENGTH} bytes`);
    }
}
/**
 * The key id of a public key: the RFC 7638 JWK thumbprint, base64url (no padding) of the SHA-256
 * of `{"crv":"Ed25519","kty":"OKP","x":"<base64url raw key>"}` (members in that order, no spaces).
 * Anyone can compute it from the public key alone.
 *
 * @example
 *   keyIdFromPublicKey(rawPublicKey(createPublicKey(pem))); // 43 characters of base64url
 */
export function keyIdFromPublicKey(raw) {
    requireRawKey(raw);
    const x = Buffer.from(raw).toString('base64url');
    const canonicalJwk = `{"crv":"Ed25519","kty":"OKP","x":"${x}"}`;
    return createHash('sha256').update(canonicalJwk, 'utf8').digest('base64url');
}
/**
 * Parses a public key given as base64 or base64url of the raw 32 bytes (padding optional), or
 * as a PEM SubjectPublicKeyInfo block (`-----BEGIN PUBLIC KEY-----`). Returns the raw 32 bytes.
 * Throws SK_ERR_PUBLIC_KEY for anything else.
 *
 * @example
 *   parsePublicKey('JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs');
 */
export function parsePublicKey(text) {
    if (typeof text !== 'string')
        throw new SikkerKeyError('SK_ERR_PUBLIC_KEY', 'a public key must be text');
    const trimmed = text.trim();
    if (trimmed.startsWith('-----BEGIN'))
        return parsePem(trimmed);
    // Strict alphabet first: Buffer.from(…, 'base64') silently skips characters it does not know.
    const urlSafe = /^[A-Za-z0-9_-]+={0,2}$/.test(trimmed);
    const standard = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed);
    if (!urlSafe && !standard) {
        throw new SikkerKeyError('SK_ERR_PUBLIC_KEY', 'a public key must be base64 or base64url of 32 raw bytes, or a PEM SPKI block');
    }
    const unpadded = trimmed.replace(/=+$/, '');
    const bytes = Buffer.from(unpadded, urlSafe ? 'base64url' : 'base64');
    // Round trip: refuses wrong lengths and non-canonical trailing bits alike.
    const again = bytes.toString(urlSafe ? 'base64url' : 'base64').replace(/=+$/, '');
    if (bytes.length !== ED25519_PUBLIC_KEY_LENGTH || again !== unpadded || (trimmed.length !== unpadded.length && trimmed.length !== 44)) {
        throw new SikkerKeyError('SK_ERR_PUBLIC_KEY', `a raw Ed25519 public key is ${ED25519_PUBLIC_KEY_LENGTH} bytes (43 base64url characters)`);
    }
    return new Uint8Array(bytes);
}
function parsePem(pem) {
    const header = '-----BEGIN PUBLIC KEY-----';
    const footer = '-----END PUBLIC KEY-----';
    // Exactly one SPKI block and nothing around it: a certificate or a private key is refused here.
    if (!pem.startsWith(header) || !pem.endsWith(footer) || pem.indexOf(header, 1) !== -1) {
        throw new SikkerKeyError('SK_ERR_PUBLIC_KEY', 'a PEM public key must be one -----BEGIN PUBLIC KEY----- block');
    }
    let key;
    try {
        key = createPublicKey({ key: pem, format: 'pem' });
    }
    catch (cause) {
        throw new SikkerKeyError('SK_ERR_PUBLIC_KEY', 'the PEM block is not a readable SPKI public key', { cause });
    }
    return rawPublicKey(key);
}
/**
 * A node:crypto public KeyObject for a raw Ed25519 key (built through JWK import). The vault
 * caches one per key id: building it costs about as much as one verification.
 *
 * @example
 *   crypto.verify(null, message, publicKeyObject(raw), signature);
 */
export function publicKeyObject(raw) {
    requireRawKey(raw);
    try {
        return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
    }
    catch (cause) {
        throw new SikkerKeyError('SK_ERR_PUBLIC_KEY', 'the bytes are not an Ed25519 public key', { cause });
    }
}
/**
 * The raw 32 bytes of an Ed25519 public key (or of the public half of a private key).
 *
 * @example
 *   rawPublicKey(generateIdentityKey().privateKey).length; // 32
 */
export function rawPublicKey(key) {
    if (key.asymmetricKeyType !== 'ed25519') {
        throw new SikkerKeyError('SK_ERR_PUBLIC_KEY', `the key is ${key.asymmetricKeyType ?? key.type}, not Ed25519`);
    }
    const pub = key.type === 'private' ? createPublicKey(key) : key;
    const x = pub.export({ format: 'jwk' }).x;
    const raw = x === undefined ? Buffer.alloc(0) : Buffer.from(x, 'base64url');
    requireRawKey(raw);
    return new Uint8Array(raw);
}
/**
 * A fresh Ed25519 identity, generated in this process.
 *
 * @example
 *   const { keyId, publicKey } = generateIdentityKey();
 */
export function generateIdentityKey() {
    const { privateKey } = generateKeyPairSync('ed25519');
    return identityFromPrivateKey(privateKey);
}
function identityFromPrivateKey(privateKey) {
    const publicKey = rawPublicKey(privateKey);
    return { privateKey, publicKey, keyId: keyIdFromPublicKey(publicKey) };
}
/**
 * Writes a private key as PKCS#8 PEM to a new file created with mode 0600. Refuses to replace an
 * existing file unless `overwrite` is set (then the file is first narrowed to 0600, then written).
 * Throws SK_ERR_KEY_FILE.
 *
 * @example
 *   writePrivateKeyFile('./agent.key', generateIdentityKey().privateKey);
 */
export function writePrivateKeyFile(path, privateKey, opts = {}) {
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
        throw new SikkerKeyError('SK_ERR_KEY_FILE', 'only an Ed25519 private key can be written to a key file');
    }
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const flags = constants.O_WRONLY | constants.O_CREAT | (opts.overwrite === true ? constants.O_TRUNC : constants.O_EXCL);
    let fd;
    try {
        fd = openSync(path, flags, 0o600);
    }
    catch (cause) {
        if (cause.code === 'EEXIST') {
            throw new SikkerKeyError('SK_ERR_KEY_FILE', `${path} already exists; refusing to overwrite a key file`, { cause });
        }
        throw new SikkerKeyError('SK_ERR_KEY_FILE', `cannot create key file ${path}: ${cause.message}`, { cause });
    }
    try {
        // The umask or an existing file may have left wider permissions: narrow them before any byte of the key is written.
        fchmodSync(fd, 0o600);
        writeSync(fd, pem);
        fsyncSync(fd);
    }
    catch (cause) {
        throw new SikkerKeyError('SK_ERR_KEY_FILE', `cannot write key file ${path}: ${cause.message}`, { cause });
    }
    finally {
        closeSync(fd);
    }
}
/**
 * Reads a PKCS#8 PEM Ed25519 private key file. Refuses a file that group or others may read or
 * write (`chmod 600` it), a missing or unreadable file, and anything that is not an unencrypted
 * Ed25519 private key. Error messages never include the file's content. Throws SK_ERR_KEY_FILE.
 *
 * @example
 *   const { keyId, privateKey } = readPrivateKeyFile(process.env.SIKKERKEY_KEY_FILE!);
 */
export function readPrivateKeyFile(path) {
    let fd;
    try {
        fd = openSync(path, constants.O_RDONLY);
    }
    catch (cause) {
        const code = cause.code;
        const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : `cannot be opened (${code ?? 'error'})`;
        throw new SikkerKeyError('SK_ERR_KEY_FILE', `key file ${path} ${why}`, { cause });
    }
    let text;
    try {
        // fstat on the open descriptor: the mode checked is the mode of the file actually read.
        const st = fstatSync(fd);
        if (!st.isFile()) {
            throw new SikkerKeyError('SK_ERR_KEY_FILE', `key file ${path} is not a regular file`);
        }
        if ((st.mode & 0o077) !== 0) {
            const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
            throw new SikkerKeyError('SK_ERR_KEY_FILE', `key file ${path} has mode ${mode}: group or others can access it; run chmod 600 ${path}`);
        }
        if (st.size > MAX_KEY_FILE_BYTES) {
            throw new SikkerKeyError('SK_ERR_KEY_FILE', `key file ${path} is too large to be an Ed25519 private key`);
        }
        const buf = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
        let length = 0;
        for (;;) {
            const n = readSync(fd, buf, length, buf.length - length, null);
            if (n === 0)
                break;
            length += n;
            if (length > MAX_KEY_FILE_BYTES) {
                throw new SikkerKeyError('SK_ERR_KEY_FILE', `key file ${path} is too large to be an Ed25519 private key`);
            }
        }
        text = buf.subarray(0, length).toString('utf8');
        buf.fill(0);
    }
    catch (cause) {
        if (cause instanceof SikkerKeyError)
            throw cause;
        throw new SikkerKeyError('SK_ERR_KEY_FILE', `key file ${path} cannot be read (${cause.code ?? 'error'})`, { cause });
    }
    finally {
        closeSync(fd);
    }
    let privateKey;
    try {
        privateKey = createPrivateKey({ key: text, format: 'pem' });
    }
    catch {
        // No cause attached: a parser's message could quote part of the input.
        throw new SikkerKeyError('SK_ERR_KEY_FILE', `key file ${path} is not an unencrypted PKCS#8 PEM private key`);
    }
    if (privateKey.asymmetricKeyType !== 'ed25519') {
        throw new SikkerKeyError('SK_ERR_KEY_FILE', `key file ${path} holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
    }
    return identityFromPrivateKey(privateKey);
}
//# sourceMappingURL=keys.js.map