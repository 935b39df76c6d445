// MySQL / MariaDB specifics beyond the conformance suite, on the real server (MYSQL_URL).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { expectCode } from '../../providers/conformance.js';
import { keepBackslashEscapes, mysqlProvider } from '../../providers/mysql/mysql-provider.js';
import { canAlterUsers } from '../../providers/mysql/mysql-preflight.js';
import type { CredentialProvider, DatabaseSecret } from '../../providers/provider.js';
import { assertReachable, mysqlUrl, parseServiceUrl, randomTag, startMariadbServer, type MariadbServer } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const url = mysqlUrl();
await assertReachable('mysql', url);
const server = parseServiceUrl(url);
let root: mysql.Connection;
let mariadb = false;
const accounts: [string, string][] = [];

const connectAs = (user: string, password: string): Promise<mysql.Connection> =>
  mysql.createConnection({ host: server.host, port: server.port, user, password });

before(async () => {
  root = await connectAs(server.username || 'root', server.password);
  const [rows] = await root.query('SELECT VERSION() AS v');
  mariadb = /mariadb/i.test(String((rows as { v: string }[])[0]?.v));
});
after(async () => {
  for (const [user, host] of accounts) await root?.query('DROP USER IF EXISTS ?@?', [user, host]).catch(() => undefined);
  await root?.end();
});

async function account(host = '%', extra = ''): Promise<{ name: string; password: string; secret: DatabaseSecret }> {
  const name = `sk_t_${randomTag()}`;
  const password = `pw-${randomTag(10)}`;
  accounts.push([name, host]);
  await root.query(`CREATE USER ?@? IDENTIFIED BY ? ${extra}`, [name, host, password]);
  return { name, password, secret: { host: server.host, port: String(server.port), username: name, password } };
}

async function admin(grants: string[]): Promise<DatabaseSecret> {
  const a = await account();
  for (const g of grants) await root.query(`GRANT ${g} TO ?@?`, [a.name, '%']);
  return a.secret;
}

async function withProvider(adminSecret: DatabaseSecret, target: DatabaseSecret, run: (p: CredentialProvider) => Promise<void>): Promise<void> {
  const provider = mysqlProvider();
  try {
    await provider.initialize({ admin: adminSecret, target });
    await run(provider);
  } finally {
    await provider.close();
  }
}

