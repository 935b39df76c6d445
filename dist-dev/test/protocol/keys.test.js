import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { generateIdentityKey, keyIdFromPublicKey, parsePublicKey, publicKeyObject, rawPublicKey, readPrivateKeyFile, writePrivateKeyFile, } from '../../protocol/keys.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
const dir = mkdtempSync(join(tmpdir(), 'sk-keys-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
function codeOf(fn) {
    try {
        fn();
        return 'accepted';
    }
    catch (err) {
        assert.ok(isSikkerKeyError(err), `expected a SikkerKeyError, got ${String(err)}`);
        return err.code;
    }
}
test('the key id is the RFC 7638 thumbprint given in RFC 8037 Appendix A.3', () => {
    const raw = Buffer.from('11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', 'base64url');
    assert.equal(keyIdFromPublicKey(raw), 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
});
test('the key id matches a thumbprint computed independently from node\'s own JWK export', () => {
    for (let i = 0; i < 20; i += 1) {
        const { publicKey } = generateKeyPairSync('ed25519');
        const jwk = publicKey.export({ format: 'jwk' });
        // RFC 7638 §3.2: required members only, lexicographic order, no whitespace.
        const canonical = JSON.stringify(Object.fromEntries(['crv', 'kty', 'x'].sort().map((k) => [k, jwk[k]])));
        const expected = createHash('sha256').update(canonical).digest('base64url');
        assert.equal(keyIdFromPublicKey(rawPublicKey(publicKey)), expected);
    }
});
test('a generated identity has a 32-byte public key, its key id, and a private key that signs for it', () => {
    const id = generateIdentityKey();
    assert.equal(id.publicKey.length, 32);
    assert.equal(id.keyId, keyIdFromPublicKey(id.publicKey));
    assert.match(id.keyId, /^[A-Za-z0-9_-]{43}$/);
    const sig = sign(null, Buffer.from('m'), id.privateKey);
    assert.equal(verify(null, Buffer.from('m'), publicKeyObject(id.publicKey), sig), true);
    assert.notEqual(generateIdentityKey().keyId, id.keyId);
});
test('a public key is accepted as base64url, base64 (padded or not) or a PEM SPKI block', () => {
    const id = generateIdentityKey();
    const raw = Buffer.from(id.publicKey);
    const pem = createPublicKey(id.privateKey).export({ type: 'spki', format: 'pem' }).toString();
    const forms = [
        raw.toString('base64url'),
        raw.toString('base64'),
        raw.toString('base64').replace(/=+$/, ''),
        `${raw.toString('base64url')}=`,
        pem,
        `\n  ${pem}\n`,
        pem.replace(/\n/g, '\r\n'),
    ];
    for (const form of forms)
        assert.deepEqual(Buffer.from(parsePublicKey(form)), raw, JSON.stringify(form));
});
/** The same 32 bytes, with one of the 2 unused low bits of the last base64url character set. */
function nonCanonical(raw) {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const s = raw.toString('base64url');
    const last = alphabet.indexOf(s[42]);
    assert.equal(last % 4, 0);
    const text = `${s.slice(0, 42)}${alphabet[last + 1]}`;
    assert.deepEqual(Buffer.from(text, 'base64url'), raw, 'node decodes it to the same bytes');
    return text;
}
test('anything that is not a raw 32-byte Ed25519 key or an SPKI PEM is refused with SK_ERR_PUBLIC_KEY', () => {
    const id = generateIdentityKey();
    const raw = Buffer.from(id.publicKey);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const x25519 = generateKeyPairSync('x25519');
    const spkiPem = createPublicKey(id.privateKey).export({ type: 'spki', format: 'pem' }).toString();
    const bad = [
        ['empty', ''],
        ['31 bytes', raw.subarray(1).toString('base64url')],
        ['33 bytes', Buffer.concat([raw, Buffer.from([0])]).toString('base64url')],
        ['64 bytes', Buffer.concat([raw, raw]).toString('base64')],
        ['hex', raw.toString('hex')],
        ['mixed alphabets', `-+${raw.toString('base64url').slice(2)}`],
        ['base64 with a space inside', `${raw.toString('base64').slice(0, 10)} ${raw.toString('base64').slice(10)}`],
        ['too much padding', `${raw.toString('base64url')}==`],
        ['non-canonical last character (unused bits set)', nonCanonical(raw)],
        ['the private key PEM', id.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
        ['an RSA SPKI PEM', rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString()],
        ['an X25519 SPKI PEM', x25519.publicKey.export({ type: 'spki', format: 'pem' }).toString()],
        ['a PEM whose body is truncated', spkiPem.replace(/\n[^-][^\n]*\n/, '\nMCowBQYDK2VwAyEA\n')],
        ['two PEM blocks', `${spkiPem}${spkiPem}`],
        ['text after the PEM block', `${spkiPem}trailing`],
        ['a JWK', JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') })],
    ];
    for (const [what, text] of bad)
        assert.equal(codeOf(() => parsePublicKey(text)), 'SK_ERR_PUBLIC_KEY', what);
    assert.equal(codeOf(() => publicKeyObject(raw.subarray(0, 31))), 'SK_ERR_PUBLIC_KEY');
    assert.equal(codeOf(() => keyIdFromPublicKey(raw.subarray(0, 31))), 'SK_ERR_PUBLIC_KEY');
    assert.equal(codeOf(() => rawPublicKey(rsa.publicKey)), 'SK_ERR_PUBLIC_KEY');
});
test('a written key file is PKCS#8 PEM with mode 0600 and reads back as the same identity', () => {
    const path = join(dir, 'written.key');
    const id = generateIdentityKey();
    const oldUmask = process.umask(0);
    try {
        writePrivateKeyFile(path, id.privateKey);
    }
    finally {
        process.umask(oldUmask);
    }
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const text = readFileSync(path, 'utf8');
    assert.match(text, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(createPrivateKey(text).asymmetricKeyType, 'ed25519');
    const back = readPrivateKeyFile(path);
    assert.equal(back.keyId, id.keyId);
    assert.deepEqual(Buffer.from(back.publicKey), Buffer.from(id.publicKey));
});
test('writing refuses to replace an existing file unless asked, and overwriting narrows the mode to 0600', () => {
    const path = join(dir, 'existing.key');
    writeFileSync(path, 'something else', { mode: 0o644 });
    chmodSync(path, 0o644);
    const id = generateIdentityKey();
    assert.equal(codeOf(() => writePrivateKeyFile(path, id.privateKey)), 'SK_ERR_KEY_FILE');
    assert.equal(readFileSync(path, 'utf8'), 'something else');
    writePrivateKeyFile(path, id.privateKey, { overwrite: true });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(readPrivateKeyFile(path).keyId, id.keyId);
    const pub = generateKeyPairSync('ed25519').publicKey;
    assert.equal(codeOf(() => writePrivateKeyFile(join(dir, 'public.key'), pub)), 'SK_ERR_KEY_FILE');
    assert.equal(codeOf(() => writePrivateKeyFile(join(dir, 'no-such-dir', 'k.key'), id.privateKey)), 'SK_ERR_KEY_FILE');
});
test('a key file that group or others can access is refused with the chmod 600 to run; 0600 and 0400 are accepted', () => {
    const id = generateIdentityKey();
    const path = join(dir, 'perm.key');
    writePrivateKeyFile(path, id.privateKey);
    const pem = readFileSync(path, 'utf8');
    for (const mode of [0o644, 0o640, 0o604, 0o660, 0o606, 0o610, 0o601, 0o777]) {
        chmodSync(path, mode);
        try {
            readPrivateKeyFile(path);
            assert.fail(`mode ${mode.toString(8)} was accepted`);
        }
        catch (err) {
            assert.ok(isSikkerKeyError(err, 'SK_ERR_KEY_FILE'), String(err));
            assert.ok(err.message.includes(`chmod 600 ${path}`), err.message);
            assert.ok(!err.message.includes(pem.split('\n')[1]), 'the message must not quote the key');
        }
    }
    for (const mode of [0o600, 0o400]) {
        chmodSync(path, mode);
        assert.equal(readPrivateKeyFile(path).keyId, id.keyId);
    }
});
test('a missing, non-regular, non-PEM or non-Ed25519 key file is refused with a message that never quotes it', () => {
    assert.equal(codeOf(() => readPrivateKeyFile(join(dir, 'absent.key'))), 'SK_ERR_KEY_FILE');
    const sub = join(dir, 'a-directory');
    mkdirSync(sub, { mode: 0o700 });
    assert.equal(codeOf(() => readPrivateKeyFile(sub)), 'SK_ERR_KEY_FILE');
    const garbage = join(dir, 'garbage.key');
    const marker = 'not-a-key-MARKER-4242';
    writeFileSync(garbage, `-----BEGIN PRIVATE KEY-----\n${marker}\n-----END PRIVATE KEY-----\n`, { mode: 0o600 });
    try {
        readPrivateKeyFile(garbage);
        assert.fail('garbage accepted');
    }
    catch (err) {
        assert.ok(isSikkerKeyError(err, 'SK_ERR_KEY_FILE'));
        assert.ok(!err.message.includes(marker));
        assert.equal(err.cause, undefined);
    }
    const rsaPath = join(dir, 'rsa.key');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    writeFileSync(rsaPath, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    assert.equal(codeOf(() => readPrivateKeyFile(rsaPath)), 'SK_ERR_KEY_FILE');
    const encPath = join(dir, 'encrypted.key');
    const ed = generateKeyPairSync('ed25519');
    writeFileSync(encPath, ed.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'test-only' }), { mode: 0o600 });
    assert.equal(codeOf(() => readPrivateKeyFile(encPath)), 'SK_ERR_KEY_FILE');
    const big = join(dir, 'big.key');
    writeFileSync(big, Buffer.alloc(64 * 1024, 0x41), { mode: 0o600 });
    assert.equal(codeOf(() => readPrivateKeyFile(big)), 'SK_ERR_KEY_FILE');
});
//# sourceMappingURL=keys.test.js.map