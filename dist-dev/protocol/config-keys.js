/**
 * "Did you mean" for configuration keys, shared by the agent's and the vault's config loaders:
 * an unknown key is rejected with the nearest valid name (Levenshtein distance, case-insensitive),
 * so a typo or a renamed option fails loudly with the name to use.
 *
 * @example
 *   nearest('tls.clinetCa', ['tls.cert', 'tls.key', 'tls.clientCa']) // 'tls.clientCa'
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SikkerKeyError } from './errors.js';
/** Levenshtein distance, ignoring case. */
export function editDistance(a, b) {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++)
        d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const row = d[i];
            const prev = d[i - 1];
            row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
        }
    }
    return d[a.length][b.length];
}
/** The valid name closest to `key` (the first of equally close ones, in `valid`'s order). */
export function nearest(key, valid) {
    return [...valid].sort((x, y) => editDistance(key, x) - editDistance(key, y))[0] ?? '';
}
/**
 * Reads a configuration file: `.json` as JSON, anything else as YAML (which also reads JSON).
 * An empty file is an empty object; anything but an object of settings is SK_ERR_CONFIG.
 */
export function readConfigFile(file) {
    const fail = (message) => { throw new SikkerKeyError('SK_ERR_CONFIG', message); };
    let text = '';
    try {
        text = readFileSync(file, 'utf8');
    }
    catch (err) {
        fail(`cannot read the config file ${file}: ${err.code ?? 'error'}`);
    }
    let parsed;
    const json = file.endsWith('.json');
    try {
        parsed = json ? JSON.parse(text) : parseYaml(text);
    }
    catch (err) {
        fail(`${file} is not valid ${json ? 'JSON' : 'YAML'}: ${err instanceof Error ? (err.message.split('\n')[0] ?? '') : ''}`);
    }
    if (parsed === null || parsed === undefined)
        return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed))
        fail(`${file} must hold an object of settings`);
    return parsed;
}
//# sourceMappingURL=config-keys.js.map