// Rolling upgrades and store errors (issue "High availability"): `sikkerkey-vault migrate` is
// explicit on PostgreSQL; a replica refuses pending migrations and a schema a newer version made;
// a store that is restarting or cancelled a statement is a 503, never a 500; the PostgreSQL
// settings (`--database-pool-size`, `--statement-timeout`) are validated like every setting.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { generateIdentityKey } from '../../protocol/keys.js';
import { jsonOf, runBin } from '../support/processes.js';
import { tempPgDatabase } from '../support/stores.js';
import { openStore } from '../../vault-server/store/open-store.js';
import { MIGRATION_NAMES } from '../../vault-server/store/migrations/index.js';
import { storeUnavailable } from '../../vault-server/store/store-errors.js';
import { toSikkerKeyError } from '../../vault-server/http/errors.js';
import { loadVaultConfig } from '../../vault-server/config.js';

const dir = mkdtempSync(join(tmpdir(), 'sk-schema-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('PostgreSQL: migrate --status lists what is pending, migrate applies it once; serve refuses pending migrations and a newer schema', async () => {
  const pg = await tempPgDatabase();
  after(() => pg.remove());
  const url = pg.location.databaseUrl;
  const status = await runBin('sikkerkey-vault', ['migrate', '--database-url', url, '--status', '--json']);
  assert.equal(status.code, 3, status.stderr);
  assert.deepEqual((JSON.parse(status.stdout) as { pending: string[] }).pending, [...MIGRATION_NAMES]);
  assert.deepEqual(jsonOf<{ applied: string[] }>(await runBin('sikkerkey-vault', ['migrate', '--database-url', url, '--json'])).applied, [...MIGRATION_NAMES]);
  assert.deepEqual(jsonOf<{ applied: string[] }>(await runBin('sikkerkey-vault', ['migrate', '--database-url', url, '--json'])).applied, []);

  const operator = generateIdentityKey();
  const init = jsonOf<{ rootKey: string }>(await runBin('sikkerkey-vault', ['init', '--database-url', url, '--operator-public-key', Buffer.from(operator.publicKey).toString('base64'), '--json']));
  const rootFile = join(dir, 'root.key');
  writeFileSync(rootFile, init.rootKey, { mode: 0o600 });
  const serve = (): Promise<{ code: number | null; stderr: string }> => runBin('sikkerkey-vault', ['serve', '--database-url', url, '--root-key-file', rootFile, '--listen', '127.0.0.1:0', '--workers', '1'], { timeoutMs: 30_000 });

  const store = await openStore(pg.location, { migrate: false });
  try {
    // As if this version's last migration had not run yet (a replica started before `migrate`).
    const last = MIGRATION_NAMES.at(-1) as string;
    await sql`delete from kysely_migration where name = ${last}`.execute(store.db);
    const pending = await serve();
    assert.notEqual(pending.code, 0);
    assert.match(pending.stderr, new RegExp(`SK_ERR_STORE_SCHEMA: the store has 1 pending migration \\(${last}\\): run \`sikkerkey-vault migrate`));
    await sql`insert into kysely_migration (name, timestamp) values (${last}, ${new Date().toISOString()})`.execute(store.db);
    // As if a newer version had migrated it.
    await sql`insert into kysely_migration (name, timestamp) values ('9999-from-the-future', ${new Date().toISOString()})`.execute(store.db);
    const newer = await serve();
    assert.notEqual(newer.code, 0);
    assert.match(newer.stderr, /SK_ERR_STORE_SCHEMA: the store was migrated by a newer SikkerKey \(migrations 9999-from-the-future are unknown/);
    const migrateNewer = await runBin('sikkerkey-vault', ['migrate', '--database-url', url, '--json']);
    assert.match(migrateNewer.stderr, /SK_ERR_STORE_SCHEMA/);
  } finally {
    await store.close();
  }
});

test('a store restarting, unreachable or cancelling a statement is 503 SK_ERR_STORE with Retry-After; other errors stay internal', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['admin_shutdown', { code: '57P01', message: 'terminating connection due to administrator command' }],
    ['statement timeout', { code: '57014', message: 'canceling statement due to statement timeout' }],
    ['connection exception class 08', { code: '08006', message: 'connection failure' }],
    ['refused', { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' }],
    ['pg lost the connection', { message: 'Connection terminated unexpectedly' }],
    ['pool timeout', { message: 'timeout exceeded when trying to connect' }],
  ];
  for (const [what, fields] of cases) {
    const err = toSikkerKeyError(Object.assign(new Error(String(fields['message'])), fields));
    assert.equal(err.code, 'SK_ERR_STORE', what);
    assert.equal(err.statusCode, 503, what);
    assert.equal(err.details?.['retryAfter'], 1, what);
    assert.doesNotMatch(err.message, /127\.0\.0\.1|administrator/, `${what}: the driver's words stay out of the answer`);
  }
  assert.match(toSikkerKeyError(Object.assign(new Error('x'), { code: '57014' })).message, /--statement-timeout/);
  assert.equal(storeUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' })), undefined);
  assert.equal(toSikkerKeyError(new TypeError('bug')).code, 'SK_ERR_INTERNAL');
});

test('--database-pool-size and --statement-timeout: defaults, validation, and a warning on SQLite', () => {
  const pgConfig = loadVaultConfig({ env: {}, flags: { databaseUrl: 'postgres://u@db.internal/sk' } });
  assert.deepEqual([pgConfig.databasePoolSize, pgConfig.statementTimeoutMs], [10, 5000]);
  const set = loadVaultConfig({ env: { SIKKERKEY_VAULT_STATEMENT_TIMEOUT: '750ms' }, flags: { databaseUrl: 'postgres://u@db.internal/sk', databasePoolSize: '40' } });
  assert.deepEqual([set.databasePoolSize, set.statementTimeoutMs], [40, 750]);
  assert.throws(() => loadVaultConfig({ env: {}, flags: { databaseUrl: 'postgres://u@db.internal/sk', databasePoolSize: '5000' } }), /SK_ERR_CONFIG|must be from 1 to 1000/);
  assert.throws(() => loadVaultConfig({ env: {}, flags: { databaseUrl: 'postgres://u@db.internal/sk', statementTimeout: '20m' } }), (err: Error & { code?: string }) => err.code === 'SK_ERR_CONFIG');
  const sqlite = loadVaultConfig({ env: {}, flags: { dataDir: join(dir, 'd'), databasePoolSize: '20' } });
  assert.ok(sqlite.warnings.some((w) => /apply to a PostgreSQL store only/.test(w)));
});
