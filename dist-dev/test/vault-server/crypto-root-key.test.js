import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { generateRootKey, loadRootKey, parseRootKey } from '../../vault-server/crypto/root-key.js';
function rejectsWith(code, check) {
    return (err) => {
        assert.ok(isSikkerKeyError(err, code), `expected ${code}, got ${String(err)}`);
        check?.(err.message);
        return true;
    };
}
test('generates distinct 32-byte root keys that parse back from their base64 text', () => {
    const a = generateRootKey();
    const b = generateRootKey();
    assert.equal(a.length, 32);
    assert.notDeepEqual(a, b);
    assert.deepEqual(parseRootKey(a.toString('base64')), a);
    assert.deepEqual(parseRootKey(`  ${a.toString('base64')}\n`), a, 'surrounding whitespace and the newline of a file are ignored');
    assert.deepEqual(parseRootKey(a.toString('base64').replace(/=+$/, '')), a, 'padding may be left out');
});
test('refuses text that is not base64 of exactly 32 bytes, without repeating the text', () => {
    const key = generateRootKey();
    const candidates = [
        '',
        '   \n',
        key.subarray(0, 31).toString('base64'),
        Buffer.concat([key, Buffer.from([1])]).toString('base64'),
        key.toString('hex'),
        `${key.toString('base64').slice(0, 20)}!${key.toString('base64').slice(21)}`,
        key.toString('base64url').replace(/[A-Za-z0-9]/, '-'),
        `${key.toString('base64')} ${key.toString('base64')}`,
    ];
    for (const text of candidates) {
        assert.throws(() => parseRootKey(text), rejectsWith('SK_ERR_ROOT_KEY_INVALID', (message) => {
            if (text.trim() !== '')
                assert.ok(!message.includes(text.trim()), 'the message repeats the input');
            assert.ok(!message.includes(key.toString('base64').slice(0, 12)), 'the message holds part of the key');
        }), JSON.stringify(text.length));
    }
});
test('takes the key from a file first, then stdin, then SIKKERKEY_ROOT_KEY', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-root-key-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const [fromFile, fromStdin, fromEnv] = [generateRootKey(), generateRootKey(), generateRootKey()];
    const file = join(dir, 'root.key');
    await writeFile(file, `${fromFile.toString('base64')}\n`, { mode: 0o600 });
    const env = { SIKKERKEY_ROOT_KEY: fromEnv.toString('base64') };
    const stdinOf = (key) => Readable.from([Buffer.from(key.toString('base64').slice(0, 10)), Buffer.from(`${key.toString('base64').slice(10)}\n`)]);
    assert.deepEqual(await loadRootKey({ file, stdin: true, env, input: stdinOf(fromStdin) }), fromFile);
    assert.deepEqual(await loadRootKey({ stdin: true, env, input: stdinOf(fromStdin) }), fromStdin);
    assert.deepEqual(await loadRootKey({ env }), fromEnv);
});
test('without any source it says how to supply the key: --root-key-file, --root-key-stdin, SIKKERKEY_ROOT_KEY', async () => {
    for (const env of [{}, { SIKKERKEY_ROOT_KEY: '' }, { SIKKERKEY_ROOT_KEY: '  ' }]) {
        await assert.rejects(loadRootKey({ env }), rejectsWith('SK_ERR_ROOT_KEY_MISSING', (message) => {
            assert.match(message, /--root-key-file FILE/);
            assert.match(message, /--root-key-stdin/);
            assert.match(message, /SIKKERKEY_ROOT_KEY/);
        }));
    }
});
test('a missing file, a file that is not a key and oversized input are refused without their content', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-root-key-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const missing = join(dir, 'absent.key');
    await assert.rejects(loadRootKey({ file: missing, env: {} }), rejectsWith('SK_ERR_ROOT_KEY_MISSING', (message) => {
        assert.ok(message.includes(missing), 'names the file');
        assert.match(message, /ENOENT/);
    }));
    const wrong = join(dir, 'wrong.key');
    const content = 'not-a-root-key-but-a-password-like-text';
    await writeFile(wrong, content);
    await assert.rejects(loadRootKey({ file: wrong, env: {} }), rejectsWith('SK_ERR_ROOT_KEY_INVALID', (message) => assert.ok(!message.includes(content))));
    const huge = join(dir, 'huge.key');
    await writeFile(huge, 'A'.repeat(100_000));
    const notQuoted = (message) => assert.ok(!message.includes('A'.repeat(64)), 'the input is not quoted');
    await assert.rejects(loadRootKey({ file: huge, env: {} }), rejectsWith('SK_ERR_ROOT_KEY_INVALID', notQuoted));
    await assert.rejects(loadRootKey({ stdin: true, env: {}, input: Readable.from([Buffer.alloc(10_000, 65)]) }), rejectsWith('SK_ERR_ROOT_KEY_INVALID', notQuoted));
    // An environment variable that is set but not a key is refused, not skipped.
    await assert.rejects(loadRootKey({ env: { SIKKERKEY_ROOT_KEY: content } }), rejectsWith('SK_ERR_ROOT_KEY_INVALID', (message) => assert.ok(!message.includes(content))));
});
//# sourceMappingURL=crypto-root-key.test.js.map