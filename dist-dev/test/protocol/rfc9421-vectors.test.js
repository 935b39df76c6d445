import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { buildSignatureBase, ed25519Verify, ed25519VerifyAsync } from '../../protocol/signing.js';
import { publicKeyObject, rawPublicKey } from '../../protocol/keys.js';
const b26 = JSON.parse(readFileSync('test/vectors/rfc9421-b26-ed25519.json', 'utf8'));
const wycheproof = JSON.parse(readFileSync('test/vectors/wycheproof-ed25519_test.json', 'utf8'));
function b26Components() {
    const { request } = b26;
    const header = (name) => {
        const key = Object.keys(request.headers).find((k) => k.toLowerCase() === name);
        assert.ok(key !== undefined, `vector lacks header ${name}`);
        return request.headers[key];
    };
    return b26.covered.map((name) => {
        switch (name) {
            case '@method': return [name, request.method];
            case '@authority': return [name, request.authority];
            case '@path': return [name, request.target.split('?')[0]];
            default: return [name, header(name)];
        }
    });
}
test('RFC 9421 Appendix B.2.6: the signature base is reproduced byte for byte', () => {
    const params = b26.signatureInput.slice(`${b26.label}=`.length);
    assert.equal(buildSignatureBase(b26Components(), params), b26.signatureBase);
});
test('RFC 9421 Appendix B.2.6: the Ed25519 signature is reproduced byte for byte and verifies', () => {
    const params = b26.signatureInput.slice(`${b26.label}=`.length);
    const base = Buffer.from(buildSignatureBase(b26Components(), params), 'ascii');
    const sig = sign(null, base, createPrivateKey(b26.privateKeyPem));
    assert.equal(`${b26.label}=:${sig.toString('base64')}:`, b26.signature);
    assert.equal(sig.toString('base64'), 'wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==');
    const raw = Buffer.from(b26.publicKeyRawBase64url, 'base64url');
    assert.deepEqual(Buffer.from(rawPublicKey(createPublicKey(b26.publicKeyPem))), raw);
    assert.equal(ed25519Verify(publicKeyObject(raw), base, sig), true);
    const tampered = Buffer.from(base);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 2) ^ 1, tampered.length - 2);
    assert.equal(ed25519Verify(publicKeyObject(raw), tampered, sig), false);
});
test('Wycheproof Ed25519: every valid case is accepted and every invalid one rejected (sync and async)', async () => {
    let valid = 0;
    let invalid = 0;
    const disagreements = [];
    for (const group of wycheproof.testGroups) {
        const key = publicKeyObject(Buffer.from(group.publicKey.pk, 'hex'));
        for (const t of group.tests) {
            const msg = Buffer.from(t.msg, 'hex');
            const sig = Buffer.from(t.sig, 'hex');
            const expected = t.result === 'valid';
            const sync = ed25519Verify(key, msg, sig);
            const async = await ed25519VerifyAsync(key, msg, sig);
            if (sync !== expected || async !== expected)
                disagreements.push(`tcId ${t.tcId}: expected ${t.result}, sync ${sync}, async ${async}`);
            if (expected)
                valid += 1;
            else
                invalid += 1;
        }
    }
    console.log(`wycheproof ed25519: ${valid} valid accepted, ${invalid} invalid rejected, ${disagreements.length} disagreements`);
    assert.deepEqual(disagreements, []);
    assert.equal(valid + invalid, wycheproof.numberOfTests);
    assert.equal(valid, 88);
    assert.equal(invalid, 63);
});
//# sourceMappingURL=rfc9421-vectors.test.js.map