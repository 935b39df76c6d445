import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { Keyring } from '../../vault-server/crypto/keyring.js';
import type { DecryptValueRequest } from '../../vault-server/crypto/keyring.js';

const isDecryptFailed = (err: unknown): boolean => isSikkerKeyError(err, 'SK_ERR_DECRYPT_FAILED');

/** One stored secret version: its place and its boxes, as rows would hold them. */
type Stored = DecryptValueRequest & { plaintext: string };

function vault(): { keyring: Keyring; rootKey: Buffer; projects: Array<{ id: string; wrapped: Buffer }>; stored: Stored[] } {
  const rootKey = randomBytes(32);
  const keyring = new Keyring(rootKey);
  const projects = [randomUUID(), randomUUID()].map((id) => ({ id, wrapped: keyring.newProjectKey({ projectId: id, keyVersion: 1 }).wrapped }));
  const stored: Stored[] = [];
  for (const project of projects) {
    for (const secretId of [randomUUID(), randomUUID()]) {
      for (const version of [1, 2]) {
        const plaintext = `value of ${secretId.slice(0, 8)} v${version}`;
        const box = keyring.encryptValue({
          projectId: project.id, keyVersion: 1, wrappedProjectKey: project.wrapped, secretId, version, plaintext: Buffer.from(plaintext),
        });
        stored.push({ projectId: project.id, keyVersion: 1, wrappedProjectKey: project.wrapped, secretId, version, ...box, plaintext });
      }
    }
  }
  return { keyring, rootKey, projects, stored };
}

const decrypt = (keyring: Keyring, s: DecryptValueRequest): string => keyring.decryptValue(s).toString('utf8');

test('every stored version decrypts in its own place, also through a new keyring with an empty cache', () => {
  const { keyring, rootKey, stored } = vault();
  const cold = new Keyring(rootKey);
  for (const s of stored) {
    assert.equal(decrypt(keyring, s), s.plaintext);
    assert.equal(decrypt(cold, s), s.plaintext);
  }
});

test('a value, a data key or a project key moved to any other place fails to decrypt', () => {
  const { keyring, projects, stored } = vault();
  let refused = 0;
  const mustFail = (what: string, req: DecryptValueRequest): void => {
    assert.throws(() => keyring.decryptValue(req), isDecryptFailed, what);
    refused += 1;
  };
  for (const [i, from] of stored.entries()) {
    for (const [j, to] of stored.entries()) {
      if (i === j) continue;
      const place = { projectId: to.projectId, keyVersion: to.keyVersion, wrappedProjectKey: to.wrappedProjectKey, secretId: to.secretId, version: to.version };
      // The whole row (value and data key) moved to another secret / version / project.
      mustFail(`row ${i} moved to ${j}`, { ...place, ciphertext: from.ciphertext, wrappedDataKey: from.wrappedDataKey });
      // Only the value moved; the place keeps its own data key.
      mustFail(`value ${i} moved to ${j}`, { ...place, ciphertext: from.ciphertext, wrappedDataKey: to.wrappedDataKey });
      // Only the data key moved.
      mustFail(`data key ${i} moved to ${j}`, { ...place, ciphertext: to.ciphertext, wrappedDataKey: from.wrappedDataKey });
    }
    // The project key of the other project, offered under this project's id.
    const other = projects.find((p) => p.id !== from.projectId)!;
    mustFail(`project key of another project for ${i}`, { ...from, wrappedProjectKey: other.wrapped });
    // The right project key bytes but a claimed key version they were not sealed for.
    mustFail(`project key version changed for ${i}`, { ...from, keyVersion: 2 });
    // Another project's id with this project's key.
    mustFail(`project id changed for ${i}`, { ...from, projectId: other.id });
  }
  console.log(`cross-placement attempts refused: ${refused}`);
  assert.equal(refused, stored.length * (stored.length - 1) * 3 + stored.length * 3);
  // Nothing of the above disturbed the rows in their own places.
  for (const s of stored) assert.equal(decrypt(keyring, s), s.plaintext);
});

