/**
 * The MySQL / MariaDB provider (mysql2). The admin connection runs
 * `ALTER USER ?@? IDENTIFIED BY ?` through `query()` — mysql2's client-side formatting, which
 * quotes every value with its own `escape()`; ALTER USER cannot be prepared server-side, so
 * `execute()` is not an option. Accounts are `'username'@'accountHost'` (accountHost from the
 * target secret, default '%'). Every verification is a fresh connection to the target.
 *
 * Every statement, the verification's probe included, is bounded by `statementTimeoutMs`
 * (mysql2's client-side per-query `timeout`): a lock held elsewhere (FLUSH TABLES WITH READ LOCK,
 * a metadata lock) makes ALTER USER wait forever, and the server's lock_wait_timeout does not end
 * that wait. mysql2 only stops waiting, so a connection whose statement timed out is destroyed
 * (its late answer would be read as the next statement's) and, for the admin, the session is
 * dropped: later calls fail with SK_ERR_PROVIDER_CONNECT until initialize() connects again.
 *
 * Leased logins (createLogin, dropLogin, listLogins) live in mysql-leases.ts.
 *
 * Operations (the `mysql8` and `mariadb` rows of protocol/engines.ts): `setPassword` on both
 * (`ALTER USER … IDENTIFIED BY`, which on MySQL 8 leaves a retained password unchanged);
 * `addPassword` (`… RETAIN CURRENT PASSWORD`) and `discardRetained` (`DISCARD OLD PASSWORD`) on
 * MySQL ≥ 8.0.14 only — MariaDB has no second password, and the table's refusal says so.
 *
 * @example
 *   const provider = mysqlProvider();
 *   await provider.initialize({ admin, target });   // target: { host, port, username, password, accountHost? }
 *   await provider.setPassword({ username: 'app', password: pending });
 *   await provider.verify({ username: 'app', password: pending });
 */
import { isIP } from 'node:net';
import mysql from 'mysql2/promise';
import type { Connection, ConnectionOptions, SslOptions } from 'mysql2/promise';
import { SikkerKeyError } from '../../protocol/errors.js';
import type {
  CredentialProvider,
  InitializeRequest,
  InitializeResponse,
  PreflightRequest,
  PreflightResponse,
  Credential,
  Flavour,
  VerifyResponse,
} from '../provider.js';
import { refusal } from '../../protocol/engines.js';
import { checkCredential, checkUsernameValue, checksHostName, describeEndpoint, field, readCaFile, readEndpoint, tlsOptions, type Endpoint } from '../provider-config.js';
import { isQueryTimeout, mysqlError, statementKeywords, type MysqlErrorContext } from './mysql-errors.js';
import { canAlterUsers } from './mysql-preflight.js';
import { mysqlLeases } from './mysql-leases.js';

export interface MysqlProviderOptions {
  /** Per connection attempt; default 10 s. */
  connectTimeoutMs?: number;
  /** For every statement (ALTER USER waits on a lock held by another session); default 30 s. */
  statementTimeoutMs?: number;
}

type Flavor = 'MySQL' | 'MariaDB';

/** What verification needs: read before the admin connects, kept even when the admin login fails. */
interface TargetSide {
  target: Endpoint;
  targetCa: string | undefined;
  accountHost: string;
}

/** The admin connection and what the server told it. */
interface Session extends TargetSide {
  conn: Connection;
  admin: Endpoint;
  flavor: Flavor;
  version: readonly [number, number, number];
  versionText: string;
  /** The admin's own account as SQL ('sk_admin'@'%'), for fixes in messages. */
  adminAccount: string;
  /** False once mysql2 reported the connection ended or failed (isConnected). */
  open: () => boolean;
}

