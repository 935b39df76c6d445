/**
 * One fixture per engine for the leased-credential tests (issue "Leased credentials"): a real
 * server that enforces passwords and privileges, an admin that may create and drop logins, the
 * role (or ACL) a leased login gets, and the checks the tests make with a lease's fields: does it
 * log in, may it do what the role grants, is a write outside the grant refused by the database,
 * and does an open session die when the lease ends.
 *
 * PostgreSQL runs on the scram cluster (the machine's own PostgreSQL trusts every login), MySQL on
 * the MariaDB at MYSQL_URL, Redis on the Redis at REDIS_URL.
 */
import pg from 'pg';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import { scramCluster } from './pg-scram-cluster.js';
import { mysqlUrl, parseServiceUrl, randomTag, redisUrl } from './services.js';

export type LeaseEngine = 'postgres' | 'mysql' | 'redis';

/** An open connection as a leased login, to see it closed when the lease ends. */
export interface LeaseSession {
  /** Resolves true while the connection still answers a query, false once the server closed it. */
  alive(): Promise<boolean>;
  close(): Promise<void>;
}

export interface LeaseFixture {
  engine: LeaseEngine;
  /** The admin secret's fields. */
  admin: Record<string, string>;
  /** `sikkerkey lease-role create` arguments naming what a leased login gets. */
  grantArgs: string[];
  /** Does this login log in? (false: refused; throws on anything else) */
  login(fields: Record<string, string>): Promise<boolean>;
  /** The granted read; throws when it fails. */
  read(fields: Record<string, string>): Promise<void>;
  /** A write outside the grant: resolves to the database's refusal code (throws if it was allowed). */
  writeOutside(fields: Record<string, string>): Promise<string>;
  openSession(fields: Record<string, string>): Promise<LeaseSession>;
  /** PostgreSQL only: the login's VALID UNTIL (ms epoch; null: none). */
  validUntil?(username: string): Promise<number | null>;
  /** The logins on the server whose name starts with `prefix`. */
  loginsWithPrefix(prefix: string): Promise<string[]>;
  cleanup(): Promise<void>;
}

const tag = (): string => randomTag(3);

async function postgresLeaseFixture(): Promise<LeaseFixture> {
  const cluster = await scramCluster();
  const role = `sk_ro_${tag()}`;
  const table = `lease_t_${tag()}`;
  const base = { host: cluster.host, port: String(cluster.port), database: 'postgres', tls: 'disable' };
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
    await c.connect();
    try { return await fn(c); } finally { await c.end(); }
  };
  await admin(async (c) => {
    await c.query(`CREATE ROLE ${c.escapeIdentifier(role)} NOLOGIN`);
    await c.query(`CREATE TABLE ${c.escapeIdentifier(table)} (v int)`);
    await c.query(`INSERT INTO ${c.escapeIdentifier(table)} VALUES (1)`);
    await c.query(`GRANT SELECT ON ${c.escapeIdentifier(table)} TO ${c.escapeIdentifier(role)}`);
  });
  const as = (f: Record<string, string>): pg.Client => new pg.Client({
    host: f['host'] ?? cluster.host, port: Number(f['port']), user: f['username'], password: f['password'], database: f['database'] ?? 'postgres', connectionTimeoutMillis: 5000,
  });
  const withLogin = async <T>(f: Record<string, string>, fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = as(f);
    await c.connect();
    try { return await fn(c); } finally { await c.end().catch(() => undefined); }
  };
  return {
    engine: 'postgres',
    admin: { ...base, username: cluster.adminUser, password: cluster.adminPassword },
    grantArgs: ['--member-of', role],
    login: async (f) => {
      try {
        await withLogin(f, (c) => c.query('SELECT 1'));
        return true;
      } catch (err) {
        // 28P01 wrong password / unknown role; 28000 a role whose VALID UNTIL passed or that may not log in
        if (['28P01', '28000'].includes((err as { code?: string }).code ?? '')) return false;
        throw err;
      }
    },
    read: async (f) => { await withLogin(f, (c) => c.query(`SELECT v FROM ${c.escapeIdentifier(table)}`)); },
    writeOutside: (f) => withLogin(f, async (c) => {
      try {
        await c.query(`INSERT INTO ${c.escapeIdentifier(table)} VALUES (2)`);
      } catch (err) {
        return (err as { code?: string }).code ?? 'error';
      }
      throw new Error('the leased login could write outside its grant');
    }),
    openSession: async (f) => {
      const c = as(f);
      let dead = false;
      c.on('error', () => { dead = true; });
      await c.connect();
      return {
        alive: async () => {
          if (dead) return false;
          try { await c.query('SELECT 1'); return true; } catch { return false; }
        },
        close: () => c.end().catch(() => undefined),
      };
    },
    validUntil: (username) => admin(async (c) => {
      const r = await c.query<{ v: Date | null }>('SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1', [username]);
      return r.rows[0]?.v ? r.rows[0].v.getTime() : null;
    }),
    loginsWithPrefix: (prefix) => admin(async (c) => (await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY 1', [prefix])).rows.map((r) => r.rolname)),
    cleanup: () => admin(async (c) => {
      // Only the leased logins the test left (sk<vault id>_…; a superuser is a "member" of every role).
      const left = (await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname ~ \'^sk[0-9a-f]{6}_\' AND pg_has_role(rolname, $1, \'MEMBER\')', [role])).rows;
      for (const r of left) {
        await c.query(`REASSIGN OWNED BY ${c.escapeIdentifier(r.rolname)} TO ${c.escapeIdentifier(cluster.adminUser)}`);
        await c.query(`DROP OWNED BY ${c.escapeIdentifier(r.rolname)}`);
        await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(r.rolname)}`);
      }
      await c.query(`DROP TABLE IF EXISTS ${c.escapeIdentifier(table)}`);
      await c.query(`DROP OWNED BY ${c.escapeIdentifier(role)}`);
      await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(role)}`);
    }),
  };
}