describe('mysql provider on the real server', () => {
  test('the server enforces passwords for TCP logins of these accounts (otherwise the suite proves nothing)', async () => {
    const a = await account();
    await assert.rejects(connectAs(a.name, `${a.password}-wrong`), (err: unknown) => (err as { errno?: number }).errno === 1045);
    await (await connectAs(a.name, a.password)).end();
  });

  test('under NO_BACKSLASH_ESCAPES a quoted password would break the statement; the admin session drops that mode first', async () => {
    const a = await account();
    const hostile = `it's a \\'trap\\' ; -- ${randomTag()}`;
    const conn = await connectAs(server.username || 'root', server.password);
    try {
      await conn.query("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES')");
      // the hazard is real: mysql2 quotes with backslashes, which this mode reads literally
      await assert.rejects(conn.query('ALTER USER ?@? IDENTIFIED BY ?', [a.name, '%', hostile]));
      const [rows] = await conn.query('SELECT @@SESSION.sql_mode AS m');
      await keepBackslashEscapes(conn, String((rows as { m: string }[])[0]?.m));
      await conn.query('ALTER USER ?@? IDENTIFIED BY ?', [a.name, '%', hostile]);
    } finally {
      await conn.end();
    }
    await (await connectAs(a.name, hostile)).end();
  });

  test('accountHost selects the account: a user at 127.0.0.1 is rotated only when the secret says so', async () => {
    const adminSecret = await admin(['CREATE USER ON *.*']);
    const a = await account('127.0.0.1');
    const next = `host-${randomTag(10)}`;
    await withProvider(adminSecret, a.secret, async (p) => {
      await expectCode(p.setPassword({ username: a.name, password: next }), 'SK_ERR_PROVIDER_USER_NOT_FOUND', [next], "the '%' account that does not exist");
    });
    await withProvider(adminSecret, { ...a.secret, accountHost: '127.0.0.1' }, async (p) => {
      await p.setPassword({ username: a.name, password: next });
      await p.verify({ username: a.name, password: next });
    });
  });

  test('on MariaDB, adding and discarding a second password are refused with a pointer to alternating', async () => {
    const adminSecret = await admin(['CREATE USER ON *.*']);
    const a = await account();
    await withProvider(adminSecret, a.secret, async (p) => {
      if (!mariadb) {
        assert.ok(p.addPassword !== undefined && p.discardRetained !== undefined);
        return;
      }
      assert.ok(p.addPassword !== undefined && p.discardRetained !== undefined, 'the mysql provider serves MySQL 8 too');
      const err = await expectCode(p.addPassword({ username: a.name, password: 'dual-x-123456' }), 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', ['dual-x-123456'], 'dual');
      assert.ok(err.message.includes('alternating'), err.message);
      await expectCode(p.discardRetained({ username: a.name }), 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', [a.password], 'discard');
      await p.verify({ username: a.name, password: a.password });
    });
  });

  test('preflight reports a locked account, and an admin that cannot read the account table', async () => {
    const table = mariadb ? 'mysql.global_priv' : 'mysql.user';
    const full = await admin(['CREATE USER ON *.*', `SELECT ON ${table}`]);
    const locked = await account('%', 'ACCOUNT LOCK');
    await withProvider(full, locked.secret, async (p) => {
      const res = await p.preflight?.({ usernames: [locked.name], strategy: 'single' });
      assert.ok(res?.problems.some((x) => x.includes(locked.name) && x.includes('ACCOUNT UNLOCK')), res?.problems.join(' | '));
    });
    const blind = await admin(['CREATE USER ON *.*']);
    const a = await account();
    await withProvider(blind, a.secret, async (p) => {
      const res = await p.preflight?.({ usernames: [a.name], strategy: 'single' });
      assert.equal(res?.problems.length, 1, res?.problems.join(' | '));
      assert.ok(res?.problems[0]?.includes(`GRANT SELECT ON ${table}`), res?.problems[0]);
    });
  });
});

describe('mysql provider: an admin connection the server closes (what the agent pool asks before lending a kept provider)', () => {
  test('isConnected() is true after initialize() and false once the server killed the admin connection', async () => {
    const adminSecret = await admin(['CREATE USER ON *.*']);
    const a = await account();
    const p = mysqlProvider();
    try {
      assert.equal(p.isConnected?.(), false, 'not connected before initialize()');
      await p.initialize({ admin: adminSecret, target: a.secret });
      assert.equal(p.isConnected?.(), true, 'connected after initialize()');
      const [rows] = await root.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?', [adminSecret['username']]);
      const ids = (rows as { id: number }[]).map((r) => Number(r.id));
      assert.equal(ids.length, 1, 'one admin connection');
      await root.query(`KILL ${ids[0]}`);
      await waitFor(() => p.isConnected?.() === false, { what: 'isConnected() to turn false', timeoutMs: 10_000, intervalMs: 20 });
      assert.equal(p.isConnected?.(), false);
      await p.initialize({ admin: adminSecret, target: a.secret });
      assert.equal(p.isConnected?.(), true, 'connected again after a new initialize()');
    } finally {
      await p.close();
    }
    assert.equal(p.isConnected?.(), false, 'not connected after close()');
  });
});

describe('reading SHOW GRANTS', () => {
  test('CREATE USER, ALL PRIVILEGES or UPDATE globally, or UPDATE on mysql.*, allow ALTER USER', () => {
    assert.equal(canAlterUsers(["GRANT CREATE USER ON *.* TO `a`@`%` IDENTIFIED BY PASSWORD '*AB'"]).allowed, true);
    assert.equal(canAlterUsers(['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION']).allowed, true);
    assert.equal(canAlterUsers(['GRANT SELECT, INSERT, UPDATE ON *.* TO `a`@`%`']).allowed, true);
    assert.equal(canAlterUsers(['GRANT SELECT, UPDATE ON `mysql`.* TO `a`@`%`']).allowed, true);
  });
  test('privileges elsewhere, or only through roles, do not', () => {
    assert.equal(canAlterUsers(['GRANT USAGE ON *.* TO `a`@`%`', 'GRANT ALL PRIVILEGES ON `app`.* TO `a`@`%`']).allowed, false);
    assert.equal(canAlterUsers(['GRANT SELECT ON `mysql`.* TO `a`@`%`']).allowed, false);
    assert.deepEqual(canAlterUsers(['GRANT USAGE ON *.* TO `a`@`%`', 'GRANT `rotator`@`%` TO `a`@`%`']), { allowed: false, viaRoles: true });
  });
});

describe('mysql provider over TLS (a private MariaDB with a self-signed certificate for "localhost")', () => {
  let tlsServer: MariadbServer;
  const adminPassword = `adm-${randomTag(10)}`;
  let appPassword = `app-${randomTag(10)}`;
  before(async () => {
    tlsServer = await startMariadbServer();
    const c = await mysql.createConnection({ socketPath: tlsServer.socketPath, user: 'root' });
    try {
      // REQUIRE SSL: these accounts cannot log in without TLS, so a rotation that works went over it
      await c.query('CREATE USER ?@? IDENTIFIED BY ? REQUIRE SSL', ['sk_admin', '%', adminPassword]);
      await c.query('GRANT CREATE USER ON *.* TO ?@?', ['sk_admin', '%']);
      await c.query('CREATE USER ?@? IDENTIFIED BY ? REQUIRE SSL', ['app', '%', appPassword]);
    } finally {
      await c.end();
    }
  });
  after(async () => {
    await tlsServer?.stop();
  });
  const secrets = (over: Record<string, string>): { admin: DatabaseSecret; target: DatabaseSecret } => ({
    admin: { host: '127.0.0.1', port: String(tlsServer.port), username: 'sk_admin', password: adminPassword, ...over },
    target: { host: '127.0.0.1', port: String(tlsServer.port), username: 'app', password: appPassword, ...over },
  });

  test('tls require encrypts without checking the certificate; verify-full checks it against caFile and the host name', async () => {
    const { admin, target } = secrets({ tls: 'disable' });
    await expectCode(mysqlProvider().initialize({ admin, target }), 'SK_ERR_PROVIDER_AUTH_FAILED', [adminPassword], 'REQUIRE SSL without TLS');
    const modes: Record<string, string>[] = [{ tls: 'require' }, { tls: 'verify-full', caFile: tlsServer.caFile, host: 'localhost' }];
    for (const over of modes) {
      const s = secrets(over);
      await withProvider(s.admin, s.target, async (p) => {
        const next = `tls-${randomTag(10)}`;
        await p.setPassword({ username: 'app', password: next });
        await p.verify({ username: 'app', password: next });
        appPassword = next;
      });
    }
  });

  test('verify-full refuses a certificate it cannot trust, and an IP address whose name the driver would not check', async () => {
    const cases: [string, Record<string, string>, 'SK_ERR_PROVIDER_TLS' | 'SK_ERR_PROVIDER_CONFIG'][] = [
      ['no caFile for a self-signed certificate', { tls: 'verify-full', host: 'localhost' }, 'SK_ERR_PROVIDER_TLS'],
      // mysql2 would accept this certificate (for "localhost") on 127.0.0.1: the provider refuses first
      ['an IP address as host', { tls: 'verify-full', caFile: tlsServer.caFile, host: '127.0.0.1' }, 'SK_ERR_PROVIDER_CONFIG'],
    ];
    for (const [what, over, code] of cases) {
      const p = mysqlProvider();
      const { admin, target } = secrets(over);
      await expectCode(p.initialize({ admin, target }), code, [adminPassword], what);
      await p.close();
    }
  });
});

describe('mysql provider statements held up by a lock (a private MariaDB: the lock would stall every other test of the shared one)', () => {
  let lockServer: MariadbServer;
  const adminPassword = `adm-${randomTag(10)}`;
  let appPassword = `app-${randomTag(10)}`;
  const role = `lease_ro_${randomTag()}`;
  let admin: DatabaseSecret;
  let target: DatabaseSecret;
  const asRoot = (): Promise<mysql.Connection> => mysql.createConnection({ socketPath: lockServer.socketPath, user: 'root' });

  before(async () => {
    lockServer = await startMariadbServer();
    const c = await asRoot();
    try {
      await c.query('CREATE USER ?@? IDENTIFIED BY ?', ['sk_admin', '%', adminPassword]);
      await c.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', ['sk_admin', '%']);
      await c.query(`CREATE ROLE ${mysql.escapeId(role)}`);
      await c.query(`GRANT ${mysql.escapeId(role)} TO ?@? WITH ADMIN OPTION`, ['sk_admin', '%']);
      await c.query('CREATE USER ?@? IDENTIFIED BY ?', ['app', '%', appPassword]);
    } finally {
      await c.end();
    }
    admin = { host: '127.0.0.1', port: String(lockServer.port), username: 'sk_admin', password: adminPassword };
    target = { host: '127.0.0.1', port: String(lockServer.port), username: 'app', password: appPassword };
  });
  after(async () => {
    await lockServer?.stop();
  });

  /** Runs `body` while a second session holds FLUSH TABLES WITH READ LOCK (every ALTER/CREATE USER waits on it). */
  async function underReadLock(body: () => Promise<void>): Promise<void> {
    const locker = await asRoot();
    try {
      await locker.query('FLUSH TABLES WITH READ LOCK');
      await body();
    } finally {
      await locker.query('UNLOCK TABLES').catch(() => undefined);
      await locker.end();
    }
  }

  test('ALTER USER waiting on a global read lock fails with SK_ERR_PROVIDER_CONNECT after the statement timeout; a new initialize() works', { timeout: 60_000 }, async () => {
    const p = mysqlProvider({ statementTimeoutMs: 500 });
    const blocked = `blocked-${randomTag(10)}`;
    try {
      await p.initialize({ admin, target });
      await underReadLock(async () => {
        assert.equal(p.isConnected?.(), true, 'connected before the statement that times out');
        const err = await expectCode(p.setPassword({ username: 'app', password: blocked }), 'SK_ERR_PROVIDER_CONNECT', [blocked, adminPassword], 'ALTER USER under FLUSH TABLES WITH READ LOCK');
        assert.ok(err.message.includes("changing the password of 'app'@'%' (ALTER USER)") && err.message.includes('500 ms'), err.message);
        assert.equal(p.isConnected?.(), false, 'the timeout dropped the admin session');
        // the session was dropped with its connection: the next call says so, sending nothing
        const again = await expectCode(p.setPassword({ username: 'app', password: blocked }), 'SK_ERR_PROVIDER_CONNECT', [blocked, adminPassword], 'a call after the timeout');
        assert.ok(again.message.includes('initialize()'), again.message);
      });
      // the lock released, the same provider connects again and rotates
      const next = `next-${randomTag(10)}`;
      await p.initialize({ admin, target });
      await p.setPassword({ username: 'app', password: next });
      await p.verify({ username: 'app', password: next });
      appPassword = next;
    } finally {
      await p.close();
    }
  });

  test('a leased login created under a global read lock fails with SK_ERR_PROVIDER_CONNECT; after initialize() it is created', { timeout: 60_000 }, async () => {
    const p = mysqlProvider({ statementTimeoutMs: 500 });
    const username = `sklock_${randomTag(8)}`;
    const password = `lease-${randomTag(10)}`;
    const lease = { username, password, grant: { grantRole: role }, validUntil: Date.now() + 3_600_000 };
    try {
      await p.initialize({ admin, target: { ...target, password: appPassword } });
      assert.ok(p.createLogin !== undefined && p.listLogins !== undefined && p.dropLogin !== undefined);
      await underReadLock(async () => {
        const err = await expectCode(p.createLogin!(lease), 'SK_ERR_PROVIDER_CONNECT', [password, adminPassword], 'CREATE USER under FLUSH TABLES WITH READ LOCK');
        assert.ok(err.message.includes('(CREATE USER)'), err.message);
        await expectCode(p.listLogins!({ prefix: 'sklock_' }), 'SK_ERR_PROVIDER_CONNECT', [adminPassword], 'a lease call after the timeout');
      });
      await p.initialize({ admin, target: { ...target, password: appPassword } });
      await p.createLogin!(lease);
      const login = await mysql.createConnection({ host: '127.0.0.1', port: lockServer.port, user: username, password });
      await login.end();
      await p.dropLogin!({ username });
    } finally {
      await p.close();
    }
  });
});
