import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { MIGRATION_NAMES } from '../../vault-server/store/migrations/index.js';
import { migrationStatus, openStore, SQLITE_FILE_NAME } from '../../vault-server/store/open-store.js';
import { forEachStore, pgUrl, seedSecret } from '../support/stores.js';
const ALL_TABLES = [
    'vault_meta', 'projects', 'project_keys', 'secrets', 'secret_versions', 'grants', 'operators', 'operator_keys', 'operator_invitations', 'machines', 'ai_agents',
    'enrollment_tokens', 'bootstrap_tokens', 'machine_extensions', 'rotation_policies', 'rotations', 'audit_events', 'audit_head',
    'webhooks', 'webhook_deliveries', 'nonces', 'sweeper_leases',
];
forEachStore('store: open and migrate', ({ open, openAt, freshLocation, location, dialect }) => {
    test('applies every migration, creates every table and reports the store as current', async () => {
        const store = await open();
        assert.deepEqual(await migrationStatus(store), { current: true, pending: [] });
        const tables = new Set((await store.db.introspection.getTables()).map((t) => t.name));
        for (const table of ALL_TABLES)
            assert.ok(tables.has(table), `table ${table} is missing`);
        const head = await store.db.selectFrom('audit_head').selectAll().execute();
        // mac: null until the vault (init, or the first start after 0004) has made its audit keys.
        assert.deepEqual(head, [{ id: 1, seq: 0, hash: '0'.repeat(64), mac: null }]);
    });
    test('re-opening an existing store migrates nothing and keeps its data', async () => {
        const first = await open();
        const key = `k-${randomUUID()}`;
        await first.db.insertInto('vault_meta').values({ key, value: Buffer.from('kept'), updated_at: Date.now() }).execute();
        await first.close();
        await first.close();
        for (let i = 0; i < 2; i++) {
            const again = await open();
            assert.deepEqual(await migrationStatus(again), { current: true, pending: [] });
            const row = await again.db.selectFrom('vault_meta').select('value').where('key', '=', key).executeTakeFirstOrThrow();
            assert.deepEqual(row.value, Buffer.from('kept'));
            assert.equal((await again.db.selectFrom('audit_head').selectAll().execute()).length, 1);
        }
    });
    test('a store opened without migrating reports every migration as pending', async () => {
        const loc = await freshLocation();
        const raw = await openAt(loc, { migrate: false });
        assert.deepEqual(await migrationStatus(raw), { current: false, pending: [...MIGRATION_NAMES] });
        assert.deepEqual(MIGRATION_NAMES.slice(0, 4), ['0001-initial', '0002-rotation-operations', '0003-rotation-outcomes', '0004-audit-mac']);
        const migrated = await openAt(loc);
        assert.deepEqual(await migrationStatus(migrated), { current: true, pending: [] });
        assert.deepEqual(await migrationStatus(raw), { current: true, pending: [] });
    });
    test('returns int8 timestamps and counts as numbers and binary columns as Buffers', async () => {
        const store = await open();
        const at = 1_762_000_000_123; // beyond 2^31: an int8 on PostgreSQL
        const wrapped = randomBytes(60);
        const id = randomUUID();
        await store.db.insertInto('projects').values({
            id, name: `n-${id}`, master_key_wrapped: wrapped, key_version: 3, locked_at: at + 1, locked_reason: null, created_at: at,
        }).execute();
        const row = await store.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        assert.equal(typeof row.created_at, 'number');
        assert.equal(row.created_at, at);
        assert.equal(row.locked_at, at + 1);
        assert.equal(row.key_version, 3);
        assert.ok(Buffer.isBuffer(row.master_key_wrapped));
        assert.deepEqual(row.master_key_wrapped, wrapped);
        const { n } = await store.db.selectFrom('projects').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
        assert.equal(typeof n, 'number');
        assert.ok(n >= 1);
        const { m } = await store.db.selectFrom('projects').select((eb) => eb.fn.max('created_at').as('m')).executeTakeFirstOrThrow();
        assert.equal(typeof m, 'number');
        if (dialect === 'postgres') {
            // The parser belongs to the store's pool: pg's global int8 parser is untouched.
            assert.equal(pg.types.getTypeParser(pg.types.builtins.INT8)('5'), '5');
        }
    });
    test('enforces foreign keys', async () => {
        const store = await open();
        await assert.rejects(store.db.insertInto('secrets').values({
            id: randomUUID(), project_id: randomUUID(), name: 's', kind: 'plain', current_version: null, created_at: Date.now(),
        }).execute(), (err) => /foreign key/i.test(err.message));
        const { secretId } = await seedSecret(store);
        assert.ok(secretId);
    });
    test('ping answers, and a closed store fails its ping with SK_ERR_STORE', async () => {
        const store = await openAt(location());
        await store.ping();
        await store.close();
        await assert.rejects(store.ping(), (err) => isSikkerKeyError(err, 'SK_ERR_STORE'));
    });
    if (dialect === 'sqlite') {
        test('creates a missing data directory with mode 0700 and opens vault.db in WAL mode with a busy timeout', async () => {
            const loc = await freshLocation();
            assert.ok('dataDir' in loc);
            const store = await openAt(loc);
            assert.equal(statSync(loc.dataDir).mode & 0o777, 0o700);
            const file = join(loc.dataDir, SQLITE_FILE_NAME);
            assert.ok(statSync(file).isFile());
            const fk = await sql `pragma foreign_keys`.execute(store.db);
            assert.equal(fk.rows[0]?.foreign_keys, 1);
            const busy = await sql `pragma busy_timeout`.execute(store.db);
            assert.ok((busy.rows[0]?.timeout ?? 0) >= 1000, 'busy_timeout is set');
            const sync = await sql `pragma synchronous`.execute(store.db);
            assert.equal(sync.rows[0]?.synchronous, 2, 'synchronous = FULL');
            const other = new SqliteDatabase(file, { readonly: true });
            try {
                assert.equal(other.pragma('journal_mode', { simple: true }), 'wal');
            }
            finally {
                other.close();
            }
        });
        test('refuses a data directory that is a file with SK_ERR_STORE', async (t) => {
            const parent = await mkdtemp(join(tmpdir(), 'sk-store-file-'));
            t.after(() => rm(parent, { recursive: true, force: true }));
            const notADir = join(parent, 'data');
            writeFileSync(notADir, 'x');
            await assert.rejects(openStore({ dataDir: notADir }), (err) => isSikkerKeyError(err, 'SK_ERR_STORE') && err.message.includes(notADir));
        });
    }
});
describe('store: PostgreSQL connection errors', () => {
    const password = `pw-${randomBytes(9).toString('hex')}`;
    const base = new URL(pgUrl());
    const withPassword = (mutate) => {
        const u = new URL(base.toString());
        u.username = u.username || 'postgres';
        u.password = password;
        mutate(u);
        return u.toString();
    };
    const cases = [
        ['a port nobody listens on', withPassword((u) => { u.hostname = '127.0.0.1'; u.port = '1'; })],
        ['a database that does not exist', withPassword((u) => { u.pathname = `/sk_no_such_db_${randomBytes(4).toString('hex')}`; })],
        ['a host that does not resolve', withPassword((u) => { u.hostname = 'no-such-host.invalid'; })],
        ['a password in the query string', `${withPassword((u) => { u.hostname = '127.0.0.1'; u.port = '1'; u.password = ''; })}?password=${password}`],
        ['a URL that does not parse', `postgres://postgres:${password}@[::1/postgres`],
    ];
    for (const [what, url] of cases) {
        test(`the error for ${what} is SK_ERR_STORE and never contains the password`, async () => {
            let caught;
            try {
                const store = await openStore({ databaseUrl: url });
                await store.close();
            }
            catch (err) {
                caught = err;
            }
            assert.ok(isSikkerKeyError(caught, 'SK_ERR_STORE'), `expected SK_ERR_STORE, got ${String(caught)}`);
            const everything = [caught.message, caught.stack ?? '', JSON.stringify(caught.toBody()), inspect(caught, { depth: 20, showHidden: true })].join('\n');
            assert.ok(!everything.includes(password), `the password leaked: ${caught.message}`);
            assert.match(caught.message, /postgres|PostgreSQL|URL/i);
        });
    }
});
//# sourceMappingURL=store-open.test.js.map