export const mysqlProvider = (options: MysqlProviderOptions = {}): CredentialProvider => {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  const secrets = new Set<string>();
  let targetSide: TargetSide | undefined;
  let session: Session | undefined;
  /** Set when the admin session was dropped after a statement timed out, until initialize() or close(). */
  let lost: { engine: Flavor; endpoint: string } | undefined;

  // values come from JSON: only non-empty strings are secrets to look for
  const remember = (...values: unknown[]): void => {
    for (const v of values) if (typeof v === 'string' && v !== '') secrets.add(v);
  };

  const connect = async (endpoint: Endpoint, user: string, password: string, ca: string | undefined): Promise<Connection> => {
    const config: ConnectionOptions = {
      host: endpoint.host,
      port: endpoint.port,
      user,
      password,
      database: endpoint.database,
      ssl: sslOptions(endpoint, ca),
      connectTimeout: connectTimeoutMs,
      multipleStatements: false,
    };
    const conn = await mysql.createConnection(config);
    // a connection that dies while idle emits 'error'; unhandled it would crash the agent
    conn.on('error', () => undefined);
    return conn;
  };

  const requireSession = (): Session => {
    if (session === undefined && lost !== undefined) {
      throw new SikkerKeyError(
        'SK_ERR_PROVIDER_CONNECT',
        `the admin connection to ${lost.engine} at ${lost.endpoint} was closed after a statement outlived the ${statementTimeoutMs} ms ` +
          'statement timeout: initialize() connects again',
      );
    }
    if (session === undefined) throw new SikkerKeyError('SK_ERR_INTERNAL', 'the MySQL provider was used before initialize() connected the admin');
    return session;
  };
  const requireTarget = (): TargetSide => {
    if (targetSide === undefined) throw new SikkerKeyError('SK_ERR_INTERNAL', 'the MySQL provider verified a credential before initialize() read the target secret');
    return targetSide;
  };

  const context = (s: Session, step: MysqlErrorContext['step'], username: string, sql?: string): MysqlErrorContext => ({
    step,
    ...(sql === undefined ? {} : { statement: statementKeywords(sql) }),
    timeoutMs: statementTimeoutMs,
    engine: s.flavor,
    endpoint: describeEndpoint(step === 'login' ? s.target : s.admin),
    account: accountSql(username, s.accountHost),
    admin: s.adminAccount,
    secrets,
  });
  // a login needs no admin: before (or without) one, the server's flavor is not known yet
  const loginContext = (t: TargetSide, username: string): MysqlErrorContext =>
    session !== undefined
      ? context(session, 'login', username)
      : { step: 'login', engine: 'MySQL', endpoint: describeEndpoint(t.target), account: accountSql(username, t.accountHost), admin: '', secrets, timeoutMs: statementTimeoutMs };

  /** One statement on the admin session, bounded; a timeout also drops the session (adminQuery). */
  const run = async (s: Session, step: MysqlErrorContext['step'], username: string, sql: string, values: unknown[]): Promise<unknown> => {
    try {
      return await adminQuery(s, sql, values);
    } catch (err) {
      throw mysqlError(err, context(s, step, username, sql));
    }
  };

  /**
   * One statement on the admin connection, bounded by statementTimeoutMs. After a timeout the
   * connection is destroyed and the session dropped, so nothing sends on it again: calls fail with
   * SK_ERR_PROVIDER_CONNECT (requireSession) until initialize() connects a new one.
   */
  async function adminQuery(s: { conn: Connection }, sql: string, values: unknown[]): Promise<unknown> {
    try {
      return await boundedQuery(s.conn, sql, values, statementTimeoutMs);
    } catch (err) {
      if (isQueryTimeout(err) && session === s) {
        lost = { engine: session.flavor, endpoint: describeEndpoint(session.admin) };
        session = undefined;
      }
      throw err;
    }
  }

  /** The second password is the engine table's to allow: MySQL ≥ 8.0.14, never MariaDB. */
  const assertRetainedSlot = (s: Session): void => {
    const refused = refusal({ engine: 'mysql', flavour: flavourOf(s.flavor), version: s.version.join('.') }, 'dual');
    if (refused !== undefined) throw new SikkerKeyError('SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', `${s.versionText}: ${refused}`);
  };

  const verify = async (t: TargetSide, username: string, password: string): Promise<VerifyResponse> => {
    let conn: Connection | undefined;
    try {
      conn = await connect(t.target, username, password, t.targetCa);
      const rows = await boundedQuery(conn, 'SELECT VERSION() AS v', [], statementTimeoutMs);
      const v = String((rows as { v?: unknown }[])[0]?.v ?? '');
      return { serverVersion: describeVersion(v).text };
    } catch (err) {
      throw mysqlError(err, { ...loginContext(t, username), statement: 'SELECT VERSION' });
    } finally {
      // a connection whose query timed out was destroyed already: end() then returns at once
      await conn?.end().catch(() => undefined);
    }
  };

  const close = async (): Promise<void> => {
    const s = session;
    session = undefined;
    lost = undefined;
    targetSide = undefined;
    if (s !== undefined) await s.conn.end().catch(() => s.conn.destroy());
  };

  return {
    engine: 'mysql',
    operations: ['setPassword', 'addPassword', 'discardRetained'],

    async initialize(req: InitializeRequest): Promise<InitializeResponse> {
      remember(req.admin['password'], req.target['password']);
      await close();
      // the target side first, and kept whatever happens to the admin: the agent proves the live
      // credential with it when the admin login fails
      const target = readEndpoint(req.target, { secret: 'target', engine: 'MySQL', defaultPort: 3306, passwordRequired: false });
      refuseUncheckableHost(target, 'target');
      const targetCa = await readCaFile(target, { secret: 'target', engine: 'MySQL' });
      const accountHost = field(req.target, 'accountHost') ?? '%';
      targetSide = { target, targetCa, accountHost };

      const admin = readEndpoint(req.admin, { secret: 'admin', engine: 'MySQL', defaultPort: 3306, passwordRequired: true });
      refuseUncheckableHost(admin, 'admin');
      const adminCa = await readCaFile(admin, { secret: 'admin', engine: 'MySQL' });
      const adminGuess = accountSql(admin.username, '%');
      const ctx: MysqlErrorContext = {
        step: 'admin-login', engine: 'MySQL', endpoint: describeEndpoint(admin), account: adminGuess, admin: adminGuess, secrets, timeoutMs: statementTimeoutMs,
      };

      let conn: Connection | undefined;
      try {
        conn = await connect(admin, admin.username, admin.password, adminCa);
        let open = true;
        conn.on('end', () => (open = false));
        conn.on('error', () => (open = false));
        const rows = await boundedQuery(conn, 'SELECT VERSION() AS v, @@SESSION.sql_mode AS m, CURRENT_USER() AS cu', [], statementTimeoutMs);
        const row = (rows as { v: string; m: string; cu: string }[])[0];
        if (row === undefined) throw new Error('SELECT VERSION() returned no row');
        await keepBackslashEscapes(conn, row.m, statementTimeoutMs);
        const { flavor, version, text } = describeVersion(row.v);
        const at = row.cu.lastIndexOf('@');
        const adminAccount = at < 0 ? adminGuess : accountSql(row.cu.slice(0, at), row.cu.slice(at + 1));
        session = { conn, admin, target, targetCa, accountHost, flavor, version, versionText: text, adminAccount, open: () => open };
        return { serverVersion: text, flavour: flavourOf(flavor) };
      } catch (err) {
        await conn?.end().catch(() => undefined);
        throw mysqlError(err, ctx);
      }
    },

    async setPassword(req: Credential): Promise<void> {
      remember(req.password);
      const s = requireSession();
      checkCredential(req.username, req.password, 'MySQL');
      // without RETAIN CURRENT PASSWORD, MySQL 8 leaves a retained password as it is
      await run(s, 'update', req.username, 'ALTER USER ?@? IDENTIFIED BY ?', [req.username, s.accountHost, req.password]);
    },

    async addPassword(req: Credential): Promise<void> {
      remember(req.password);
      const s = requireSession();
      checkCredential(req.username, req.password, 'MySQL');
      assertRetainedSlot(s);
      // RETAIN CURRENT PASSWORD run twice would keep the new password as the retained one and
      // drop the old: a password that already logs in has been applied, and is not applied again
      if (await loginWorks(s, req.username, req.password)) return;
      await run(s, 'update', req.username, 'ALTER USER ?@? IDENTIFIED BY ? RETAIN CURRENT PASSWORD', [req.username, s.accountHost, req.password]);
    },

    async discardRetained(req: { username: string }): Promise<void> {
      const s = requireSession();
      checkUsernameValue(req.username, 'MySQL');
      assertRetainedSlot(s);
      // discarding an empty slot is a no-op in MySQL: idempotent by nature
      await run(s, 'retire', req.username, 'ALTER USER ?@? DISCARD OLD PASSWORD', [req.username, s.accountHost]);
    },

    async verify(req: Credential): Promise<VerifyResponse> {
      remember(req.password);
      const t = requireTarget();
      checkCredential(req.username, req.password, 'MySQL');
      return verify(t, req.username, req.password);
    },

    async preflight(req: PreflightRequest): Promise<PreflightResponse> {
      const s = requireSession();
      const problems: string[] = [];

      const grants = (await run(s, 'preflight', s.admin.username, 'SHOW GRANTS', [])) as Record<string, string>[];
      const reading = canAlterUsers(grants.map((row) => String(Object.values(row)[0] ?? '')));
      if (!reading.allowed) {
        problems.push(
          `admin ${s.adminAccount} lacks the CREATE USER privilege that ALTER USER needs: run GRANT CREATE USER ON *.* TO ${s.adminAccount}` +
            (reading.viaRoles ? ' (privileges it holds through roles were not inspected)' : ''),
        );
      }

      // where the account and its lock live: MySQL's mysql.user has account_locked; MariaDB ≥ 10.4
      // keeps both in mysql.global_priv (mysql.user is a view without the lock)
      const table = s.flavor === 'MariaDB' ? 'mysql.global_priv' : 'mysql.user';
      const sql =
        s.flavor === 'MariaDB'
          ? "SELECT IF(JSON_VALUE(Priv, '$.account_locked') IN ('1', 'true'), 'Y', 'N') AS locked FROM mysql.global_priv WHERE User = ? AND Host = ?"
          : 'SELECT account_locked AS locked FROM mysql.user WHERE User = ? AND Host = ?';
      for (const username of req.usernames) {
        const account = accountSql(username, s.accountHost);
        try {
          const rows = await adminQuery(s, sql, [username, s.accountHost]);
          const row = (rows as { locked: string }[])[0];
          if (row === undefined) {
            problems.push(`account ${account} does not exist on ${s.flavor} at ${describeEndpoint(s.admin)}: check the secret's username and accountHost (default '%')`);
          } else if (row.locked === 'Y') {
            problems.push(`account ${account} is locked, so no password will log in: run ALTER USER ${account} ACCOUNT UNLOCK`);
          }
        } catch (err) {
          const mapped = mysqlError(err, context(s, 'preflight', username, sql));
          if (mapped.code !== 'SK_ERR_PROVIDER_PRIVILEGE') throw mapped;
          problems.push(
            `cannot check that account ${account} exists: admin ${s.adminAccount} may not read ${table}; ` +
              `run GRANT SELECT ON ${table} TO ${s.adminAccount} (read-only) so preflight can check accounts`,
          );
        }
      }
      return { ok: problems.length === 0, problems };
    },

    // leased logins (mysql-leases.ts)
    ...mysqlLeases({ session: requireSession, query: adminQuery, statementTimeoutMs, secrets }),

    // a statement timeout dropped the session (adminQuery): not connected either
    isConnected: () => session?.open() ?? false,
    close,
    secretValues: () => [...secrets],
  } satisfies CredentialProvider;

  async function loginWorks(s: Session, username: string, password: string): Promise<boolean> {
    try {
      await verify(s, username, password);
      return true;
    } catch (err) {
      if (err instanceof SikkerKeyError && err.code === 'SK_ERR_PROVIDER_AUTH_FAILED') return false;
      throw err;
    }
  }
};

