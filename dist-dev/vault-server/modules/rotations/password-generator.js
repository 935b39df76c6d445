import { randomInt } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
export const DEFAULT_PASSWORD_POLICY = Object.freeze({ length: 32, symbols: true });
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const SYMBOLS = '-_.~';
export function parsePasswordPolicy(raw) {
    if (raw === null || raw === undefined)
        return DEFAULT_PASSWORD_POLICY;
    const p = (typeof raw === 'string' ? JSON.parse(raw) : raw);
    const length = p.length ?? DEFAULT_PASSWORD_POLICY.length;
    if (!Number.isInteger(length) || length < 16 || length > 128) {
        throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', `--password-length must be 16–128 (got ${String(length)})`);
    }
    return { length, symbols: p.symbols ?? DEFAULT_PASSWORD_POLICY.symbols };
}
/** A CSPRNG password with at least one letter and one digit (some engines' validators insist). */
export function generatePassword(policy = DEFAULT_PASSWORD_POLICY) {
    const alphabet = LETTERS + DIGITS + (policy.symbols ? SYMBOLS : '');
    for (;;) {
        let out = '';
        for (let i = 0; i < policy.length; i++)
            out += alphabet[randomInt(alphabet.length)];
        if (/[A-Za-z]/.test(out) && /[0-9]/.test(out))
            return out;
    }
}
//# sourceMappingURL=password-generator.js.map