test('a one-bit flip anywhere in the value, its data key or the project key fails to decrypt', () => {
  const { keyring, rootKey, stored } = vault();
  const s = stored[0]!;
  let flips = 0;
  for (const field of ['ciphertext', 'wrappedDataKey', 'wrappedProjectKey'] as const) {
    const original = s[field];
    // Nonce (first 12 bytes), body and tag (last 16 bytes) are all covered.
    for (let byte = 0; byte < original.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(original);
        flipped[byte]! ^= 1 << bit;
        assert.throws(() => keyring.decryptValue({ ...s, [field]: flipped }), isDecryptFailed, `${field} byte ${byte} bit ${bit}`);
        flips += 1;
      }
    }
  }
  console.log(`one-bit flips refused: ${flips}`);
  assert.ok(flips >= (s.ciphertext.length + s.wrappedDataKey.length + s.wrappedProjectKey.length) * 8);
  // The cached project key was not replaced by a flipped box: the original still works, cold too.
  assert.equal(decrypt(keyring, s), s.plaintext);
  assert.equal(decrypt(new Keyring(rootKey), s), s.plaintext);
});

test('each version gets its own data key and nonce, even for equal plaintexts', () => {
  const keyring = new Keyring(randomBytes(32));
  const projectId = randomUUID();
  const { wrapped } = keyring.newProjectKey({ projectId, keyVersion: 1 });
  const a = keyring.encryptValue({ projectId, keyVersion: 1, wrappedProjectKey: wrapped, secretId: 's', version: 1, plaintext: Buffer.from('same') });
  const b = keyring.encryptValue({ projectId, keyVersion: 1, wrappedProjectKey: wrapped, secretId: 's', version: 1, plaintext: Buffer.from('same') });
  assert.notDeepEqual(a.ciphertext, b.ciphertext);
  assert.notDeepEqual(a.wrappedDataKey, b.wrappedDataKey);
  // b's data key does not open a's value: they are different keys, not only different nonces.
  assert.throws(() => keyring.decryptValue({ projectId, keyVersion: 1, wrappedProjectKey: wrapped, secretId: 's', version: 1, ciphertext: a.ciphertext, wrappedDataKey: b.wrappedDataKey }), isDecryptFailed);
});

test('project-key rotation re-wraps data keys and leaves versions not yet re-wrapped readable', () => {
  const rootKey = randomBytes(32);
  const keyring = new Keyring(rootKey);
  const projectId = randomUUID();
  const secretId = randomUUID();
  const k1 = keyring.newProjectKey({ projectId, keyVersion: 1 }).wrapped;
  const v1 = keyring.encryptValue({ projectId, keyVersion: 1, wrappedProjectKey: k1, secretId, version: 1, plaintext: Buffer.from('first') });
  const v2 = keyring.encryptValue({ projectId, keyVersion: 1, wrappedProjectKey: k1, secretId, version: 2, plaintext: Buffer.from('second') });
  const k2 = keyring.newProjectKey({ projectId, keyVersion: 2 }).wrapped;

  const v1Rewrapped = keyring.rewrapDataKey({
    projectId, secretId, version: 1, wrappedDataKey: v1.wrappedDataKey,
    from: { keyVersion: 1, wrappedProjectKey: k1 }, to: { keyVersion: 2, wrappedProjectKey: k2 },
  });
  const cold = new Keyring(rootKey);
  for (const kr of [keyring, cold]) {
    // v1 now under key version 2, its value box untouched.
    assert.equal(kr.decryptValue({ projectId, keyVersion: 2, wrappedProjectKey: k2, secretId, version: 1, ciphertext: v1.ciphertext, wrappedDataKey: v1Rewrapped }).toString(), 'first');
    // v2 still under key version 1 (old key versions stay until nothing references them).
    assert.equal(kr.decryptValue({ projectId, keyVersion: 1, wrappedProjectKey: k1, secretId, version: 2, ...v2 }).toString(), 'second');
    // The old wrapping of v1 still opens under key version 1 (a rotation interrupted before commit loses nothing).
    assert.equal(kr.decryptValue({ projectId, keyVersion: 1, wrappedProjectKey: k1, secretId, version: 1, ...v1 }).toString(), 'first');
    // The re-wrapped data key belongs to key version 2 only.
    assert.throws(() => kr.decryptValue({ projectId, keyVersion: 1, wrappedProjectKey: k1, secretId, version: 1, ciphertext: v1.ciphertext, wrappedDataKey: v1Rewrapped }), isDecryptFailed);
  }
  assert.notDeepEqual(k1, k2);
  // Re-wrapping refuses a data key that is not this version's.
  assert.throws(() => keyring.rewrapDataKey({
    projectId, secretId, version: 1, wrappedDataKey: v2.wrappedDataKey,
    from: { keyVersion: 1, wrappedProjectKey: k1 }, to: { keyVersion: 2, wrappedProjectKey: k2 },
  }), isDecryptFailed);
});

