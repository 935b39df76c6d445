/**
 * Runs one block of store tests on every dialect: SQLite in a fresh temporary directory and
 * PostgreSQL in a fresh database on the server of PG_URL (set by `npm test`), created as
 * `sk_t_<random>` and dropped `WITH (FORCE)` afterwards. An unreachable PostgreSQL fails the block; it is never skipped.
 *
 * Every test of one block shares that block's location (a test that needs an empty store asks
 * for `freshLocation()`); every store opened through the context is closed after the block.
 *
 * @example
 *   forEachStore('projects', ({ open, dialect }) => {
 *     test('stores a project', async () => {
 *       const store = await open();
 *       await store.db.insertInto('projects').values({ … }).execute();
 *     });
 *   });
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { openStore } from '../../vault-server/store/open-store.js';
import { pgUrl } from './services.js';
export const DIALECTS = ['sqlite', 'postgres'];
/** The PostgreSQL server tests use (PG_URL; an error when unset). */
export { pgUrl };
export function forEachStore(title, fn) {
    for (const dialect of DIALECTS) {
        describe(`${title} (${dialect})`, () => {
            const opened = [];
            const cleanups = [];
            let main;
            const freshLocation = async () => {
                const made = dialect === 'sqlite' ? await tempDataDir() : await tempPgDatabase();
                cleanups.push(made.remove);
                return made.location;
            };
            const openAt = async (loc, opts) => {
                const store = await openStore(loc, opts);
                opened.push(store);
                return store;
            };
            before(async () => {
                main = await freshLocation();
            });
            after(async () => {
                // Stores first (a PostgreSQL database cannot be dropped under its own pool's feet
                // gracefully), then the locations, each attempted even if another fails.
                const errors = [];
                for (const store of opened)
                    await store.close().catch((err) => errors.push(err));
                for (const remove of cleanups.reverse())
                    await remove().catch((err) => errors.push(err));
                if (errors.length > 0)
                    throw errors[0];
            });
            fn({
                dialect,
                open: (opts) => openAt(location(), opts),
                openAt,
                location,
                freshLocation,
            });
            function location() {
                if (!main)
                    throw new Error('the store location exists only once the block has started (use it inside a test or hook)');
                return main;
            }
        });
    }
}
/** A new temporary data directory (it does not exist yet: openStore creates it, mode 0700). */
export async function tempDataDir() {
    const parent = await mkdtemp(join(tmpdir(), 'sk-store-'));
    return {
        location: { dataDir: join(parent, 'data') },
        remove: () => rm(parent, { recursive: true, force: true }),
    };
}
/** A new empty database on the PG_URL server, and how to drop it. */
export async function tempPgDatabase() {
    const serverUrl = pgUrl();
    const name = `sk_t_${randomBytes(8).toString('hex')}`;
    await withAdminClient(serverUrl, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return {
        location: { databaseUrl: url.toString() },
        remove: () => withAdminClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`)).then(() => undefined),
    };
}
async function withAdminClient(url, fn) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    try {
        await client.connect();
    }
    catch (err) {
        const where = new URL(url);
        where.password = where.password ? '***' : '';
        throw new Error(`PostgreSQL for the store tests is unreachable at ${where.toString()} (set PG_URL): ${err.message}`, { cause: err });
    }
    try {
        return await fn(client);
    }
    finally {
        await client.end();
    }
}
/** Inserts a project and one secret in it (minimal valid rows), for tests that need a secret id. */
export async function seedSecret(store, opts = {}) {
    const projectId = randomUUID();
    const secretId = randomUUID();
    const now = Date.now();
    await store.db.insertInto('projects').values({
        id: projectId, name: opts.projectName ?? `p-${projectId.slice(0, 8)}`, master_key_wrapped: randomBytes(60), key_version: 1,
        locked_at: null, locked_reason: null, created_at: now,
    }).execute();
    await store.db.insertInto('secrets').values({
        id: secretId, project_id: projectId, name: opts.secretName ?? `s-${secretId.slice(0, 8)}`, kind: 'plain', current_version: null, created_at: now,
    }).execute();
    return { projectId, secretId };
}
//# sourceMappingURL=stores.js.map