async function mysqlLeaseFixture(): Promise<LeaseFixture> {
  const a = parseServiceUrl(mysqlUrl());
  const adminUser = `sk_ladm_${tag()}`;
  const adminPassword = `adm-${randomTag(8)}`;
  const role = `sk_ro_${tag()}`;
  const table = `lease_t_${tag()}`;
  const root = async <T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> => {
    const c = await mysql.createConnection({ host: a.host, port: a.port, user: a.username ?? 'root', password: a.password ?? '' });
    try { return await fn(c); } finally { await c.end(); }
  };
  await root(async (c) => {
    await c.query(`CREATE TABLE test.${c.escapeId(table)} (v int)`);
    await c.query(`INSERT INTO test.${c.escapeId(table)} VALUES (1)`);
    await c.query(`CREATE ROLE ${c.escapeId(role)}`);
    await c.query(`GRANT SELECT ON test.${c.escapeId(table)} TO ${c.escapeId(role)}`);
    // What a lease admin needs (docs/leases.md): create/drop users, give the role and make it the
    // default (MariaDB's SET DEFAULT ROLE … FOR writes to the mysql schema), see and end sessions.
    await c.query('CREATE USER ?@? IDENTIFIED BY ?', [adminUser, '%', adminPassword]);
    await c.query('GRANT CREATE USER, PROCESS, CONNECTION ADMIN, SELECT ON *.* TO ?@?', [adminUser, '%']);
    await c.query('GRANT UPDATE ON mysql.* TO ?@?', [adminUser, '%']);
    await c.query(`GRANT ${c.escapeId(role)} TO ?@? WITH ADMIN OPTION`, [adminUser, '%']);
  });
  const base = { host: a.host, port: String(a.port), database: 'test', tls: 'disable' };
  const connect = (f: Record<string, string>): Promise<mysql.Connection> => mysql.createConnection({
    host: f['host'] ?? a.host, port: Number(f['port']), user: f['username'], password: f['password'], database: f['database'] ?? 'test', connectTimeout: 5000,
  });
  const withLogin = async <T>(f: Record<string, string>, fn: (c: mysql.Connection) => Promise<T>): Promise<T> => {
    const c = await connect(f);
    try { return await fn(c); } finally { await c.end().catch(() => undefined); }
  };
  return {
    engine: 'mysql',
    admin: { ...base, username: adminUser, password: adminPassword },
    grantArgs: ['--grant-role', role],
    login: async (f) => {
      try {
        await withLogin(f, (c) => c.query('SELECT 1'));
        return true;
      } catch (err) {
        // refused: a wrong or dropped login (1045; MariaDB answers some attempts at an account it
        // no longer has with 1698, ER_ACCESS_DENIED_NO_PASSWORD_ERROR — seen here, deterministic for
        // that name once it happens), or one the agent has locked on its way to dropping it (MariaDB 4151)
        const code = (err as { code?: string }).code;
        if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR' || (err as { errno?: number }).errno === 4151) return false;
        throw err;
      }
    },
    read: async (f) => { await withLogin(f, (c) => c.query(`SELECT v FROM ${c.escapeId(table)}`)); },
    writeOutside: (f) => withLogin(f, async (c) => {
      try {
        await c.query(`INSERT INTO ${c.escapeId(table)} VALUES (2)`);
      } catch (err) {
        return (err as { code?: string }).code ?? 'error';
      }
      throw new Error('the leased login could write outside its grant');
    }),
    openSession: async (f) => {
      const c = await connect(f);
      let dead = false;
      c.on('error', () => { dead = true; });
      return {
        alive: async () => {
          if (dead) return false;
          try { await c.query('SELECT 1'); return true; } catch { return false; }
        },
        close: () => c.end().catch(() => undefined),
      };
    },
    loginsWithPrefix: (prefix) => root(async (c) => {
      const [rows] = await c.query('SELECT User AS u FROM mysql.user WHERE LEFT(User, ?) = ? ORDER BY 1', [prefix.length, prefix]);
      return (rows as Array<{ u: string }>).map((r) => r.u);
    }),
    cleanup: () => root(async (c) => {
      // Only the leased logins the test left (sk<vault id>_…): MariaDB also maps a role to the
      // account that created it (root here), which must never be dropped.
      const [rows] = await c.query('SELECT User AS u, Host AS h FROM mysql.roles_mapping WHERE Role = ?', [role]);
      for (const r of rows as Array<{ u: string; h: string }>) {
        if (/^sk[0-9a-f]{6}_/.test(r.u)) await c.query('DROP USER IF EXISTS ?@?', [r.u, r.h]);
      }
      await c.query('DROP USER IF EXISTS ?@?', [adminUser, '%']);
      await c.query(`DROP ROLE IF EXISTS ${c.escapeId(role)}`);
      await c.query(`DROP TABLE IF EXISTS test.${c.escapeId(table)}`);
    }),
  };
}

