/**
 * Names for machines that enroll themselves, from a token's template, e.g. `ci-{hostname}-{rand4}`.
 *
 * Placeholders (the whole set; anything else in braces is refused when the token is created):
 * - `{hostname}` the hostname the host stated (advisory), cut to 63 characters
 * - `{rand4}`    four random characters [a-z0-9], new on every attempt
 * - `{n}`        the token's use count including this enrollment (1, 2, 3 …)
 * - `{date}`     the enrollment date, UTC, as YYYYMMDD
 * Literal text may use the characters of a machine name: letters, digits, `.`, `_`, `-`.
 *
 * The rendered name is sanitised to the machine-name pattern (other characters become `-`,
 * leading punctuation is dropped, at most 128 characters). When the name is taken, the vault
 * renders again (a new `{rand4}`), and a template without `{rand4}` gets `-{rand4}` appended.
 *
 * @example
 *   renderName('ci-{hostname}-{n}', { hostname: 'runner_7', n: 3, now: Date.now() }); // 'ci-runner_7-3'
 */
import { randomInt } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
export const NAME_PLACEHOLDERS = ['hostname', 'rand4', 'n', 'date'];
export const DEFAULT_NAME_TEMPLATE = '{hostname}-{rand4}';
const MAX_TEMPLATE = 100;
const RAND_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Throws SK_ERR_VALIDATION when the template uses an unknown placeholder or a character a name cannot hold. */
export function validateNameTemplate(template) {
    if (template.length === 0 || template.length > MAX_TEMPLATE) {
        throw new SikkerKeyError('SK_ERR_VALIDATION', `a name template is 1–${MAX_TEMPLATE} characters`);
    }
    const rest = template.replace(/\{([A-Za-z0-9]*)\}/g, (_m, name) => {
        if (!NAME_PLACEHOLDERS.includes(name)) {
            throw new SikkerKeyError('SK_ERR_VALIDATION', `unknown placeholder {${name}} in the name template (known: ${NAME_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`);
        }
        return 'x';
    });
    if (!/^[A-Za-z0-9._-]+$/.test(rest)) {
        throw new SikkerKeyError('SK_ERR_VALIDATION', 'a name template holds placeholders and the characters A-Z a-z 0-9 . _ - only');
    }
    return template;
}
function rand4() {
    let s = '';
    for (let i = 0; i < 4; i += 1)
        s += RAND_ALPHABET[randomInt(RAND_ALPHABET.length)];
    return s;
}
/** A name matching NAME_PATTERN (context.ts) from any text. */
export function sanitizeName(text) {
    const cleaned = text.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[._-]+/, '').slice(0, 128);
    return cleaned.length > 0 ? cleaned : `machine-${rand4()}`;
}
export function renderName(template, v) {
    const date = new Date(v.now).toISOString().slice(0, 10).replaceAll('-', '');
    const values = {
        hostname: () => v.hostname.slice(0, 63), rand4, n: () => String(v.n), date: () => date,
    };
    let out = template.replace(/\{([A-Za-z0-9]+)\}/g, (m, name) => values[name]?.() ?? m);
    // Keep the suffix when the name is cut to length: it is what makes a retry differ.
    const suffix = v.suffix ? `-${rand4()}` : '';
    out = sanitizeName(out).slice(0, 128 - suffix.length);
    return out + suffix;
}
/** Whether a retry after a name conflict gives a new name by itself. */
export const hasRandom = (template) => template.includes('{rand4}');
//# sourceMappingURL=enrollment-name-template.js.map