import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { checkContentDigest, computeContentDigest } from '../../protocol/digest.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
const hello = Buffer.from('{"hello": "world"}');
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
test('the sha-256 digest of {"hello": "world"} is the one printed in RFC 9530 §6', () => {
    assert.equal(computeContentDigest(hello), 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:');
    assert.equal(computeContentDigest('{"hello": "world"}'), 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:');
});
test('the sha-512 digest of {"hello": "world"} is the one printed in RFC 9530 §6 (and RFC 9421 B.2.6)', () => {
    assert.equal(computeContentDigest(hello, 'sha-512'), 'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:');
});
test('an empty body has the digest of the empty string', () => {
    assert.equal(computeContentDigest(new Uint8Array(0)), 'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:');
    assert.equal(computeContentDigest(''), 'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:');
});
test('a matching digest is accepted, in either algorithm, alongside unknown algorithms', () => {
    assert.equal(codeOf(() => checkContentDigest(computeContentDigest(hello), hello)), 'accepted');
    assert.equal(codeOf(() => checkContentDigest(computeContentDigest(hello, 'sha-512'), hello)), 'accepted');
    const both = `${computeContentDigest(hello)}, ${computeContentDigest(hello, 'sha-512')}`;
    assert.equal(codeOf(() => checkContentDigest(both, hello)), 'accepted');
    assert.equal(codeOf(() => checkContentDigest(`md5=:AAAA:, ${computeContentDigest(hello)}`, hello)), 'accepted');
});
test('the digest is checked over the raw bytes, not over a re-encoding of the JSON', () => {
    const compact = Buffer.from('{"hello":"world"}');
    assert.equal(codeOf(() => checkContentDigest(computeContentDigest(hello), compact)), 'SK_ERR_SIGNATURE_DIGEST_MISMATCH');
    // A non-UTF-8 byte that any text decoding would replace still counts as itself.
    const raw = Buffer.from([0x7b, 0xff, 0x7d]);
    const header = `sha-256=:${createHash('sha256').update(raw).digest('base64')}:`;
    assert.equal(codeOf(() => checkContentDigest(header, raw)), 'accepted');
    assert.equal(codeOf(() => checkContentDigest(header, Buffer.from(raw.toString('utf8')))), 'SK_ERR_SIGNATURE_DIGEST_MISMATCH');
});
test('each way a Content-Digest can be wrong is refused with the code for its kind of fault: missing, malformed, unsupported algorithm, mismatch', () => {
    const good = computeContentDigest(hello);
    const cases = [
        ['absent', undefined, 'SK_ERR_SIGNATURE_MISSING'],
        ['not a dictionary', 'sha-256=X48E9', 'SK_ERR_SIGNATURE_MALFORMED'],
        ['a trailing comma', `${good},`, 'SK_ERR_SIGNATURE_MALFORMED'],
        ['a string instead of a byte sequence', 'sha-256="X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="', 'SK_ERR_SIGNATURE_MALFORMED'],
        ['a byte sequence with parameters', `${good};x=1`, 'SK_ERR_SIGNATURE_MALFORMED'],
        ['the same algorithm twice (even both correct)', `${good}, ${good}`, 'SK_ERR_SIGNATURE_MALFORMED'],
        ['the same algorithm twice, the last one correct', `sha-256=:AAAA:, ${good}`, 'SK_ERR_SIGNATURE_MALFORMED'],
        ['only an unsupported algorithm', 'md5=:CY9rzUYh03PK3k6DJie09g==:', 'SK_ERR_SIGNATURE_DIGEST_ALG'],
        ['only sha (sha-1)', 'sha=:AAAA:', 'SK_ERR_SIGNATURE_DIGEST_ALG'],
        ['empty', '', 'SK_ERR_SIGNATURE_DIGEST_ALG'],
        ['the digest of another body', computeContentDigest('{"hello": "World"}'), 'SK_ERR_SIGNATURE_DIGEST_MISMATCH'],
        ['a truncated digest', 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBA==:', 'SK_ERR_SIGNATURE_DIGEST_MISMATCH'],
        ['the sha-256 value labelled sha-512', good.replace('sha-256', 'sha-512'), 'SK_ERR_SIGNATURE_DIGEST_MISMATCH'],
        ['a correct sha-256 next to a wrong sha-512', `${good}, sha-512=:AAAA:`, 'SK_ERR_SIGNATURE_DIGEST_MISMATCH'],
        ['upper-case algorithm name', good.toUpperCase(), 'SK_ERR_SIGNATURE_MALFORMED'],
    ];
    for (const [what, header, expected] of cases) {
        assert.equal(codeOf(() => checkContentDigest(header, hello)), expected, what);
    }
});
//# sourceMappingURL=digest.test.js.map