/**
 * The one conformance suite every provider passes against a real server (Kysely runs one spec
 * over every dialect; Vault's dbplugin tests run against a real PG_URL). An engine's test file
 * describes how to make users on its server and calls `runConformance(target)`; the cases are
 * the same for all engines.
 *
 * Every provider is used through `withSanitizer`, and every error a case provokes is checked
 * for the passwords that case used — in the message, the stack, the details and every cause.
 *
 * @example
 *   // test/providers/redis-conformance.test.ts
 *   runConformance({
 *     engine: 'redis',
 *     flavour: 'redis',             // its row in protocol/engines.ts: strategies and operations follow
 *     hostileUsernames: [`we"ird';DROP_${tag}`],
 *     setup: async ({ username, password }) => { … create the user …; return { admin, target, cleanup } },
 *     setupUnprivilegedAdmin: async () => { … },
 *   });
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { SikkerKeyError } from '../protocol/errors.js';
import { FLAVOURS, operationsOf } from '../protocol/engines.js';
import { errorChain } from './provider-errors.js';
import { loadProvider } from './registry.js';
import { withSanitizer } from './sanitize.js';
const tag = () => randomBytes(4).toString('hex');
/** A fresh, distinctive password (tests are not the vault: they may build passwords directly). */
const newPassword = () => `sk-${randomBytes(15).toString('base64url')}`;
function required(op, name) {
    assert.ok(op !== undefined, `the provider lacks ${name}`);
    return op;
}
/** Quotes, backslashes, dollar quoting, statement breakers, spaces, unicode, length: each one distinctive. */
export function hostilePasswords() {
    return [
        `q'uo"te''s"-${tag()}`,
        `back\\slash\\\\-${tag()}\\`,
        `$$dollar$$-$1-${tag()}`,
        `semi;colon'; DROP ROLE x; --${tag()}`,
        `  spaced out ${tag()}  `,
        `pässwörd-日本語-€-${tag()}`,
        `%27%22+&=?#/@:${tag()}`,
        `L${'0123456789'.repeat(8)}-${tag()}`,
        `'"\\$$; ü ${'x'.repeat(64)}-${tag()}`,
    ];
}
/** Registers the conformance cases for one engine with node:test. */
export function runConformance(target) {
    const timeout = target.timeoutMs ?? 60_000;
    const make = async () => withSanitizer(await (target.createProvider?.() ?? loadProvider(target.engine)));
    const makeRaw = async () => target.createProvider?.() ?? loadProvider(target.engine);
    /** A fresh user and an initialized provider for it; both cleaned up whatever happens. */
    const withUser = async (run, opts = {}) => {
        const username = opts.username ?? `sk_t_${tag()}`;
        const password = opts.password ?? newPassword();
        const user = await target.setup({ username, password });
        const provider = opts.raw === true ? await makeRaw() : await make();
        try {
            await provider.initialize({ admin: user.admin, target: user.target });
            await run({ provider, user, username, password });
        }
        finally {
            await provider.close();
            await user.cleanup();
        }
    };
    const row = FLAVOURS[target.flavour];
    const strategies = row.strategies;
    const retarget = (secret, which, to) => target.retarget?.(secret, which, to) ?? { ...secret, ...to };
    const withoutTls = (secret, which) => {
        const plain = target.serverWithoutTls?.();
        return plain === undefined ? { ...secret, tls: 'require' } : retarget(secret, which, plain);
    };
    describe(`${target.engine} provider conformance`, { timeout }, () => {
        test('initialize connects as the admin and reports the server version; close can be called twice', async () => {
            await withUser(async ({ provider }) => {
                const user2 = await target.setup({ username: `sk_t_${tag()}`, password: newPassword() });
                const again = await make();
                try {
                    const res = await again.initialize({ admin: user2.admin, target: user2.target });
                    assert.match(res.serverVersion, /\d+\.\d+/, `serverVersion ${JSON.stringify(res.serverVersion)} names no version`);
                    assert.equal(res.flavour, target.flavour, `initialize reported flavour ${res.flavour}`);
                    await again.close();
                    await again.close();
                }
                finally {
                    await again.close();
                    await user2.cleanup();
                }
                assert.equal(provider.engine, target.engine);
            });
        });
        test(`implements the password operations of its engine table row (${operationsOf(target.flavour).join(', ')})`, async () => {
            const provider = await make();
            assert.equal(row.engine, target.engine, `flavour ${target.flavour} belongs to provider ${row.engine}`);
            for (const op of operationsOf(target.flavour)) {
                assert.equal(typeof provider[op], 'function', `the ${target.engine} provider lacks ${op}, which ${row.label} needs`);
                assert.ok(provider.operations.includes(op), `the ${target.engine} provider does not declare ${op}`);
            }
            await provider.close();
        });
        if (strategies.includes('single')) {
            test('single: the new password logs in and the old one is refused', async (t) => {
                await withUser(async ({ provider, username, password }) => {
                    const used = [password];
                    let current = password;
                    const timings = [];
                    for (let round = 0; round < 5; round++) {
                        const next = newPassword();
                        used.push(next);
                        const started = performance.now();
                        await provider.setPassword({ username, password: next });
                        const verified = await provider.verify({ username, password: next });
                        timings.push(performance.now() - started);
                        assert.match(verified.serverVersion, /\d+\.\d+/);
                        await expectCode(provider.verify({ username, password: current }), 'SK_ERR_PROVIDER_AUTH_FAILED', used, 'the replaced password');
                        current = next;
                    }
                    timings.sort((a, b) => a - b);
                    t.diagnostic(`${target.engine} update+verify: median ${timings[2]?.toFixed(1)} ms, min ${timings[0]?.toFixed(1)} ms, max ${timings[4]?.toFixed(1)} ms (5 rounds)`);
                });
            });
            test('single: applying the same update twice leaves the new password working (idempotent)', async () => {
                await withUser(async ({ provider, username, password }) => {
                    const next = newPassword();
                    await provider.setPassword({ username, password: next });
                    await provider.setPassword({ username, password: next });
                    await provider.verify({ username, password: next });
                    await expectCode(provider.verify({ username, password }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password, next], 'the old password after two updates');
                });
            });
        }
        if (strategies.includes('alternating')) {
            test('alternating: the standby user gets the new password and the live user keeps working', async () => {
                await withUser(async ({ provider, username: live, password: livePassword }) => {
                    const standby = `sk_t_${tag()}`;
                    const standbyOld = newPassword();
                    const standbyUser = await target.setup({ username: standby, password: standbyOld });
                    try {
                        const next = newPassword();
                        await provider.setPassword({ username: standby, password: next });
                        await provider.verify({ username: standby, password: next });
                        await provider.verify({ username: live, password: livePassword });
                        await expectCode(provider.verify({ username: standby, password: standbyOld }), 'SK_ERR_PROVIDER_AUTH_FAILED', [livePassword, standbyOld, next], "the standby's old password");
                    }
                    finally {
                        await standbyUser.cleanup();
                    }
                });
            });
        }
        if (row.slots === 'set') {
            test('a password set: added beside the current one, removed one by one, each step idempotent', async () => {
                await withUser(async ({ provider, username, password: old }) => {
                    const add = required(provider.addPassword, 'addPassword').bind(provider);
                    const remove = required(provider.removePassword, 'removePassword').bind(provider);
                    const next = newPassword();
                    await add({ username, password: next });
                    await add({ username, password: next });
                    await provider.verify({ username, password: next });
                    await provider.verify({ username, password: old });
                    await remove({ username, password: old });
                    await remove({ username, password: old });
                    await provider.verify({ username, password: next });
                    await expectCode(provider.verify({ username, password: old }), 'SK_ERR_PROVIDER_AUTH_FAILED', [old, next], 'the removed password');
                    // undoing an add removes exactly the added password
                    const third = newPassword();
                    await add({ username, password: third });
                    await remove({ username, password: third });
                    await provider.verify({ username, password: next });
                    await expectCode(provider.verify({ username, password: third }), 'SK_ERR_PROVIDER_AUTH_FAILED', [next, third], 'the undone password');
                });
            });
        }
        if (row.slots === 'primary+retained') {
            test('primary + retained: RETAIN keeps the old one, discard removes it, and the undo order keeps live working', async () => {
                await withUser(async ({ provider, username, password: old }) => {
                    const add = required(provider.addPassword, 'addPassword').bind(provider);
                    const discard = required(provider.discardRetained, 'discardRetained').bind(provider);
                    const next = newPassword();
                    await add({ username, password: next });
                    await add({ username, password: next });
                    await provider.verify({ username, password: next });
                    await provider.verify({ username, password: old });
                    await discard({ username });
                    await discard({ username });
                    await provider.verify({ username, password: next });
                    await expectCode(provider.verify({ username, password: old }), 'SK_ERR_PROVIDER_AUTH_FAILED', [old, next], 'the discarded password');
                    // the agent's undo of a dual apply: primary back to live without RETAIN, then discard
                    const pending = newPassword();
                    await add({ username, password: pending });
                    await provider.setPassword({ username, password: next });
                    await provider.verify({ username, password: next }); // primary, and still the retained one
                    await discard({ username });
                    await provider.verify({ username, password: next });
                    await expectCode(provider.verify({ username, password: pending }), 'SK_ERR_PROVIDER_AUTH_FAILED', [next, pending], 'the undone password');
                });
            });
        }
        if (!strategies.includes('dual')) {
            test(`${row.label} keeps one password: adding a second is absent or refused with SK_ERR_ROTATION_STRATEGY_UNSUPPORTED and changes nothing`, async () => {
                await withUser(async ({ provider, username, password }) => {
                    const next = newPassword();
                    if (provider.addPassword !== undefined) {
                        await expectCode(provider.addPassword({ username, password: next }), 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', [password, next], 'addPassword');
                    }
                    if (provider.discardRetained !== undefined) {
                        await expectCode(provider.discardRetained({ username }), 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', [password], 'discardRetained');
                    }
                    assert.equal(provider.removePassword, undefined, 'a one-password engine has no removePassword');
                    await provider.verify({ username, password });
                    await expectCode(provider.verify({ username, password: next }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password, next], 'the refused password');
                });
            });
        }
        test('a wrong admin password is refused with SK_ERR_PROVIDER_AUTH_FAILED', async () => {
            const username = `sk_t_${tag()}`;
            const password = newPassword();
            const user = await target.setup({ username, password });
            const provider = await make();
            const wrong = newPassword();
            try {
                const err = await expectCode(provider.initialize({ admin: { ...user.admin, password: wrong }, target: user.target }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password, wrong, user.admin['password'] ?? ''], 'initialize with a wrong admin password');
                const adminName = user.admin['username'];
                if (adminName !== undefined)
                    assert.ok(err.message.includes(adminName), `the message does not name the admin: ${err.message}`);
            }
            finally {
                await provider.close();
                await user.cleanup();
            }
        });
        test('after initialize failed on a wrong admin password, verification still proves the live credential (and refuses a wrong one)', async () => {
            const username = `sk_t_${tag()}`;
            const password = newPassword();
            const user = await target.setup({ username, password });
            const provider = await make();
            const wrongAdmin = newPassword();
            const wrongUser = newPassword();
            const secrets = [password, wrongAdmin, wrongUser, user.admin['password'] ?? ''];
            try {
                await expectCode(provider.initialize({ admin: { ...user.admin, password: wrongAdmin }, target: user.target }), 'SK_ERR_PROVIDER_AUTH_FAILED', secrets, 'initialize with a wrong admin password');
                const verified = await provider.verify({ username, password });
                assert.match(verified.serverVersion, /\d+\.\d+/, `serverVersion ${JSON.stringify(verified.serverVersion)} names no version`);
                await expectCode(provider.verify({ username, password: wrongUser }), 'SK_ERR_PROVIDER_AUTH_FAILED', secrets, 'a wrong password after the failed admin login');
                // nothing can change without the admin: the update is refused and the password stays
                const next = newPassword();
                await assert.rejects(provider.setPassword({ username, password: next }), 'an update without an admin connection succeeded');
                await provider.verify({ username, password });
            }
            finally {
                await provider.close();
                await user.cleanup();
            }
        });
        test('an unreachable port fails with SK_ERR_PROVIDER_CONNECT, for the admin and for verification', async () => {
            await withUser(async ({ user, username, password }) => {
                const closed = String(await closedPort());
                const secrets = [password, user.admin['password'] ?? ''];
                const p1 = await make();
                try {
                    await expectCode(p1.initialize({ admin: retarget(user.admin, 'admin', { host: '127.0.0.1', port: closed }), target: user.target }), 'SK_ERR_PROVIDER_CONNECT', secrets, 'admin on a closed port');
                }
                finally {
                    await p1.close();
                }
                const p2 = await make();
                try {
                    await p2.initialize({ admin: user.admin, target: retarget(user.target, 'target', { host: '127.0.0.1', port: closed }) });
                    await expectCode(p2.verify({ username, password }), 'SK_ERR_PROVIDER_CONNECT', secrets, 'verification on a closed port');
                }
                finally {
                    await p2.close();
                }
            });
        });
        test('TLS required against a server without TLS fails with SK_ERR_PROVIDER_TLS', async () => {
            await withUser(async ({ user, username, password }) => {
                const secrets = [password, user.admin['password'] ?? ''];
                const p1 = await make();
                try {
                    await expectCode(p1.initialize({ admin: withoutTls(user.admin, 'admin'), target: user.target }), 'SK_ERR_PROVIDER_TLS', secrets, 'admin with tls require');
                }
                finally {
                    await p1.close();
                }
                const p2 = await make();
                try {
                    await p2.initialize({ admin: user.admin, target: withoutTls(user.target, 'target') });
                    await expectCode(p2.verify({ username, password }), 'SK_ERR_PROVIDER_TLS', secrets, 'verification with tls require');
                }
                finally {
                    await p2.close();
                }
            });
        });
        test('hostile user names rotate and log in, and their old password is refused', async () => {
            assert.ok(target.hostileUsernames.length > 0, 'the target lists no hostile user names');
            const passwords = hostilePasswords();
            for (const [i, username] of target.hostileUsernames.entries()) {
                await withUser(async ({ provider, password }) => {
                    const next = passwords[i % passwords.length] ?? newPassword();
                    await provider.setPassword({ username, password: next });
                    await provider.verify({ username, password: next });
                    await expectCode(provider.verify({ username, password }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password, next], `hostile name #${i}`);
                }, { username });
            }
        });
        test('hostile passwords rotate and log in, and each previous one is refused', async () => {
            await withUser(async ({ provider, username, password }) => {
                const all = [...hostilePasswords(), ...(target.extraHostilePasswords ?? [])];
                let previous = password;
                for (const [i, next] of all.entries()) {
                    await provider.setPassword({ username, password: next });
                    await provider.verify({ username, password: next });
                    await expectCode(provider.verify({ username, password: previous }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password, ...all], `the password before hostile password #${i}`);
                    previous = next;
                }
            });
        });
        test('a user that does not exist fails with SK_ERR_PROVIDER_USER_NOT_FOUND and is not created', async () => {
            await withUser(async ({ provider, password }) => {
                const ghost = `sk_t_ghost_${tag()}`;
                const next = newPassword();
                try {
                    await expectCode(provider.setPassword({ username: ghost, password: next }), 'SK_ERR_PROVIDER_USER_NOT_FOUND', [password, next], 'a missing user');
                    await expectCode(provider.verify({ username: ghost, password: next }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password, next], 'a login as the missing user');
                }
                finally {
                    // a provider that wrongly created the user must not leave it on a shared server
                    await (await target.setup({ username: ghost, password: newPassword() }).catch(() => undefined))?.cleanup();
                }
            });
        });
        test('an empty or non-string user name or password is refused with SK_ERR_PROVIDER_CONFIG, and nothing changes', async () => {
            await withUser(async ({ provider, username, password }) => {
                const bad = [
                    ['an empty password', username, ''],
                    ['an empty user name', '', newPassword()],
                    ['a password that is not a string', username, { toSqlString: () => 'x' }],
                    ['a missing password', username, undefined],
                ];
                for (const [what, u, p] of bad) {
                    const req = { username: u, password: p };
                    await expectCode(provider.setPassword(req), 'SK_ERR_PROVIDER_CONFIG', [password], what);
                }
                await provider.verify({ username, password });
            });
        });
        test('preflight passes on a proper setup and changes no password', async () => {
            await withUser(async ({ provider, username, password }) => {
                assert.ok(provider.preflight !== undefined, 'the provider has no preflight');
                for (const strategy of strategies) {
                    const res = await provider.preflight({ usernames: [username], strategy });
                    assert.deepEqual(res, { ok: true, problems: [] }, `preflight for ${strategy}`);
                }
                await provider.verify({ username, password });
            });
        });
        test('preflight names a user that does not exist', async () => {
            await withUser(async ({ provider, username }) => {
                assert.ok(provider.preflight !== undefined, 'the provider has no preflight');
                const ghost = `sk_t_ghost_${tag()}`;
                const res = await provider.preflight({ usernames: [username, ghost], strategy: 'single' });
                assert.equal(res.ok, false);
                assert.ok(res.problems.some((p) => p.includes(ghost)), `no problem names the missing user: ${res.problems.join(' | ')}`);
                assert.ok(!res.problems.some((p) => p.includes(username)), `a problem names the existing user: ${res.problems.join(' | ')}`);
            });
        });
        test('an admin lacking the privilege gets a preflight problem naming it, SK_ERR_PROVIDER_PRIVILEGE on update, and nothing changes', async () => {
            await withUser(async ({ user, username, password }) => {
                const weak = await target.setupUnprivilegedAdmin();
                const provider = await make();
                try {
                    await provider.initialize({ admin: weak.admin, target: user.target });
                    assert.ok(provider.preflight !== undefined, 'the provider has no preflight');
                    const res = await provider.preflight({ usernames: [username], strategy: 'single' });
                    const weakName = weak.admin['username'] ?? '';
                    assert.equal(res.ok, false, 'preflight passed for an admin without the privilege');
                    assert.ok(res.problems.some((p) => p.includes(weakName)), `no problem names the admin ${weakName}: ${res.problems.join(' | ')}`);
                    const next = newPassword();
                    await expectCode(provider.setPassword({ username, password: next }), 'SK_ERR_PROVIDER_PRIVILEGE', [password, next, weak.admin['password'] ?? ''], 'update by an unprivileged admin');
                    await provider.verify({ username, password });
                }
                finally {
                    await provider.close();
                    await weak.cleanup();
                }
            });
        });
        test('errors carry no password even without the sanitizer', async () => {
            await withUser(async ({ provider, user, username, password }) => {
                const next = newPassword();
                await provider.setPassword({ username, password: next });
                const secrets = [password, next, user.admin['password'] ?? ''];
                await expectCode(provider.verify({ username, password }), 'SK_ERR_PROVIDER_AUTH_FAILED', secrets, 'raw: the old password');
                await expectCode(provider.setPassword({ username: `sk_t_ghost_${tag()}`, password: next }), 'SK_ERR_PROVIDER_USER_NOT_FOUND', secrets, 'raw: a missing user');
                const raw = await makeRaw();
                try {
                    await expectCode(raw.initialize({ admin: { ...user.admin, password: next }, target: user.target }), 'SK_ERR_PROVIDER_AUTH_FAILED', secrets, 'raw: a wrong admin password');
                }
                finally {
                    await raw.close();
                }
            }, { raw: true });
        });
        test('secretValues lists every password the provider was handed', async () => {
            await withUser(async ({ provider, user, username, password }) => {
                const next = newPassword();
                await provider.setPassword({ username, password: next });
                await provider.verify({ username, password: next });
                const values = provider.secretValues();
                for (const [name, value] of [['admin', user.admin['password']], ['target', password], ['new', next]]) {
                    if (value !== undefined && value !== '')
                        assert.ok(values.includes(value), `secretValues() lacks the ${name} password`);
                }
            }, { raw: true });
        });
    });
}
/** Asserts the promise rejects with a SikkerKeyError of `code` that shows none of `secrets`. */
export async function expectCode(promise, code, secrets, what) {
    let thrown;
    let resolved = false;
    try {
        await promise;
        resolved = true;
    }
    catch (err) {
        thrown = err;
    }
    assert.ok(!resolved, `${what}: expected ${code}, but it succeeded`);
    assert.ok(thrown instanceof SikkerKeyError, `${what}: expected a SikkerKeyError, got ${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)}`);
    assert.equal(thrown.code, code, `${what}: expected ${code}, got ${thrown.code}: ${thrown.message}`);
    assertNoSecrets(thrown, secrets, what);
    return thrown;
}
/** Asserts no secret appears in the error's message, stack, details, or any cause's fields. */
export function assertNoSecrets(err, secrets, what) {
    const texts = [];
    for (const e of errorChain(err)) {
        if (e instanceof Error)
            texts.push(e.message, e.stack ?? '');
        if (typeof e === 'object' && e !== null) {
            for (const value of Object.values(e))
                texts.push(typeof value === 'string' ? value : safeJson(value));
        }
        else {
            texts.push(String(e));
        }
    }
    for (const [i, secret] of secrets.entries()) {
        if (secret === '')
            continue;
        // the assertion message names the secret's index, never the secret
        assert.ok(!texts.some((t) => t.includes(secret)), `${what}: password #${i} of this case appears in the error or its causes`);
    }
}
function safeJson(value) {
    try {
        return JSON.stringify(value) ?? '';
    }
    catch {
        return '';
    }
}
/** A port that was free a moment ago: nothing should answer there. */
function closedPort() {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            const port = typeof address === 'object' && address !== null ? address.port : 0;
            server.close(() => resolve(port));
        });
    });
}
//# sourceMappingURL=conformance.js.map