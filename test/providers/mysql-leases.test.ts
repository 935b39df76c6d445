// Leased logins on MariaDB (providers/mysql/mysql-leases.ts), on the real server at MYSQL_URL.
// MySQL 8's DEFAULT ROLE statement differs and is not exercised here (no MySQL 8 server).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { expectCode } from '../../providers/conformance.js';
import { mysqlProvider } from '../../providers/mysql/index.js';
import { deniedTableAccess, mysqlError } from '../../providers/mysql/mysql-errors.js';
import type { CredentialProvider, DatabaseSecret } from '../../providers/provider.js';
import { withSanitizer } from '../../providers/sanitize.js';
import { assertReachable, mysqlUrl, parseServiceUrl, randomTag } from '../support/services.js';

const url = mysqlUrl();
await assertReachable('mysql', url);
const server = parseServiceUrl(url);
const tag = randomTag();
const prefix = `sk${tag.slice(0, 6)}_`;
const db = `lease_${tag}`;
const reader = `lease_reader_${tag}`;
const weird = `we'ird\`; role.${tag}`;
const adminName = `sk_ladm_${tag}`;
const adminPassword = `adm-${randomTag(8)}`;
// an admin with the documented grants except SELECT on mysql.user
const blindName = `sk_lbld_${tag}`;
const blindPassword = `adm-${randomTag(8)}`;
let root: mysql.Connection;
let provider: CredentialProvider;

/**
 * The lease admin's grants exactly as docs/leases.md writes them for MariaDB (its
 * `GRANT CREATE USER, …; …; GRANT role TO a WITH ADMIN OPTION` example), as statements for
 * `?@?` = the admin, the role statement once per role: the admin of these tests holds those and
 * nothing more, so a privilege the lease code needs and the docs leave out fails them.
 */
