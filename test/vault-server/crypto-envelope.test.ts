import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { AAD_PURPOSE, encodeAad } from '../../vault-server/crypto/aad.js';
import { NONCE_BYTES, SEAL_OVERHEAD, TAG_BYTES, open, seal, sealWithNonce } from '../../vault-server/crypto/envelope.js';

interface WycheproofTest { tcId: number; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: 'valid' | 'invalid' | 'acceptable'; flags: string[] }
interface WycheproofGroup { keySize: number; ivSize: number; tagSize: number; tests: WycheproofTest[] }

// dist/test/vault-server/ → project root.
const vectorsFile = new URL('../../../test/vectors/wycheproof-aes_gcm_test.json', import.meta.url);
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const isDecryptFailed = (err: unknown): boolean => isSikkerKeyError(err, 'SK_ERR_DECRYPT_FAILED') && err.cause === undefined;

test('agrees with every Wycheproof AES-GCM vector for 256-bit keys and 96-bit nonces', () => {
  const doc = JSON.parse(readFileSync(vectorsFile, 'utf8')) as { testGroups: WycheproofGroup[] };
  const groups = doc.testGroups.filter((g) => g.keySize === 256 && g.ivSize === 96);
  assert.ok(groups.length > 0, 'no 256/96 groups in the vector file');
  let validAccepted = 0;
  let invalidRejected = 0;
  let total = 0;
  for (const group of groups) {
    assert.equal(group.tagSize, TAG_BYTES * 8, 'the envelope uses 16-byte tags only');
    for (const t of group.tests) {
      total += 1;
      const key = hex(t.key);
      const iv = hex(t.iv);
      const aad = hex(t.aad);
      const vectorBox = Buffer.concat([iv, hex(t.ct), hex(t.tag)]);
      if (t.result === 'valid') {
        assert.deepEqual(open(key, vectorBox, aad), hex(t.msg), `tcId ${t.tcId}: decryption`);
        assert.deepEqual(sealWithNonce(key, iv, hex(t.msg), aad), vectorBox, `tcId ${t.tcId}: encryption`);
        validAccepted += 1;
      } else {
        assert.throws(() => open(key, vectorBox, aad), isDecryptFailed, `tcId ${t.tcId} (${t.flags.join(',')}) was accepted`);
        assert.notDeepEqual(sealWithNonce(key, iv, hex(t.msg), aad), vectorBox, `tcId ${t.tcId}: encryption reproduced an invalid box`);
        invalidRejected += 1;
      }
    }
  }
  console.log(`wycheproof aes-gcm 256/96: ${total} vectors, ${validAccepted} valid accepted, ${invalidRejected} invalid rejected`);
  assert.equal(validAccepted + invalidRejected, total);
  assert.ok(validAccepted >= 30 && invalidRejected >= 10, `too few vectors ran: ${validAccepted} valid, ${invalidRejected} invalid`);
});

test('200 seals of one plaintext use 200 different nonces and give 200 different boxes, each opening again', () => {
  const key = randomBytes(32);
  const aad = encodeAad(AAD_PURPOSE.secretValue, 'p', 's', 1);
  const boxes = new Set<string>();
  const nonces = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const box = seal(key, Buffer.from('same plaintext'), aad);
    assert.equal(box.length, 'same plaintext'.length + SEAL_OVERHEAD);
    boxes.add(box.toString('hex'));
    nonces.add(box.subarray(0, NONCE_BYTES).toString('hex'));
    assert.equal(open(key, box, aad).toString(), 'same plaintext');
  }
  assert.equal(boxes.size, 200);
  assert.equal(nonces.size, 200);
});

test('refuses a box that is too short, empty, under another key or with other AAD, saying nothing more', () => {
  const key = randomBytes(32);
  const aad = encodeAad(AAD_PURPOSE.secretValue, 'p', 's', 1);
  const box = seal(key, Buffer.from('x'), aad);
  const attempts: Array<[string, () => Buffer]> = [
    ['empty', () => open(key, Buffer.alloc(0), aad)],
    ['nonce only', () => open(key, box.subarray(0, NONCE_BYTES), aad)],
    ['one byte short of nonce and tag', () => open(key, Buffer.alloc(SEAL_OVERHEAD - 1), aad)],
    ['tag cut off', () => open(key, box.subarray(0, box.length - 1), aad)],
    ['another key', () => open(randomBytes(32), box, aad)],
    ['a 16-byte key', () => open(key.subarray(0, 16), box, aad)],
    ['other AAD', () => open(key, box, encodeAad(AAD_PURPOSE.secretValue, 'p', 's', 2))],
    ['no AAD', () => open(key, box, Buffer.alloc(0))],
  ];
  for (const [what, attempt] of attempts) {
    assert.throws(attempt, (err: unknown) => {
      assert.ok(isDecryptFailed(err), `${what}: ${String(err)}`);
      assert.doesNotMatch((err as Error).message, /authenticate|openssl|tag|nonce|length/i, `${what}: the message gives detail away`);
      return true;
    });
  }
});

test('a plaintext of zero bytes and one of a megabyte both round-trip', () => {
  const key = randomBytes(32);
  const aad = encodeAad(AAD_PURPOSE.secretValue, 'p', 's', 1);
  assert.equal(open(key, seal(key, Buffer.alloc(0), aad), aad).length, 0);
  const big = randomBytes(1 << 20);
  assert.deepEqual(open(key, seal(key, big, aad), aad), big);
});

test('AAD is length-prefixed, so parts that concatenate alike still encode differently', () => {
  const p = AAD_PURPOSE.secretValue;
  assert.notDeepEqual(encodeAad(p, 'ab', 'c'), encodeAad(p, 'a', 'bc'));
  assert.notDeepEqual(encodeAad(p, 'abc'), encodeAad(p, 'ab', 'c'));
  assert.notDeepEqual(encodeAad(p), encodeAad(p, ''));
  assert.notDeepEqual(encodeAad(p, 'x', 1), encodeAad(p, 'x1'));
  assert.notDeepEqual(encodeAad(AAD_PURPOSE.dataKey, 'p', 's', 1), encodeAad(AAD_PURPOSE.secretValue, 'p', 's', 1));
  // The exact bytes: u32 big-endian length, then UTF-8; numbers as decimal text.
  assert.equal(encodeAad('sk/root-check/v1', 'ø', 12).toString('hex'),
    '00000010' + Buffer.from('sk/root-check/v1').toString('hex') + '00000002' + 'c3b8' + '00000002' + '3132');
  assert.deepEqual(encodeAad(p, 7), encodeAad(p, '7'));
});

test('AAD refuses numbers that have no single decimal form', () => {
  for (const n of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
    assert.throws(() => encodeAad(AAD_PURPOSE.secretValue, 'p', n), (err: unknown) => isSikkerKeyError(err, 'SK_ERR_INTERNAL'), String(n));
  }
});

test('the purposes are the five documented labels', () => {
  assert.deepEqual(Object.values(AAD_PURPOSE).sort(), ['sk/audit-key/v1', 'sk/data-key/v1', 'sk/project-key/v1', 'sk/root-check/v1', 'sk/secret-value/v1', 'sk/webhook-secret/v1']);
});