/** 'user'@'host' as MySQL reads it, quoted by the driver's own escape(). */
export function accountSql(user: string, host: string): string {
  return `${mysql.escape(user)}@${mysql.escape(host)}`;
}

/**
 * mysql2 quotes values with backslash escapes; under NO_BACKSLASH_ESCAPES the server reads a
 * backslash literally, and an escaped quote would end the string early — a password with a quote
 * could then change the statement. The admin session drops that mode before any value is sent.
 */
export async function keepBackslashEscapes(conn: Connection, sqlMode: string, timeoutMs?: number): Promise<void> {
  const modes = sqlMode.split(',').map((m) => m.trim()).filter((m) => m !== '');
  if (!modes.some((m) => m.toUpperCase() === 'NO_BACKSLASH_ESCAPES')) return;
  // mode names are plain words, which both quoting styles read the same way
  await boundedQuery(conn, 'SET SESSION sql_mode = ?', [modes.filter((m) => m.toUpperCase() !== 'NO_BACKSLASH_ESCAPES').join(',')], timeoutMs);
}

/**
 * conn.query with mysql2's per-query `timeout` (none when undefined). mysql2 only stops waiting:
 * the statement goes on on the server, and the connection, out of step, would hand its late
 * answer to the next statement (and end() would wait behind it), so it is destroyed here.
 */