test('the check value accepts its own root key and refuses any other with SK_ERR_ROOT_KEY_WRONG', () => {
  const rootKey = randomBytes(32);
  const check = new Keyring(rootKey).checkValue();
  new Keyring(Buffer.from(rootKey)).verifyCheckValue(check);
  const wrongKey = randomBytes(32);
  const failures: Array<[string, () => void]> = [
    ['another root key', () => new Keyring(wrongKey).verifyCheckValue(check)],
    ['a truncated check value', () => new Keyring(rootKey).verifyCheckValue(check.subarray(0, 20))],
    ['an edited check value', () => { const c = Buffer.from(check); c[c.length - 1]! ^= 1; new Keyring(rootKey).verifyCheckValue(c); }],
    ['a box of another purpose', () => {
      const kr = new Keyring(rootKey);
      new Keyring(rootKey).verifyCheckValue(kr.newProjectKey({ projectId: 'p', keyVersion: 1 }).wrapped);
    }],
  ];
  for (const [what, attempt] of failures) {
    assert.throws(attempt, (err: unknown) => {
      assert.ok(isSikkerKeyError(err, 'SK_ERR_ROOT_KEY_WRONG'), `${what}: ${String(err)}`);
      const text = `${(err as Error).message} ${inspect(err)}`;
      for (const key of [rootKey, wrongKey]) {
        assert.ok(!text.includes(key.toString('base64')) && !text.includes(key.toString('hex')), `${what}: key material in the error`);
      }
      return true;
    });
  }
  // A check value is sealed with a fresh nonce each time, and each of them verifies.
  const again = new Keyring(rootKey).checkValue();
  assert.notDeepEqual(again, check);
  new Keyring(rootKey).verifyCheckValue(again);
});

test('a keyring shows no key material to JSON, inspect or string conversion', () => {
  const rootKey = randomBytes(32);
  const keyring = new Keyring(rootKey);
  keyring.newProjectKey({ projectId: 'p', keyVersion: 1 });
  const shown = [JSON.stringify(keyring), JSON.stringify({ keyring }), inspect(keyring, { showHidden: true, depth: 10 }), String(keyring), `${inspect({ nested: keyring })}`];
  for (const text of shown) {
    assert.ok(!text.includes(rootKey.toString('base64')) && !text.includes(rootKey.toString('hex')), text);
    assert.doesNotMatch(text, /[0-9a-f]{32}|Buffer|<Buffer/i, text);
  }
  assert.equal(JSON.stringify(keyring), '"[Keyring]"');
});

test('the keyring keeps its own copy of the root key and refuses one that is not 32 bytes', () => {
  const rootKey = randomBytes(32);
  const keyring = new Keyring(rootKey);
  const check = keyring.checkValue();
  rootKey.fill(0);
  keyring.verifyCheckValue(check);
  for (const bad of [randomBytes(16), randomBytes(31), randomBytes(33), Buffer.alloc(0)]) {
    assert.throws(() => new Keyring(bad), (err: unknown) => isSikkerKeyError(err, 'SK_ERR_ROOT_KEY_INVALID'), `${bad.length} bytes`);
  }
});

