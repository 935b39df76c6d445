import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, SikkerKeyError, isErrorCode } from '../../protocol/errors.js';
const codes = Object.keys(ERROR_CODES);
test('the registry holds stable SK_ERR_ codes, each with an HTTP status and a description', () => {
    console.log(`error codes: ${codes.length}`);
    assert.ok(codes.length >= 40, `only ${codes.length} codes`);
    for (const code of codes) {
        assert.match(code, /^SK_ERR_[A-Z0-9_]+$/);
        const entry = ERROR_CODES[code];
        assert.ok(entry.status >= 400 && entry.status < 600, `${code} has status ${entry.status}`);
        assert.ok(entry.what.length > 10, `${code} needs a description`);
    }
});
test('a SikkerKeyError carries its code, status and a wire body', () => {
    const err = new SikkerKeyError('SK_ERR_PROJECT_LOCKED', 'project locked', { details: { project: 'p' } });
    assert.equal(err.statusCode, 423);
    assert.deepEqual(err.toBody(), { error: { code: 'SK_ERR_PROJECT_LOCKED', message: 'project locked', project: 'p' } });
    assert.equal(isErrorCode('SK_ERR_PROJECT_LOCKED'), true);
    assert.equal(isErrorCode('SK_ERR_NOPE'), false);
});
test('every SK_ERR_ code used anywhere in the source is in the registry', () => {
    const sourceDirs = ['protocol', 'vault-server', 'agent', 'providers'];
    const used = new Set();
    const walk = (dir) => readdirSync(dir).flatMap((n) => {
        const p = join(dir, n);
        return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
    });
    for (const dir of sourceDirs) {
        for (const file of walk(dir)) {
            for (const m of readFileSync(file, 'utf8').matchAll(/SK_ERR_[A-Z0-9_]+/g))
                used.add(m[0]);
        }
    }
    const unknown = [...used].filter((c) => !isErrorCode(c));
    assert.deepEqual(unknown, [], `codes used but not registered: ${unknown.join(', ')}`);
});
//# sourceMappingURL=errors.test.js.map