async function redisLeaseFixture(): Promise<LeaseFixture> {
  const a = parseServiceUrl(redisUrl());
  const adminUser = `sk_ladm_${tag()}`;
  const adminPassword = `adm-${randomTag(8)}`;
  const keyspace = `app${tag()}`;
  const root = new Redis({ host: a.host, port: a.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await root.connect();
  await root.call('ACL', 'SETUSER', adminUser, 'on', `>${adminPassword}`, '+@all', '~*', '&*');
  await root.set(`${keyspace}:greeting`, 'hello');
  const base = { host: a.host, port: String(a.port), tls: 'disable' };
  // AUTH sent by hand: a refused one is a clean WRONGPASS, not a closed connection.
  const connect = async (f: Record<string, string>): Promise<Redis> => {
    const c = new Redis({ host: f['host'] ?? a.host, port: Number(f['port']), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    await c.connect();
    try {
      await c.call('AUTH', f['username'] ?? '', f['password'] ?? '');
    } catch (err) {
      c.disconnect();
      throw err;
    }
    return c;
  };
  const withLogin = async <T>(f: Record<string, string>, fn: (c: Redis) => Promise<T>): Promise<T> => {
    const c = await connect(f);
    try { return await fn(c); } finally { c.disconnect(); }
  };
  return {
    engine: 'redis',
    admin: { ...base, username: adminUser, password: adminPassword },
    grantArgs: ['--acl', `~${keyspace}:* +@read +ping`],
    login: async (f) => {
      try {
        await withLogin(f, (c) => c.ping());
        return true;
      } catch (err) {
        if (/WRONGPASS|NOAUTH/.test((err as Error).message)) return false;
        throw err;
      }
    },
    read: async (f) => {
      const v = await withLogin(f, (c) => c.get(`${keyspace}:greeting`));
      if (v !== 'hello') throw new Error(`the granted read answered ${String(v)}`);
    },
    writeOutside: (f) => withLogin(f, async (c) => {
      try {
        await c.set(`${keyspace}:greeting`, 'changed');
      } catch (err) {
        return /NOPERM/.test((err as Error).message) ? 'NOPERM' : (err as Error).message.split(' ')[0] ?? 'error';
      }
      throw new Error('the leased login could write outside its grant');
    }),
    openSession: async (f) => {
      const c = await connect(f);
      let dead = false;
      c.on('close', () => { dead = true; });
      return {
        alive: async () => {
          if (dead) return false;
          try { await c.ping(); return true; } catch { return false; }
        },
        close: async () => { c.disconnect(); },
      };
    },
    loginsWithPrefix: async (prefix) => ((await root.call('ACL', 'USERS')) as string[]).filter((u) => u.startsWith(prefix)).sort(),
    cleanup: async () => {
      for (const u of ((await root.call('ACL', 'USERS')) as string[])) {
        const rules = (await root.call('ACL', 'GETUSER', u)) as unknown[];
        if (u === adminUser || JSON.stringify(rules).includes(`~${keyspace}:*`)) await root.call('ACL', 'DELUSER', u);
      }
      await root.del(`${keyspace}:greeting`);
      root.disconnect();
    },
  };
}

export function leaseFixture(engine: LeaseEngine): Promise<LeaseFixture> {
  switch (engine) {
    case 'postgres': return postgresLeaseFixture();
    case 'mysql': return mysqlLeaseFixture();
    case 'redis': return redisLeaseFixture();
  }
}
