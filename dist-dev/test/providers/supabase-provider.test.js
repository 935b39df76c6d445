// The Supabase preset beyond the conformance suite, through the fake Supabase pooler (a test double
// for Supavisor) in front of the password-enforcing scram cluster (TLS on): the pooler user name,
// the TLS requirement, the pooler's credential cache (ridden out, or named), and the direct fallback.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { expectCode } from '../../providers/conformance.js';
import { supabaseProvider } from '../../providers/postgres/index.js';
import { loadProvider } from '../../providers/registry.js';
import { withSanitizer } from '../../providers/sanitize.js';
import { FakeSupabasePooler } from '../support/fake-supabase-pooler.js';
import { scramCluster } from '../support/pg-scram-cluster.js';
import { makeLocalhostCert, randomTag } from '../support/services.js';
const REF = `ref${randomTag(6)}`;
const adminName = `sk_t_adm_${randomTag()}`;
const adminPassword = `adm-${randomTag(12)}`;
let cluster;
let root;
let pooler;
let certDir;
let cert;
const created = [];
before(async () => {
    cluster = await scramCluster({ tls: true });
    root = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
    await root.connect();
    await root.query(`CREATE ROLE ${pg.escapeIdentifier(adminName)} LOGIN CREATEROLE PASSWORD ${pg.escapeLiteral(adminPassword)}`);
    created.push(adminName);
    certDir = mkdtempSync(join(tmpdir(), 'sk-supabase-'));
    cert = makeLocalhostCert(certDir);
    pooler = await FakeSupabasePooler.start({
        upstream: cluster, projectRef: REF, tls: cert, superuser: { user: cluster.adminUser, password: cluster.adminPassword },
    });
});
after(async () => {
    await pooler?.stop();
    for (const name of created.reverse())
        await root?.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(name)}`).catch(() => undefined);
    await root?.end();
    await cluster?.stop();
    if (certDir !== undefined)
        rmSync(certDir, { recursive: true, force: true });
});
async function role() {
    const name = `sk_t_${randomTag()}`;
    const password = `pw-${randomTag(12)}`;
    created.push(name);
    await root.query(`CREATE ROLE ${pg.escapeIdentifier(name)} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
    return { name, password };
}
const admin = () => ({ host: cluster.host, port: String(cluster.port), database: 'postgres', username: adminName, password: adminPassword, tls: 'require' });
const target = (name, password, extra = {}) => ({
    host: cluster.host, port: String(cluster.port), database: 'postgres', username: name, password, tls: 'require',
    poolerHost: pooler.host, poolerPort: String(pooler.port), projectRef: REF, ...extra,
});
async function withProvider(t, run, opts = {}) {
    const provider = withSanitizer(supabaseProvider(opts));
    try {
        await provider.initialize({ admin: admin(), target: t });
        await run(provider);
    }
    finally {
        await provider.close();
    }
}
/** A login through the pooler with the given user name, outside the provider: the SQLSTATE it ends with, or 'ok'. */
async function poolerLogin(user, password, ssl) {
    const c = new pg.Client({ host: pooler.host, port: pooler.port, user, password, database: 'postgres', ssl: ssl ? { rejectUnauthorized: false } : false, connectionTimeoutMillis: 5000 });
    c.on('error', () => undefined);
    try {
        await c.connect();
        await c.query('SELECT 1');
        return 'ok';
    }
    catch (err) {
        return String(err.code ?? err.message);
    }
    finally {
        await c.end().catch(() => undefined);
    }
}
const newPassword = () => `sk-${randomTag(15)}`;
describe('the fake Supabase pooler (a Supavisor test double)', () => {
    test('takes <role>.<projectRef> over TLS, and refuses a user without the suffix, or with another, with FATAL XX000 "Tenant or user not found"', async () => {
        const app = await role();
        assert.equal(await poolerLogin(`${app.name}.${REF}`, app.password, true), 'ok');
        assert.equal(await poolerLogin(app.name, app.password, true), 'XX000');
        assert.equal(await poolerLogin(`${app.name}.other${REF}`, app.password, true), 'XX000');
        assert.equal(await poolerLogin(`${app.name}.${REF}`, 'not-the-password', true), '28P01', 'a wrong password is refused by the cluster behind it');
        const seen = pooler.logins().filter((l) => l.user.startsWith(app.name));
        assert.deepEqual(seen.map((l) => l.outcome), ['forwarded', 'tenant-not-found', 'tenant-not-found', 'forwarded']);
        assert.ok(seen.every((l) => l.tls), 'every login was over TLS');
    });
    test('refuses a client that does not start TLS (FATAL 28000)', async () => {
        const app = await role();
        assert.equal(await poolerLogin(`${app.name}.${REF}`, app.password, false), '28000');
    });
});
describe('supabase provider (through the fake Supabase pooler)', () => {
    test('the registry gives the supabase engine', async () => {
        const provider = await loadProvider('supabase');
        assert.equal(provider.engine, 'supabase');
        await provider.close();
    });
    test('verification logs in through the pooler as <role>.<projectRef>, over TLS', async () => {
        const app = await role();
        const before = pooler.logins().length;
        await withProvider(target(app.name, app.password), async (p) => {
            const next = newPassword();
            await p.setPassword({ username: app.name, password: next });
            const res = await p.verify({ username: app.name, password: next });
            assert.match(res.serverVersion, /^PostgreSQL \d+\.\d+/);
        });
        const mine = pooler.logins().slice(before);
        assert.deepEqual(mine.map((l) => [l.user, l.role, l.tls, l.outcome]), [[`${app.name}.${REF}`, app.name, true, 'forwarded']]);
    });
    test('a wrong projectRef is named in the error (the pooler answers "Tenant or user not found")', async () => {
        const app = await role();
        const provider = supabaseProvider();
        const fakeTenant = `${REF}x`;
        try {
            await provider.initialize({ admin: admin(), target: target(app.name, app.password, { projectRef: fakeTenant }) });
            const err = await expectCode(provider.verify({ username: app.name, password: app.password }), 'SK_ERR_PROVIDER_CONFIG', [app.password, adminPassword], 'a wrong projectRef');
            assert.match(err.message, /Tenant or user not found/);
            assert.match(err.message, /"projectRef"/);
        }
        finally {
            await provider.close();
        }
    });
    test('TLS is required: tls "disable" is refused with SK_ERR_PROVIDER_CONFIG for the admin and the target, before anything connects', async () => {
        const app = await role();
        const before = pooler.logins().length;
        for (const [which, req] of [
            ['target', { admin: admin(), target: target(app.name, app.password, { tls: 'disable' }) }],
            ['admin', { admin: { ...admin(), tls: 'disable' }, target: target(app.name, app.password) }],
        ]) {
            const provider = supabaseProvider();
            try {
                const err = await expectCode(provider.initialize(req), 'SK_ERR_PROVIDER_CONFIG', [app.password, adminPassword], `${which} with tls disable`);
                assert.match(err.message, new RegExp(`Supabase ${which} secret has "tls" "disable".*requires TLS`));
            }
            finally {
                await provider.close();
            }
        }
        assert.equal(pooler.logins().length, before, 'nothing reached the pooler');
    });
    test('without a "tls" field the preset uses TLS (require), and verify-full checks the pooler against the caFile', async () => {
        const app = await role();
        const { tls: _tls, ...noTls } = target(app.name, app.password);
        const { tls: _adminTls, ...adminNoTls } = admin();
        const provider = supabaseProvider();
        try {
            await provider.initialize({ admin: adminNoTls, target: noTls });
            await provider.verify({ username: app.name, password: app.password });
        }
        finally {
            await provider.close();
        }
        assert.equal(pooler.logins().at(-1)?.tls, true);
        // the fake pooler's certificate names "localhost": verify-full passes there and fails for 127.0.0.1
        await withProvider(target(app.name, app.password, { tls: 'verify-full', caFile: cert.certFile, poolerHost: 'localhost' }), async (p) => {
            await p.verify({ username: app.name, password: app.password });
        });
        await withProvider(target(app.name, app.password, { tls: 'verify-full', caFile: cert.certFile, poolerHost: '127.0.0.1' }), async (p) => {
            await expectCode(p.verify({ username: app.name, password: app.password }), 'SK_ERR_PROVIDER_TLS', [app.password], 'verify-full against an IP the certificate does not name');
        });
    });
    test('secrets the preset cannot use are refused with SK_ERR_PROVIDER_CONFIG naming the field', async () => {
        const app = await role();
        const cases = [
            ['no projectRef', { ...target(app.name, app.password), projectRef: '' }, /"projectRef"/],
            ['a projectRef with a dot', target(app.name, app.password, { projectRef: 'a.b' }), /"projectRef"/],
            ['a username that already carries the suffix', target(`${app.name}.${REF}`, app.password), /store the role name alone/],
            ['no poolerHost', { ...target(app.name, app.password), poolerHost: '' }, /"poolerHost".*verifyVia/],
            ['an unknown verifyVia', target(app.name, app.password, { verifyVia: 'carrier-pigeon' }), /"verifyVia"/],
            ['a poolerPort that is no port', target(app.name, app.password, { poolerPort: '70000' }), /"poolerPort"/],
            ['a negative poolerRetrySeconds', target(app.name, app.password, { poolerRetrySeconds: '-1' }), /"poolerRetrySeconds"/],
        ];
        for (const [what, t, pattern] of cases) {
            const provider = supabaseProvider();
            try {
                const err = await expectCode(provider.initialize({ admin: admin(), target: t }), 'SK_ERR_PROVIDER_CONFIG', [app.password, adminPassword], what);
                assert.match(err.message, pattern, what);
            }
            finally {
                await provider.close();
            }
        }
    });
    describe('the pooler caches credentials after a change', () => {
        after(() => pooler.cacheCredentials(0));
        test('a new password the pooler refuses for 3 s is ridden out by the bounded retry', async () => {
            const app = await role();
            await pooler.cacheCredentials(3_000);
            await withProvider(target(app.name, app.password), async (p) => {
                const next = newPassword();
                await p.setPassword({ username: app.name, password: next });
                const started = performance.now();
                await p.verify({ username: app.name, password: next });
                const waited = performance.now() - started;
                assert.ok(waited >= 2_500, `verification passed after ${Math.round(waited)} ms, before the 3 s cache could have ended`);
                assert.ok(waited < 10_000, `verification took ${Math.round(waited)} ms`);
            });
            const mine = pooler.logins().filter((l) => l.role === app.name);
            assert.ok(mine.filter((l) => l.outcome === 'cache-refused').length >= 2, 'the pooler refused the new password at least twice first');
            assert.equal(mine.at(-1)?.outcome, 'forwarded');
        });
        test('a cache longer than the retry budget ends in SK_ERR_PROVIDER_POOLER_CACHE, which names the pooler cache', async () => {
            const app = await role();
            await pooler.cacheCredentials(60_000);
            await withProvider(target(app.name, app.password, { poolerRetrySeconds: '1' }), async (p) => {
                const next = newPassword();
                await p.setPassword({ username: app.name, password: next });
                const started = performance.now();
                const err = await expectCode(p.verify({ username: app.name, password: next }), 'SK_ERR_PROVIDER_POOLER_CACHE', [app.password, next, adminPassword], 'a cache longer than the budget');
                const waited = performance.now() - started;
                assert.ok(waited >= 700 && waited < 20_000, `gave up after ${Math.round(waited)} ms with a 1 s budget`); // generous: the cache alone would hold it 60 s
                assert.match(err.message, /caches credentials/);
                assert.match(err.message, new RegExp(`as "${app.name}\\.${REF}"`));
                // the direct address confirmed the database takes the password: it is the cache
                assert.match(err.message, /logs in at the direct address/);
                assert.match(err.message, /"verifyVia" to "direct"/);
            });
        });
        test('while the pooler caches, a password the provider did not just set is refused at once with SK_ERR_PROVIDER_AUTH_FAILED', async () => {
            const app = await role();
            await pooler.cacheCredentials(60_000);
            await withProvider(target(app.name, app.password), async (p) => {
                const next = newPassword();
                await p.setPassword({ username: app.name, password: next });
                const started = performance.now();
                await expectCode(p.verify({ username: app.name, password: app.password }), 'SK_ERR_PROVIDER_AUTH_FAILED', [app.password, next], 'the replaced password');
                const waited = performance.now() - started;
                assert.ok(waited < 15_000, `a wrong password was waited on for ${Math.round(waited)} ms`); // generous: waiting out the cache would take 60 s
            });
        });
        test('verifyVia "direct" (the fallback) verifies at the direct address as the plain role, while the pooler still refuses', async () => {
            const app = await role();
            await pooler.cacheCredentials(60_000);
            const before = pooler.logins().length;
            await withProvider(target(app.name, app.password, { verifyVia: 'direct' }), async (p) => {
                const next = newPassword();
                await p.setPassword({ username: app.name, password: next });
                await p.verify({ username: app.name, password: next });
                await expectCode(p.verify({ username: app.name, password: app.password }), 'SK_ERR_PROVIDER_AUTH_FAILED', [app.password, next], 'the old password, directly');
                assert.equal(pooler.logins().length, before, 'the direct fallback did not go through the pooler');
                // the positive control: the pooler would have refused the same new password now
                assert.equal(await poolerLogin(`${app.name}.${REF}`, next, true), '28P01');
            });
        });
    });
});
//# sourceMappingURL=supabase-provider.test.js.map