test('an audit key box opens only as its own kind and version, and only under its root key', () => {
  const root = randomBytes(32);
  const keyring = new Keyring(root);
  const key = randomBytes(32);
  const box = keyring.wrapAuditKey('mac', 1, key);
  assert.deepEqual(new Keyring(root).unwrapAuditKey('mac', 1, box), key, 'a root key re-read at the next start opens it');
  for (const [what, open] of [
    ['as the signing key', () => keyring.unwrapAuditKey('signing', 1, box)],
    ['as version 2', () => keyring.unwrapAuditKey('mac', 2, box)],
    ['under another root key', () => new Keyring(randomBytes(32)).unwrapAuditKey('mac', 1, box)],
  ] as const) {
    assert.throws(open, (err: unknown) => isSikkerKeyError(err) && err.code === 'SK_ERR_DECRYPT_FAILED', what);
  }
});

test('two root keys (a rotation): boxes of either open; a new box is sealed under the key whose check value the caller read, never the other', () => {
  const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
  const oldCheck = new Keyring(oldKey).checkValue();
  const newCheck = new Keyring(newKey).checkValue();
  const both = new Keyring([oldKey, newKey]);
  const projectId = randomUUID();
  const underOld = new Keyring(oldKey).newProjectKey({ projectId, keyVersion: 1 }).wrapped;
  const box = new Keyring(oldKey).encryptValue({ projectId, keyVersion: 1, wrappedProjectKey: underOld, secretId: 's', version: 1, plaintext: Buffer.from('v') });
  assert.equal(both.decryptValue({ projectId, keyVersion: 1, wrappedProjectKey: underOld, secretId: 's', version: 1, ...box }).toString(), 'v', 'a box of the old key opens');
  for (const [check, opens, refuses] of [[newCheck, newKey, oldKey], [oldCheck, oldKey, newKey]] as const) {
    const pid = randomUUID();
    const { wrapped } = both.newProjectKey({ projectId: pid, keyVersion: 1, storeCheck: check });
    const seal = (k: Buffer): unknown => new Keyring(k).encryptValue({ projectId: pid, keyVersion: 1, wrappedProjectKey: wrapped, secretId: 's', version: 1, plaintext: Buffer.from('v') });
    assert.doesNotThrow(() => seal(opens), 'the project key opens under the key the store records');
    assert.throws(() => seal(refuses), isDecryptFailed, 'and not under the other');
    const hook = both.sealWebhookSecret('w', 1, 'signing-secret', check);
    assert.equal(new Keyring(opens).openWebhookSecret('w', 1, hook), 'signing-secret');
    assert.throws(() => new Keyring(refuses).openWebhookSecret('w', 1, hook), isDecryptFailed);
  }
  const stranger = new Keyring(randomBytes(32)).checkValue();
  assert.throws(() => both.newProjectKey({ projectId, keyVersion: 2, storeCheck: stranger }), (err: unknown) => isSikkerKeyError(err, 'SK_ERR_ROOT_KEY_WRONG'));
  assert.equal(new Keyring([oldKey, oldKey]).fingerprints().length, 1, 'the same key twice is held once');
});

test('replaceRootKeys (SIGHUP): refused, and nothing changes, unless a new key opens the store\'s check value; then the dropped key opens nothing', () => {
  const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
  const newCheck = new Keyring(newKey).checkValue();
  const keyring = new Keyring([oldKey, newKey]);
  const before = keyring.fingerprints();
  assert.throws(() => keyring.replaceRootKeys([oldKey], newCheck), (err: unknown) => isSikkerKeyError(err, 'SK_ERR_ROOT_KEY_WRONG'));
  assert.deepEqual(keyring.fingerprints(), before, 'a refused reload keeps the keys held');
  const oldHook = new Keyring(oldKey).sealWebhookSecret('w', 1, 'x');
  assert.equal(keyring.openWebhookSecret('w', 1, oldHook), 'x');
  keyring.replaceRootKeys([newKey], newCheck);
  assert.deepEqual(keyring.fingerprints(), [new Keyring(newKey).fingerprint()]);
  assert.throws(() => keyring.openWebhookSecret('w', 1, oldHook), isDecryptFailed, 'the dropped key is gone');
});
