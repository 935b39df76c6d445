// Leased logins on MariaDB (providers/mysql/mysql-leases.ts), on the real server at MYSQL_URL.
// MySQL 8's DEFAULT ROLE statement differs and is not exercised here (no MySQL 8 server).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { expectCode } from '../../providers/conformance.js';
import { mysqlProvider } from '../../providers/mysql/index.js';
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
let root: mysql.Connection;
let provider: CredentialProvider;

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
  await root.query('CREATE USER ?@? IDENTIFIED BY ?', [adminName, '%', adminPassword]);
  await root.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [adminName, '%']);
  for (const role of [reader, weird]) await root.query(`GRANT ${mysql.escapeId(role, true)} TO ?@? WITH ADMIN OPTION`, [adminName, '%']);
  const admin: DatabaseSecret = { host: server.host, port: String(server.port), username: adminName, password: adminPassword };
  provider = withSanitizer(mysqlProvider());
  await provider.initialize({ admin, target: { host: server.host, port: String(server.port), username: `${prefix}probe`, database: db } });
});
after(async () => {
  await provider?.close();
  const [rows] = await root.query('SELECT User AS u, Host AS h FROM mysql.user WHERE LEFT(User, CHAR_LENGTH(?)) = ?', [prefix, prefix]);
  for (const r of rows as { u: string; h: string }[]) await root.query('DROP USER IF EXISTS ?@?', [r.u, r.h]).catch(() => undefined);
  await root?.query('DROP USER IF EXISTS ?@?', [adminName, '%']).catch(() => undefined);
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
    await open.query('SELECT n FROM items');
    await provider.dropLogin!({ username });
    assert.notEqual(await errnoOf(open.query('SELECT n FROM items')), 'succeeded', 'the open session was killed');
    open.destroy();
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
