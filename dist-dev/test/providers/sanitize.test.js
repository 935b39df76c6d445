import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SikkerKeyError } from '../../protocol/errors.js';
import { assertNoSecrets } from '../../providers/conformance.js';
import { REDACTED, redact, withSanitizer } from '../../providers/sanitize.js';
const ADMIN_PW = 'admin-pw-7f3a9c';
const LIVE_PW = 'live-pw-2b8d1e';
const NEW_PW = "new-pw-'q\"\\-5e6f";
/** A provider that fails every call with the given error and lists only the admin password. */
function failing(makeError, opts = {}) {
    const provider = {
        engine: 'redis',
        operations: opts.optional === false ? ['setPassword'] : ['setPassword', 'addPassword', 'removePassword'],
        initialize: async () => {
            throw makeError(ADMIN_PW);
        },
        setPassword: async (req) => {
            throw makeError(req.password);
        },
        verify: async (req) => {
            throw makeError(req.password);
        },
        preflight: async () => ({ ok: false, problems: [`admin password ${ADMIN_PW} is visible`] }),
        close: async () => undefined,
        // deliberately incomplete: the wrapper must also redact what it saw go in
        secretValues: () => [ADMIN_PW],
    };
    if (opts.optional !== false) {
        provider.addPassword = async (req) => {
            throw makeError(req.password);
        };
        provider.removePassword = async (req) => {
            throw makeError(req.password);
        };
    }
    return provider;
}
const admin = { host: 'db', username: 'sk_admin', password: ADMIN_PW };
const target = { host: 'db', username: 'app', password: LIVE_PW };
describe('withSanitizer', () => {
    test('redacts every password from a SikkerKeyError and keeps its code, details redacted too', async () => {
        const p = withSanitizer(failing((pw) => new SikkerKeyError('SK_ERR_PROVIDER_AUTH_FAILED', `refused ${pw} and ${ADMIN_PW}`, { details: { tried: [pw], nested: { live: LIVE_PW } } })));
        await p.initialize({ admin, target }).catch(() => undefined);
        const err = await p.setPassword({ username: 'app', password: NEW_PW }).catch((e) => e);
        assert.ok(err instanceof SikkerKeyError);
        assert.equal(err.code, 'SK_ERR_PROVIDER_AUTH_FAILED');
        assert.equal(err.message, `refused ${REDACTED} and ${REDACTED}`);
        assert.deepEqual(err.details, { tried: [REDACTED], nested: { live: REDACTED } });
        assertNoSecrets(err, [ADMIN_PW, LIVE_PW, NEW_PW], 'update');
    });
    test('wraps any other error in SK_ERR_PROVIDER_FAILED, redacting its message, stack and causes', async () => {
        const p = withSanitizer(failing((pw) => {
            const inner = Object.assign(new Error(`driver saw ${pw}`), { code: 'XX000', sql: `ALTER USER x IDENTIFIED BY '${pw}'` });
            return new Error(`outer ${pw}`, { cause: inner });
        }));
        const err = await p.verify({ username: 'app', password: NEW_PW }).catch((e) => e);
        assert.ok(err instanceof SikkerKeyError);
        assert.equal(err.code, 'SK_ERR_PROVIDER_FAILED');
        assert.ok(err.message.includes(REDACTED), err.message);
        const cause = err.cause;
        assert.ok(cause instanceof Error);
        assert.equal(cause.cause?.code, 'XX000', 'harmless fields survive');
        assert.equal(cause.cause?.sql, undefined, 'the statement (with the password in it) is dropped');
        assertNoSecrets(err, [NEW_PW, ADMIN_PW], 'verify');
    });
    test('catches escaped and encoded forms of a password too', () => {
        const out = redact(`a ${encodeURIComponent(NEW_PW)} b ${NEW_PW.replace(/'/g, "''")} c ${JSON.stringify(NEW_PW)}`, [NEW_PW]);
        assert.ok(!out.includes('new-pw'), out);
    });
    test('redacts added and removed passwords and preflight problems, and keeps optional operations optional', async () => {
        const p = withSanitizer(failing((pw) => new SikkerKeyError('SK_ERR_PROVIDER_FAILED', `bad ${pw}`)));
        assert.ok(p.addPassword !== undefined && p.removePassword !== undefined);
        const added = await p.addPassword({ username: 'app', password: NEW_PW }).catch((e) => e);
        assertNoSecrets(added, [NEW_PW], 'add');
        const removed = await p.removePassword({ username: 'app', password: LIVE_PW }).catch((e) => e);
        assertNoSecrets(removed, [LIVE_PW], 'remove');
        const res = await p.preflight({ usernames: ['app'], strategy: 'single' });
        assert.deepEqual(res.problems, [`admin password ${REDACTED} is visible`]);
        const bare = withSanitizer(failing(() => new Error('x'), { optional: false }));
        assert.equal(bare.addPassword, undefined);
        assert.equal(bare.removePassword, undefined);
        assert.equal(bare.discardRetained, undefined);
        assert.deepEqual(bare.operations, ['setPassword']);
    });
    test('secretValues of the wrapper includes what went in through it', async () => {
        const p = withSanitizer(failing(() => new Error('x')));
        await p.initialize({ admin, target }).catch(() => undefined);
        await p.setPassword({ username: 'app', password: NEW_PW }).catch(() => undefined);
        for (const v of [ADMIN_PW, LIVE_PW, NEW_PW])
            assert.ok(p.secretValues().includes(v));
    });
});
//# sourceMappingURL=sanitize.test.js.map