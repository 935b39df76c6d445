// Leased logins on PostgreSQL (providers/postgres/postgres-leases.ts), on the password-enforcing
// scram cluster: the machine's PostgreSQL trusts every login, so only here does a refused
// password prove anything.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { expectCode } from '../../providers/conformance.js';
import { postgresProvider } from '../../providers/postgres/index.js';
import type { CredentialProvider, DatabaseSecret } from '../../providers/provider.js';
import { withSanitizer } from '../../providers/sanitize.js';
import { scramCluster, type ScramCluster } from '../support/pg-scram-cluster.js';
import { randomTag } from '../support/services.js';

let cluster: ScramCluster;
let root: pg.Client;
let provider: CredentialProvider;
let admin: DatabaseSecret;
const tag = randomTag();
const prefix = `sk${tag.slice(0, 6)}_`;
const reader = `lease_reader_${tag}`;
const weird = `we"ird'; role ${tag}`;
const schema = `lease_s_${tag}`;
const id = pg.escapeIdentifier;
const hour = 3_600_000;

before(async () => {
  cluster = await scramCluster();
  root = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
  await root.connect();
  await root.query(`CREATE SCHEMA ${id(schema)}`);
  await root.query(`CREATE TABLE ${id(schema)}.items (n int)`);
  await root.query(`INSERT INTO ${id(schema)}.items VALUES (1)`);
  for (const role of [reader, weird]) {
    await root.query(`CREATE ROLE ${id(role)} NOLOGIN`);
    // read the table, and create (own) tables of its own in the schema: nothing else
    await root.query(`GRANT USAGE, CREATE ON SCHEMA ${id(schema)} TO ${id(role)}`);
    await root.query(`GRANT SELECT ON ${id(schema)}.items TO ${id(role)}`);
  }
  admin = { host: cluster.host, port: String(cluster.port), database: 'postgres', username: cluster.adminUser, password: cluster.adminPassword };
  provider = withSanitizer(postgresProvider());
  await provider.initialize({ admin, target: { host: cluster.host, port: String(cluster.port), database: 'postgres', username: `${prefix}probe` } });
});
after(async () => {
  await provider?.close();
  for (const name of (await root.query<{ r: string }>('SELECT rolname AS r FROM pg_roles WHERE left(rolname, length($1::text)) = $1::text', [prefix])).rows) {
    await root.query(`DROP OWNED BY ${id(name.r)}`).catch(() => undefined);
    await root.query(`DROP ROLE IF EXISTS ${id(name.r)}`).catch(() => undefined);
  }
  await root?.query(`DROP SCHEMA IF EXISTS ${id(schema)} CASCADE`).catch(() => undefined);
  for (const role of [reader, weird]) await root?.query(`DROP ROLE IF EXISTS ${id(role)}`).catch(() => undefined);
  await root?.end();
  await cluster?.stop();
});

