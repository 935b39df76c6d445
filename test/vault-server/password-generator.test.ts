// The vault's password generator (rotations and leases): length, alphabet, a letter and a digit in
// every password, and no character likelier than another (a plain `byte % 62` would make eight
// characters 25 % likelier; node's randomInt, which the generator draws from, rejects such bytes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePassword, parsePasswordPolicy } from '../../vault-server/modules/rotations/password-generator.js';

const LETTERS_DIGITS = /^[A-Za-z0-9]+$/;
const WITH_SYMBOLS = /^[A-Za-z0-9._~-]+$/;

test('passwords have the policy\'s length and alphabet, and always a letter and a digit', () => {
  for (const length of [16, 32, 33, 128]) {
    for (const symbols of [false, true]) {
      for (let i = 0; i < 200; i++) {
        const p = generatePassword({ length, symbols });
        assert.equal(p.length, length);
        assert.match(p, symbols ? WITH_SYMBOLS : LETTERS_DIGITS);
        assert.match(p, /[A-Za-z]/);
        assert.match(p, /[0-9]/);
      }
    }
  }
  assert.equal(generatePassword().length, 32, 'the default policy is 32 characters');
  assert.equal(generatePassword(parsePasswordPolicy({ length: 20, symbols: false })).length, 20);
});

test('every character of the alphabet is as likely as any other (10,000 passwords)', () => {
  const counts = new Map<string, number>();
  const n = 10_000;
  const length = 32;
  for (let i = 0; i < n; i++) for (const c of generatePassword({ length, symbols: false })) counts.set(c, (counts.get(c) ?? 0) + 1);
  assert.equal(counts.size, 62, 'all 52 letters and 10 digits occur');
  const expected = (n * length) / 62;
  // ±10 % is about seven standard deviations of a fair count here: a 25 % bias cannot hide in it.
  for (const [c, seen] of counts) {
    assert.ok(Math.abs(seen - expected) < expected * 0.1, `character ${c} occurred ${seen} times, expected about ${Math.round(expected)}`);
  }
});