async function boundedQuery(conn: Connection, sql: string, values: unknown[], timeoutMs: number | undefined): Promise<unknown> {
  try {
    const [rows] = await conn.query({ sql, values, ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) });
    return rows;
  } catch (err) {
    if (isQueryTimeout(err)) conn.destroy();
    throw err;
  }
}

/**
 * mysql2 (3.24) cannot check an IP address against the certificate: for an IP it passes tls.connect
 * neither `servername` nor `host`, and Node then checks the certificate's names against
 * "localhost" instead — a certificate for localhost would pass at any address, and one that names
 * the IP would fail. verify-full with an IP address is therefore refused, so it fails closed.
 * (`require` checks no name, so an IP address is fine there, with or without caFile.)
 */
function refuseUncheckableHost(endpoint: Endpoint, secret: 'admin' | 'target'): void {
  if (endpoint.tls === 'verify-full' && isIP(endpoint.host.replace(/^\[|\]$/g, '')) !== 0) {
    throw new SikkerKeyError(
      'SK_ERR_PROVIDER_CONFIG',
      `the MySQL ${secret} secret asks for tls "verify-full" with the IP address ${endpoint.host} as host: the driver cannot check ` +
        'an IP address against the certificate; use the host name the certificate names, or tls "require" with "caFile" ' +
        '(checks the certificate chain, not the name)',
    );
  }
}

