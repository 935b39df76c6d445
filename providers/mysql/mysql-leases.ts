/**
 * Leased logins on MySQL 8 and MariaDB: one account `'u'@'<accountHost>'` per lease, made and
 * removed by the MySQL provider's admin connection (docs/leases-agent.md).
 *
 * - create: `CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?` (an existing account gets the
 *   password again with ALTER USER), `GRANT <role> TO ?@?`, and the role made the account's
 *   default — roles are inactive in a new session otherwise, and the login would hold no
 *   privilege. MariaDB: `SET DEFAULT ROLE <role> FOR ?@?`; MySQL 8: `ALTER USER ?@? DEFAULT ROLE <role>`.
 * - drop: `ALTER USER ?@? ACCOUNT LOCK` (no new session), `KILL CONNECTION` of each of the user's
 *   sessions in information_schema.PROCESSLIST — DROP USER leaves them running — then
 *   `DROP USER IF EXISTS ?@?`.
 * - drop and list look the accounts up in `mysql.user` (a view over mysql.global_priv on MariaDB),
 *   reading only User and Host: the admin needs `SELECT (User, Host) ON mysql.user` besides what
 *   create and drop need (the list: docs/leases.md).
 * - renew: none (no expiry in MySQL's accounts): the agent drops the account when the lease ends.
 *
 * Values through mysql2's placeholders (its `escape()`), the role name through `escapeId` with
 * qualified names forbidden (a dot in a role name stays part of the name).
 *
 * Every statement goes through the provider's `query`, bounded by its statement timeout: a
 * statement that outlives it is SK_ERR_PROVIDER_CONNECT, and the provider closes the admin
 * connection and drops the session (a later `session()` fails until initialize() runs again).
 *
 * @example
 *   const leases = mysqlLeases({ session: () => s, query: (s, sql, values) => …, statementTimeoutMs: 30_000, secrets });
 *   await leases.createLogin({ username: 'sk1a2b3c_app_x1y2z3w4', password, grant: { grantRole: 'app_ro' }, validUntil });
 */
import mysql from 'mysql2/promise';
import type { Connection } from 'mysql2/promise';
import { SikkerKeyError } from '../../protocol/errors.js';
import type { LeaseGrant } from '../../protocol/api-types.js';
import type { CreateLoginRequest, DropLoginRequest, ListLoginsRequest } from '../provider.js';
import { checkCredential, checkUsernameValue, describeEndpoint, type Endpoint } from '../provider-config.js';
import { mysqlError, statementKeywords } from './mysql-errors.js';

/** What the lease operations need of the provider's admin session. */
export interface MysqlLeaseSession {
  conn: Connection;
  admin: Endpoint;
  accountHost: string;
  flavor: 'MySQL' | 'MariaDB';
  adminAccount: string;
}

export interface MysqlLeaseDeps {
  session(): MysqlLeaseSession;
  /**
   * Runs one statement on the session's connection, bounded by the statement timeout; the rows
   * (or OK packet) come back. After a timeout the provider has destroyed the connection and dropped
   * the session.
   */
  query(s: MysqlLeaseSession, sql: string, values: unknown[]): Promise<unknown>;
  /** The statement timeout `query` applies, for messages. */
  statementTimeoutMs: number;
  secrets: Set<string>;
}

const MAX_USER_CHARS = 32; // MySQL 8's limit (MariaDB allows 80): the vault's names fit both
const UNKNOWN_THREAD = 1094;

export function mysqlLeases(deps: MysqlLeaseDeps) {
  const run = async (s: MysqlLeaseSession, username: string, sql: string, values: unknown[]): Promise<unknown> => {
    try {
      return await deps.query(s, sql, values);
    } catch (err) {
      throw mysqlError(err, {
        step: 'lease', engine: s.flavor, endpoint: describeEndpoint(s.admin),
        account: `${mysql.escape(username)}@${mysql.escape(s.accountHost)}`, admin: s.adminAccount, secrets: deps.secrets,
        statement: statementKeywords(sql), timeoutMs: deps.statementTimeoutMs,
      });
    }
  };

  return {
    async createLogin(req: CreateLoginRequest): Promise<void> {
      deps.secrets.add(req.password);
      const s = deps.session();
      checkCredential(req.username, req.password, 'MySQL');
      checkLength(req.username);
      const role = roleId(req.grant);
      const created = (await run(s, req.username, 'CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [req.username, s.accountHost, req.password])) as { warningStatus?: number };
      // a warning: the account existed (a second attempt of the same job) and kept its old password
      if ((created.warningStatus ?? 0) > 0) await run(s, req.username, 'ALTER USER ?@? IDENTIFIED BY ?', [req.username, s.accountHost, req.password]);
      await run(s, req.username, `GRANT ${role} TO ?@?`, [req.username, s.accountHost]);
      await run(
        s, req.username,
        s.flavor === 'MariaDB' ? `SET DEFAULT ROLE ${role} FOR ?@?` : `ALTER USER ?@? DEFAULT ROLE ${role}`,
        [req.username, s.accountHost],
      );
    },

    async dropLogin(req: DropLoginRequest): Promise<void> {
      const s = deps.session();
      checkUsernameValue(req.username, 'MySQL');
      const rows = (await run(s, req.username, 'SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = ?', [req.username, s.accountHost])) as { n: number | string }[];
      if (Number(rows[0]?.n ?? 0) === 0) {
        await killSessions(s, req.username); // an account dropped earlier may still have sessions
        return;
      }
      // first: no new session may start while the old ones are ended
      await run(s, req.username, 'ALTER USER ?@? ACCOUNT LOCK', [req.username, s.accountHost]);
      await killSessions(s, req.username);
      await run(s, req.username, 'DROP USER IF EXISTS ?@?', [req.username, s.accountHost]);
    },

    async listLogins(req: ListLoginsRequest): Promise<string[]> {
      const s = deps.session();
      const rows = (await run(
        s, s.admin.username,
        'SELECT DISTINCT User AS u FROM mysql.user WHERE LEFT(User, CHAR_LENGTH(?)) = ? ORDER BY User',
        [req.prefix, req.prefix],
      )) as { u: string | Buffer }[];
      return rows.map((r) => String(r.u));
    },
  };

  async function killSessions(s: MysqlLeaseSession, username: string): Promise<void> {
    const sessions = (await run(
      s, username, 'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()', [username],
    )) as { id: number | string }[];
    for (const { id } of sessions) {
      try {
        await run(s, username, 'KILL CONNECTION ?', [Number(id)]);
      } catch (err) {
        // gone on its own meanwhile
        if (!isUnknownThread(err)) throw err;
      }
    }
  }
}

/** The server's "unknown thread id" (errno 1094), kept as the cause of the mapped error. */
function isUnknownThread(err: unknown): boolean {
  return err instanceof SikkerKeyError && (err.cause as { errno?: unknown } | undefined)?.errno === UNKNOWN_THREAD;
}

function checkLength(username: string): void {
  if ([...username].length > MAX_USER_CHARS) {
    throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `a leased MySQL user name may have at most ${MAX_USER_CHARS} characters (MySQL 8's limit)`);
  }
}

/** The grant's role as an identifier, quoted by mysql2's escapeId (a dot stays part of the name). */
function roleId(grant: LeaseGrant): string {
  const role = (grant as { grantRole?: unknown }).grantRole;
  if (typeof role !== 'string' || role === '') {
    throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', 'a MySQL lease role needs grant.grantRole: the role the leased account is given');
  }
  return mysql.escapeId(role, true);
}