function documentedAdminGrants(roles: string[]): string[] {
  const doc = readFileSync('docs/leases.md', 'utf8');
  const example = /`(GRANT CREATE USER[^`]*)`/.exec(doc)?.[1];
  assert.ok(example !== undefined, 'docs/leases.md has the MariaDB lease admin\'s GRANT statements in one code span');
  const statements = example.replace(/\s+/g, ' ').split(';').map((x) => x.trim()).filter((x) => x !== '');
  return statements.flatMap((statement) => {
    if (statement === 'GRANT role TO a WITH ADMIN OPTION') return roles.map((role) => `GRANT ${mysql.escapeId(role, true)} TO ?@? WITH ADMIN OPTION`);
    const m = /^(GRANT .+ ON \S+) TO a$/.exec(statement);
    assert.ok(m !== null, `docs/leases.md: "${statement}" reads as GRANT … ON … TO a`);
    return [`${m[1]} TO ?@?`];
  });
}
const readsAccounts = (statement: string): boolean => /\bON mysql\.user\b/.test(statement);

const connectAs = (user: string, password: string): Promise<mysql.Connection> =>
  mysql.createConnection({ host: server.host, port: server.port, user, password, database: db });

before(async () => {
  root = await mysql.createConnection({ host: server.host, port: server.port, user: server.username || 'root', password: server.password });
  await root.query(`CREATE DATABASE ${mysql.escapeId(db)}`);
  await root.query(`CREATE TABLE ${mysql.escapeId(db)}.items (n int)`);
  await root.query(`INSERT INTO ${mysql.escapeId(db)}.items VALUES (1)`);
  for (const role of [reader, weird]) {
    await root.query(`CREATE ROLE ${mysql.escapeId(role, true)}`);
    await root.query(`GRANT SELECT ON ${mysql.escapeId(db)}.items TO ${mysql.escapeId(role, true)}`);
  }
  const grants = documentedAdminGrants([reader, weird]);
  await root.query('CREATE USER ?@? IDENTIFIED BY ?', [adminName, '%', adminPassword]);
  for (const grant of grants) await root.query(grant, [adminName, '%']);
  await root.query('CREATE USER ?@? IDENTIFIED BY ?', [blindName, '%', blindPassword]);
  for (const grant of grants.filter((g) => !readsAccounts(g))) await root.query(grant, [blindName, '%']);
  const admin: DatabaseSecret = { host: server.host, port: String(server.port), username: adminName, password: adminPassword };
  provider = withSanitizer(mysqlProvider());
  await provider.initialize({ admin, target: { host: server.host, port: String(server.port), username: `${prefix}probe`, database: db } });
});
after(async () => {
  await provider?.close();
  const [rows] = await root.query('SELECT User AS u, Host AS h FROM mysql.user WHERE LEFT(User, CHAR_LENGTH(?)) = ?', [prefix, prefix]);
  for (const r of rows as { u: string; h: string }[]) await root.query('DROP USER IF EXISTS ?@?', [r.u, r.h]).catch(() => undefined);
  for (const name of [adminName, blindName]) await root?.query('DROP USER IF EXISTS ?@?', [name, '%']).catch(() => undefined);
  for (const role of [reader, weird]) await root?.query(`DROP ROLE IF EXISTS ${mysql.escapeId(role, true)}`).catch(() => undefined);
  await root?.query(`DROP DATABASE IF EXISTS ${mysql.escapeId(db)}`).catch(() => undefined);
  await root?.end();
});

async function errnoOf(run: Promise<unknown>): Promise<number | string> {
  try {
    await run;
  } catch (err) {
    return (err as { errno?: number; code?: string }).errno ?? String((err as { code?: string }).code);
  }
  return 'succeeded';
}

const exists = async (user: string): Promise<boolean> => {
  const [rows] = await root.query('SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?', [user, '%']);
  return (rows as unknown[]).length === 1;
};

describe('mysql leases (MariaDB)', () => {
  test('the documented admin privileges include reading the account list, and nothing more than listed is granted', async () => {
    const grants = documentedAdminGrants([reader]);
    assert.equal(grants.filter(readsAccounts).length, 1, `docs/leases.md grants SELECT on mysql.user once: ${grants.join('; ')}`);
    const [rows] = await root.query('SHOW GRANTS FOR ?@?', [adminName, '%']);
    // (the password hash SHOW GRANTS prints is left out of the messages)
    const shown = (rows as Record<string, string>[]).map((r) => String(Object.values(r)[0]).replace(/ IDENTIFIED BY PASSWORD '[^']*'/, ''));
    assert.ok(!shown.some((g) => /ALL PRIVILEGES|WITH GRANT OPTION/.test(g)), `the test admin holds only the documented grants: ${shown.join('; ')}`);
    assert.ok(shown.some((g) => /^GRANT SELECT \((`Host`, `User`|`User`, `Host`)\) ON `mysql`\.`user` /.test(g)), `SELECT (User, Host) ON mysql.user is granted: ${shown.join('; ')}`);
  });

  test('with exactly the documented privileges: create → the login works → it is listed → drop → gone from the list and refused', async () => {
    const own = `sk${randomTag(3)}_`;
    const username = `${own}doc_${randomTag(3)}`;
    const password = `pw-${randomTag(12)}`;
    await provider.createLogin!({ username, password, grant: { grantRole: reader }, validUntil: Date.now() + 3_600_000 });
    const open = await connectAs(username, password);
    open.on('error', () => undefined);
    try {
      assert.deepEqual((await open.query('SELECT n FROM items'))[0], [{ n: 1 }]);
      assert.deepEqual(await provider.listLogins!({ prefix: own }), [username]);
      await provider.dropLogin!({ username });
      assert.notEqual(await errnoOf(open.query('SELECT n FROM items')), 'succeeded', 'the open session was killed');
    } finally {
      open.destroy(); // also when a step failed: an open connection would keep the test process alive
    }
    assert.deepEqual(await provider.listLogins!({ prefix: own }), []);
    assert.equal(await exists(username), false);
    await expectCode(provider.verify({ username, password }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password], 'a dropped login');
  });

  test('an admin without SELECT on mysql.user: drop and list fail with a hint naming that grant, not CREATE USER', async () => {
    const blind = withSanitizer(mysqlProvider());
    const admin: DatabaseSecret = { host: server.host, port: String(server.port), username: blindName, password: blindPassword };
    await blind.initialize({ admin, target: { host: server.host, port: String(server.port), username: `${prefix}probe`, database: db } });
    const username = `${prefix}blind_${randomTag(3)}`;
    const password = `pw-${randomTag(12)}`;
    try {
      // creating reads no account table: it works without the grant
      await blind.createLogin!({ username, password, grant: { grantRole: reader }, validUntil: 0 });
      const secrets = [password, blindPassword];
      for (const [what, run] of [['drop', () => blind.dropLogin!({ username })], ['list', () => blind.listLogins!({ prefix })]] as const) {
        const err = await expectCode(run(), 'SK_ERR_PROVIDER_PRIVILEGE', secrets, `${what} without SELECT on mysql.user`);
        assert.match(err.message, new RegExp(`run GRANT SELECT ON \`mysql\`\\.\`user\` TO 'sk_lbld_${tag}'@'%'$`), `${what}: ${err.message}`);
        assert.match(err.message, /lacks the SELECT privilege on `mysql`\.`user`/, `${what}: ${err.message}`);
        assert.doesNotMatch(err.message, /CREATE USER ON/, `${what}: the admin has CREATE USER already`);
      }
      assert.equal(await exists(username), true, 'nothing was dropped');
    } finally {
      await blind.close();
      await provider.dropLogin!({ username });
    }
  });

  test('the 1142 hint follows the server\'s message: MariaDB\'s `schema`.`table`, MySQL 8\'s bare table, else the general hint', () => {
    assert.deepEqual(deniedTableAccess("SELECT command denied to user 'a'@'10.0.0.5' for table `mysql`.`user`"), { command: 'SELECT', schema: 'mysql', table: 'user' });
    assert.deepEqual(deniedTableAccess("UPDATE command denied to user 'o''dd'@'%' for table `my``db`.`t`"), { command: 'UPDATE', schema: 'my`db', table: 't' });
    assert.deepEqual(deniedTableAccess("SELECT command denied to user 'a'@'localhost' for table 'user'"), { command: 'SELECT', table: 'user' });
    assert.equal(deniedTableAccess('Zugriff verweigert'), undefined);
    const ctx = { step: 'lease', engine: 'MySQL', endpoint: 'db:3306', account: "'sk1_x'@'%'", admin: "'adm'@'%'", statement: 'SELECT COUNT', secrets: ['s3cret'] } as const;
    const fail = (sqlMessage: string) => mysqlError(Object.assign(new Error(sqlMessage), { errno: 1142, sqlState: '42000', sqlMessage, sql: "ALTER USER 'x' IDENTIFIED BY 's3cret'" }), ctx);
    assert.match(fail("SELECT command denied to user 'adm'@'%' for table 'user'").message, /run GRANT SELECT ON <schema>\.`user` TO 'adm'@'%' \(with the schema of table `user`\)$/);
    const general = fail('Zugriff verweigert');
    assert.equal(general.code, 'SK_ERR_PROVIDER_PRIVILEGE');
    assert.match(general.message, /run GRANT CREATE USER ON \*\.\* TO 'adm'@'%'$/);
    assert.doesNotMatch(JSON.stringify({ m: general.message, c: String(general.cause) }), /s3cret/);
    // Ending a session (1095) needs CONNECTION ADMIN; MariaDB's SET DEFAULT ROLE … FOR (1044) needs UPDATE on mysql.*.
    const refused = (errno: number, statement: string) => mysqlError(Object.assign(new Error('denied'), { errno, sqlState: '42000', sqlMessage: 'denied' }), { ...ctx, statement });
    assert.match(refused(1095, 'KILL CONNECTION').message, /run GRANT CONNECTION ADMIN ON \*\.\* TO 'adm'@'%'/);
    assert.equal(refused(1095, 'KILL CONNECTION').code, 'SK_ERR_PROVIDER_PRIVILEGE');
    assert.match(refused(1044, 'SET DEFAULT').message, /run GRANT UPDATE ON mysql\.\* TO 'adm'@'%'/);
    assert.match(refused(1044, 'CREATE USER').message, /run GRANT CREATE USER ON \*\.\* TO 'adm'@'%'$/);
  });

  test('a leased account has the role active by default: it reads the table, a write outside the grant is refused by the server', async () => {
    const username = `${prefix}app_${randomTag(3)}`;
    const password = `pw-${randomTag(12)}'"\\`;
    await provider.createLogin!({ username, password, grant: { grantRole: reader }, validUntil: Date.now() + 3_600_000 });
    await provider.verify({ username, password });
    const c = await connectAs(username, password);
    try {
      const [rows] = await c.query('SELECT n FROM items');
      assert.deepEqual(rows, [{ n: 1 }], 'SELECT works through the default role, without SET ROLE');
      assert.equal(await errnoOf(c.query('INSERT INTO items VALUES (2)')), 1142, 'INSERT is outside the grant');
      assert.equal(await errnoOf(c.query('CREATE USER x_should_not_exist')), 1227, 'no CREATE USER');
    } finally {
      await c.end();
    }
    await expectCode(provider.verify({ username, password: 'wrong' }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password], 'a wrong password');
  });

  test('create is idempotent: a second create sets the new password and the old one is refused', async () => {
    const username = `${prefix}idem_${randomTag(3)}`;
    const first = `pw-${randomTag(12)}`;
    const second = `pw-${randomTag(12)}`;
    await provider.createLogin!({ username, password: first, grant: { grantRole: reader }, validUntil: Date.now() + 3_600_000 });
    await provider.createLogin!({ username, password: second, grant: { grantRole: reader }, validUntil: Date.now() + 3_600_000 });
    await provider.verify({ username, password: second });
    await expectCode(provider.verify({ username, password: first }), 'SK_ERR_PROVIDER_AUTH_FAILED', [first, second], 'the first password');
  });

  test('drop KILLs an open session of the account (DROP USER alone would leave it running) and the login then fails', async () => {
    const username = `${prefix}drop_${randomTag(3)}`;
    const password = `pw-${randomTag(12)}`;
    await provider.createLogin!({ username, password, grant: { grantRole: reader }, validUntil: Date.now() + 3_600_000 });
    const open = await connectAs(username, password);
    open.on('error', () => undefined);
    try {
      await open.query('SELECT n FROM items');
      await provider.dropLogin!({ username });
      assert.notEqual(await errnoOf(open.query('SELECT n FROM items')), 'succeeded', 'the open session was killed');
    } finally {
      open.destroy();
    }
    assert.equal(await exists(username), false, 'the account is gone');
    await expectCode(provider.verify({ username, password }), 'SK_ERR_PROVIDER_AUTH_FAILED', [password], 'a dropped account');
    await provider.dropLogin!({ username });
    await provider.dropLogin!({ username: `${prefix}never_${randomTag(3)}` });
  });

  test('listLogins returns exactly the accounts with the prefix, sorted', async () => {
    const own = `sk${randomTag(3)}_`;
    const names = [`${own}b`, `${own}a`];
    for (const username of names) await provider.createLogin!({ username, password: `pw-${randomTag(8)}`, grant: { grantRole: reader }, validUntil: 0 });
    try {
      assert.deepEqual(await provider.listLogins!({ prefix: own }), [`${own}a`, `${own}b`]);
    } finally {
      for (const username of names) await provider.dropLogin!({ username });
    }
    assert.deepEqual(await provider.listLogins!({ prefix: own }), []);
  });

  test('odd names are escaped with the driver: a role with a quote, a backtick, a semicolon and a dot', async () => {
    const username = `${prefix}q'x_${randomTag(2)}`;
    const password = `pw-${randomTag(8)}'; DROP DATABASE ${db}; --`;
    await provider.createLogin!({ username, password, grant: { grantRole: weird }, validUntil: 0 });
    const c = await connectAs(username, password);
    try {
      const [rows] = await c.query('SELECT count(*) AS n FROM items');
      assert.equal(Number((rows as { n: number }[])[0]?.n), 1);
    } finally {
      await c.end();
    }
    await provider.dropLogin!({ username });
    assert.equal(await exists(username), false);
  });

  test('a name over MySQL 8\'s 32 characters, or a grant without grantRole, is a config error and nothing is created', async () => {
    const long = `${prefix}${'x'.repeat(40)}`;
    await expectCode(provider.createLogin!({ username: long, password: 'pw-1', grant: { grantRole: reader }, validUntil: 0 }), 'SK_ERR_PROVIDER_CONFIG', [], 'a long name');
    const username = `${prefix}nogrant`;
    await expectCode(provider.createLogin!({ username, password: 'pw-1', grant: { memberOf: reader }, validUntil: 0 }), 'SK_ERR_PROVIDER_CONFIG', [], 'no grantRole');
    assert.equal(await exists(long), false);
    assert.equal(await exists(username), false);
  });
});