const login = (username: string, password: string): pg.Client => {
  const c = new pg.Client({ host: cluster.host, port: cluster.port, user: username, password, database: 'postgres', connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  return c;
};

async function connectAs(username: string, password: string): Promise<pg.Client> {
  const c = login(username, password);
  await c.connect();
  return c;
}

async function sqlstateOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
  return 'succeeded';
}

const validUntilOf = async (name: string): Promise<number | null> => {
  const row = (await root.query<{ v: Date | null }>('SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1', [name])).rows[0];
  return row?.v ? row.v.getTime() : null;
};

describe('postgres leases (scram cluster)', () => {
  test('a leased login logs in with exactly its grant: it reads the table, a write outside the grant is refused by the server', async () => {
    const username = `${prefix}app_${randomTag()}`;
    const password = `pw-${randomTag(12)}'"\\`;
    await provider.createLogin!({ username, password, grant: { memberOf: reader }, validUntil: Date.now() + hour });
    await provider.verify({ username, password });
    const c = await connectAs(username, password);
    try {
      const { rows } = await c.query<{ n: number }>(`SELECT n FROM ${id(schema)}.items`);
      assert.deepEqual(rows, [{ n: 1 }]);
      assert.equal(await sqlstateOf(c.query(`INSERT INTO ${id(schema)}.items VALUES (2)`)), '42501', 'INSERT is outside the grant');
      assert.equal(await sqlstateOf(c.query('CREATE ROLE should_not_exist')), '42501', 'no CREATEROLE');
    } finally {
      await c.end();
    }
    await expectCode(provider.verify({ username, password: 'wrong-password' }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password], 'a wrong password');
    const member = await root.query('SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = $1 AND u.rolname = $2', [reader, username]);
    assert.equal(member.rowCount, 1, 'the login is IN ROLE memberOf');
  });

  test('create is idempotent: a second create of the same name sets the new password and keeps one role', async () => {
    const username = `${prefix}idem_${randomTag()}`;
    const first = `pw-${randomTag(12)}`;
    const second = `pw-${randomTag(12)}`;
    await provider.createLogin!({ username, password: first, grant: { memberOf: reader }, validUntil: Date.now() + hour });
    await provider.createLogin!({ username, password: second, grant: { memberOf: reader }, validUntil: Date.now() + 2 * hour });
    await provider.verify({ username, password: second });
    await expectCode(provider.verify({ username, password: first }), 'SK_ERR_PROVIDER_AUTH_FAILED', [first, second], 'the first password');
    assert.equal((await root.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username])).rowCount, 1);
  });

  test('VALID UNTIL is set from validUntil; renew moves it; a login past it is refused by the server', async () => {
    const username = `${prefix}ttl_${randomTag()}`;
    const password = `pw-${randomTag(12)}`;
    const until = Date.now() + hour;
    await provider.createLogin!({ username, password, grant: { memberOf: reader }, validUntil: until });
    assert.equal(await validUntilOf(username), until);
    const later = until + 3 * hour;
    await provider.renewLogin!({ username, validUntil: later });
    assert.equal(await validUntilOf(username), later);
    await provider.renewLogin!({ username, validUntil: Date.now() - 60_000 });
    await expectCode(provider.verify({ username, password }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password], 'an expired login');
    await expectCode(provider.renewLogin!({ username: `${prefix}missing_${randomTag()}`, validUntil: later }), 'SK_ERR_PROVIDER_USER_NOT_FOUND', [], 'renewing a missing login');
  });

  test('drop closes an open session of the login, makes the login fail, and gives what it owned to memberOf', async () => {
    const username = `${prefix}drop_${randomTag()}`;
    const password = `pw-${randomTag(12)}`;
    await provider.createLogin!({ username, password, grant: { memberOf: reader }, validUntil: Date.now() + hour });
    const open = await connectAs(username, password);
    await open.query(`CREATE TABLE ${id(schema)}.${id(`owned_${tag}`)} (x int)`);
    await provider.dropLogin!({ username, reassignTo: reader });
    assert.notEqual(await sqlstateOf(open.query('SELECT 1')), 'succeeded', 'the open session was ended');
    await open.end().catch(() => undefined);
    assert.equal((await root.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username])).rowCount, 0, 'the role is gone');
    await expectCode(provider.verify({ username, password }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password], 'a dropped login');
    const owner = await root.query<{ o: string }>('SELECT tableowner AS o FROM pg_tables WHERE schemaname = $1 AND tablename = $2', [schema, `owned_${tag}`]);
    assert.equal(owner.rows[0]?.o, reader, 'REASSIGN OWNED moved the table to memberOf');
    // idempotent: dropping again, or a login that never existed, is a no-op
    await provider.dropLogin!({ username, reassignTo: reader });
    await provider.dropLogin!({ username: `${prefix}never_${randomTag()}` });
  });

  test('listLogins returns exactly the logins with the prefix, sorted', async () => {
    const own = `sk${randomTag(3)}_`;
    const a = `${own}list_a`;
    const b = `${own}list_b`;
    const other = `${prefix}list_${randomTag()}`;
    for (const username of [b, a, other]) {
      await provider.createLogin!({ username, password: `pw-${randomTag(12)}`, grant: { memberOf: reader }, validUntil: Date.now() + hour });
    }
    try {
      assert.deepEqual(await provider.listLogins!({ prefix: own }), [a, b]);
      assert.ok((await provider.listLogins!({ prefix: 'sk' })).includes(other));
    } finally {
      for (const username of [a, b]) await provider.dropLogin!({ username });
    }
    assert.deepEqual(await provider.listLogins!({ prefix: own }), []);
  });

  test('odd names are escaped with the driver: a memberOf with quotes and a semicolon, a login name with quotes', async () => {
    const username = `${prefix}q"uo'te; x_${randomTag(2)}`;
    const password = `pw-${randomTag(12)}'; DROP ROLE ${cluster.adminUser}; --`;
    await provider.createLogin!({ username, password, grant: { memberOf: weird }, validUntil: Date.now() + hour });
    await provider.verify({ username, password });
    const c = await connectAs(username, password);
    try {
      assert.equal((await c.query(`SELECT count(*)::int AS n FROM ${id(schema)}.items`)).rows[0]?.n, 1, 'reads through the weird role');
    } finally {
      await c.end();
    }
    assert.deepEqual((await provider.listLogins!({ prefix: `${prefix}q"` })), [username]);
    await provider.dropLogin!({ username, reassignTo: weird });
    assert.equal((await root.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username])).rowCount, 0);
  });

  test('a lease role without memberOf is a config error, and nothing is created', async () => {
    const username = `${prefix}nogrant_${randomTag()}`;
    await expectCode(provider.createLogin!({ username, password: 'pw-x1', grant: { acl: '+@read' }, validUntil: Date.now() + hour }), 'SK_ERR_PROVIDER_CONFIG', [], 'no memberOf');
    assert.equal((await root.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username])).rowCount, 0);
  });
});
