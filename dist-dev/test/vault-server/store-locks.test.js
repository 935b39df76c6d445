import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { forShare, forUpdate, isUniqueViolation, transaction } from '../../vault-server/store/locks.js';
import { SQLITE_FILE_NAME } from '../../vault-server/store/open-store.js';
import { forEachStore, seedSecret } from '../support/stores.js';
import { waitFor } from '../support/wait.js';
/** A promise with its resolve function, to hold a transaction open until the test says so. */
function gate() {
    let open;
    const promise = new Promise((resolve) => { open = resolve; });
    return { promise, open };
}
async function lockWaiters(store) {
    const r = await sql `select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(store.db);
    return Number(r.rows[0]?.n ?? 0);
}
const leaseRow = (name) => ({ name, holder: 'test', lease_until: Date.now() + 60_000 });
forEachStore('store: transactions and row locks', ({ open, location, dialect }) => {
    test('forUpdate and forShare add their lock clause on PostgreSQL only', async () => {
        const store = await open();
        const q = store.db.selectFrom('projects').selectAll().where('id', '=', 'x');
        const upd = forUpdate(store.dialect, q).compile().sql.toLowerCase();
        const shr = forShare(store, q).compile().sql.toLowerCase();
        const skip = forUpdate(store.dialect, q, { skipLocked: true }).compile().sql.toLowerCase();
        if (dialect === 'postgres') {
            assert.match(upd, /for update$/);
            assert.match(shr, /for share$/);
            assert.match(skip, /for update skip locked$/);
        }
        else {
            for (const s of [upd, shr, skip])
                assert.doesNotMatch(s, /for (update|share)|skip locked/);
            // and SQLite runs the statement as is
            await forUpdate(store.dialect, q).execute();
        }
    });
    test('a transaction commits when its function resolves and rolls back when it throws', async () => {
        const store = await open();
        const kept = `kept-${randomUUID()}`;
        const dropped = `dropped-${randomUUID()}`;
        assert.equal(await transaction(store, async (trx) => {
            await trx.insertInto('sweeper_leases').values(leaseRow(kept)).execute();
            return 42;
        }), 42);
        await assert.rejects(transaction(store, async (trx) => {
            await trx.insertInto('sweeper_leases').values(leaseRow(dropped)).execute();
            throw new Error('changed my mind');
        }), /changed my mind/);
        const names = (await store.db.selectFrom('sweeper_leases').select('name').where('name', 'in', [kept, dropped]).execute()).map((r) => r.name);
        assert.deepEqual(names, [kept]);
    });
    test('a read-only transaction refuses writes, and the next write transaction writes again', async () => {
        const store = await open();
        const name = `ro-${randomUUID()}`;
        await assert.rejects(transaction(store, async (trx) => {
            await trx.selectFrom('sweeper_leases').selectAll().execute();
            await trx.insertInto('sweeper_leases').values(leaseRow(name)).execute();
        }, { write: false }), (err) => /read-only|readonly/i.test(err.message));
        // and without a transaction, and in a write transaction, writes work again
        await transaction(store, async (trx) => { await trx.insertInto('sweeper_leases').values(leaseRow(name)).execute(); });
        await store.db.deleteFrom('sweeper_leases').where('name', '=', name).execute();
        const rows = await transaction(store, (trx) => trx.selectFrom('sweeper_leases').selectAll().where('name', '=', name).execute(), { write: false });
        assert.deepEqual(rows, []);
    });
    test('isUniqueViolation recognises unique and primary-key conflicts and nothing else', async () => {
        const store = await open();
        const { projectId } = await seedSecret(store, { projectName: `uniq-${randomUUID()}` });
        const name = (await store.db.selectFrom('projects').select('name').where('id', '=', projectId).executeTakeFirstOrThrow()).name;
        const dupName = await store.db.insertInto('projects').values({
            id: randomUUID(), name, master_key_wrapped: Buffer.alloc(1), key_version: 1, locked_at: null, locked_reason: null, created_at: 1,
        }).execute().catch((e) => e);
        assert.equal(isUniqueViolation(dupName), true, 'unique name');
        const dupPk = await store.db.insertInto('project_keys').values([
            { project_id: projectId, key_version: 1, wrapped: Buffer.alloc(1), created_at: 1 },
            { project_id: projectId, key_version: 1, wrapped: Buffer.alloc(1), created_at: 1 },
        ]).execute().catch((e) => e);
        assert.equal(isUniqueViolation(dupPk), true, 'primary key');
        const fk = await store.db.insertInto('project_keys').values({ project_id: randomUUID(), key_version: 1, wrapped: Buffer.alloc(1), created_at: 1 })
            .execute().catch((e) => e);
        assert.ok(fk instanceof Error);
        assert.equal(isUniqueViolation(fk), false, 'a foreign-key violation is not a unique violation');
        assert.equal(isUniqueViolation(new Error('UNIQUE constraint failed')), false);
        assert.equal(isUniqueViolation(undefined), false);
        assert.equal(isUniqueViolation(new Error('wrapped', { cause: dupName })), true, 'a wrapped violation');
    });
    if (dialect === 'sqlite') {
        test('a write transaction holds the writer lock from BEGIN, before its first statement', async () => {
            const store = await open();
            const loc = location();
            assert.ok('dataDir' in loc);
            // Another connection to the same file, as a second process would have; no waiting.
            const other = new SqliteDatabase(join(loc.dataDir, SQLITE_FILE_NAME), { timeout: 0 });
            try {
                await transaction(store, async () => {
                    assert.throws(() => other.prepare('insert into sweeper_leases (name, holder, lease_until) values (?, ?, ?)').run(`o-${randomUUID()}`, 'other', 1), (err) => err.code === 'SQLITE_BUSY', 'another connection could write while the write transaction was open');
                    assert.throws(() => other.exec('begin immediate'), (err) => err.code === 'SQLITE_BUSY');
                });
                // After commit, the other connection writes at once.
                other.prepare('insert into sweeper_leases (name, holder, lease_until) values (?, ?, ?)').run(`o-${randomUUID()}`, 'other', 1);
                // A read-only transaction takes no writer lock: the other connection writes meanwhile.
                await transaction(store, async (trx) => {
                    await trx.selectFrom('sweeper_leases').selectAll().execute();
                    other.prepare('insert into sweeper_leases (name, holder, lease_until) values (?, ?, ?)').run(`o-${randomUUID()}`, 'other', 1);
                }, { write: false });
            }
            finally {
                other.close();
            }
        });
    }
    if (dialect === 'postgres') {
        test('forUpdate makes a second transaction wait until the first commits, then see its write', async () => {
            const store = await open();
            const { projectId } = await seedSecret(store);
            const lockProject = (trx) => forUpdate(store.dialect, trx.selectFrom('projects').select(['id', 'key_version']).where('id', '=', projectId)).executeTakeFirstOrThrow();
            const firstHolds = gate();
            const releaseFirst = gate();
            const first = transaction(store, async (trx) => {
                await lockProject(trx);
                firstHolds.open();
                await releaseFirst.promise;
                await trx.updateTable('projects').set({ key_version: 2 }).where('id', '=', projectId).execute();
            });
            await firstHolds.promise;
            let secondGotRow = false;
            const second = transaction(store, async (trx) => {
                const row = await lockProject(trx);
                secondGotRow = true;
                return row.key_version;
            });
            try {
                await waitFor(() => lockWaiters(store), { what: 'the second transaction to wait on a row lock', timeoutMs: 30_000, intervalMs: 20, until: (n) => n >= 1, show: (n) => `${n} lock waiters` });
                assert.equal(secondGotRow, false, 'the second transaction got the row while the first held it');
            }
            finally {
                // Also on failure: a transaction left waiting would keep the pool (and the test) open.
                releaseFirst.open();
                await first;
            }
            assert.equal(await second, 2, 'the second transaction read the row before the first committed');
            assert.equal(await lockWaiters(store), 0);
        });
        test('forShare lets two readers hold a row together and keeps a forUpdate writer waiting', async () => {
            const store = await open();
            const { projectId } = await seedSecret(store);
            const select = (trx) => trx.selectFrom('projects').select('id').where('id', '=', projectId);
            const bothHold = [gate(), gate()];
            const release = gate();
            const readers = bothHold.map((held) => transaction(store, async (trx) => {
                await forShare(store, select(trx)).executeTakeFirstOrThrow();
                held.open();
                await release.promise;
            }));
            // Both shared locks are granted at once: neither reader waits for the other. Readers that
            // blocked each other would wait until released, so a generous bound decides nothing else.
            const bothHeld = await Promise.race([Promise.all(bothHold.map((g) => g.promise)).then(() => true), sleep(30_000, false, { ref: false })]);
            if (!bothHeld) {
                release.open();
                await Promise.all(readers);
                assert.fail('the two shared locks were not held at the same time');
            }
            let writerGotRow = false;
            const writer = transaction(store, async (trx) => {
                await forUpdate(store, select(trx)).executeTakeFirstOrThrow();
                writerGotRow = true;
            });
            try {
                await waitFor(() => lockWaiters(store), { what: 'the writer to wait on the shared row', timeoutMs: 30_000, intervalMs: 20, until: (n) => n >= 1, show: (n) => `${n} lock waiters` });
                assert.equal(writerGotRow, false);
            }
            finally {
                release.open();
                await Promise.all(readers);
                await writer;
            }
            assert.equal(writerGotRow, true);
        });
    }
});
//# sourceMappingURL=store-locks.test.js.map