/**
 * tlsOptions() as mysql2's `ssl`. mysql2 builds its own tls.connect options from a few fields:
 * `ca` (into its secure context; none means Node's default CAs), `rejectUnauthorized` (chain
 * check) and `verifyIdentity` (Node's checkServerIdentity against the host name, else none), and
 * sets `servername` itself for a host name.
 */
function sslOptions(endpoint: Endpoint, ca: string | undefined): SslOptions | undefined {
  const tls = tlsOptions(endpoint, ca);
  if (tls === undefined) return undefined;
  return {
    ...(typeof tls.ca === 'string' ? { ca: tls.ca } : {}),
    rejectUnauthorized: tls.rejectUnauthorized !== false,
    verifyIdentity: checksHostName(tls),
  };
}

function describeVersion(raw: string): { flavor: Flavor; version: readonly [number, number, number]; text: string } {
  const flavor: Flavor = /mariadb/i.test(raw) ? 'MariaDB' : 'MySQL';
  // MariaDB behind some proxies reports "5.5.5-10.11.6-MariaDB": the real version follows 5.5.5-
  const m = /(?:5\.5\.5-)?(\d+)\.(\d+)\.(\d+)/.exec(raw);
  const version = [Number(m?.[1] ?? 0), Number(m?.[2] ?? 0), Number(m?.[3] ?? 0)] as const;
  return { flavor, version, text: `${flavor} ${version.join('.')}` };
}

/** The engine table's row for what the server said it is. */
function flavourOf(flavor: Flavor): Flavour {
  return flavor === 'MariaDB' ? 'mariadb' : 'mysql8';
}
