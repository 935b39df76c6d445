/**
 * Leased logins on PostgreSQL (and Supabase through its preset): one role per lease, made and
 * removed by the admin connection of the PostgreSQL provider (docs/leases-agent.md).
 *
 * - create: `CREATE ROLE u LOGIN PASSWORD <verifier> VALID UNTIL <ts> IN ROLE <memberOf>`; an
 *   existing role of that name gets the password, VALID UNTIL, LOGIN and membership again.
 *   VALID UNTIL is a second line of defence: the agent drops the role when the lease ends, and
 *   should it never get there, the password stops working on its own.
 * - renew: `ALTER ROLE u VALID UNTIL <ts>`.
 * - drop: `ALTER ROLE u NOLOGIN` (no new session may start), `pg_terminate_backend` of each of
 *   its sessions, then `REASSIGN OWNED BY u TO <memberOf>; DROP OWNED BY u; DROP ROLE u`.
 *   REASSIGN/DROP OWNED act on the current database only: they run on the admin connection,
 *   which is in the lease role's database (the admin secret's `database`).
 *
 * Names go through `escapeIdentifier`, literals through `escapeLiteral` (node-postgres's own);
 * the password travels as its SCRAM verifier, like a rotation's (postgres-password.ts).
 *
 * @example
 *   const leases = postgresLeases({ session: () => s, secrets });
 *   await leases.createLogin({ username: 'sk1a2b3c_app_x1y2z3w4', password, grant: { memberOf: 'app_ro' }, validUntil });
 */
import pg from 'pg';
import { SikkerKeyError } from '../../protocol/errors.js';
import type { LeaseGrant } from '../../protocol/api-types.js';
import type { CreateLoginRequest, DropLoginRequest, ListLoginsRequest, RenewLoginRequest } from '../provider.js';
import { checkCredential, checkUsernameValue, describeEndpoint, type Endpoint } from '../provider-config.js';
import { quoteName } from '../provider-errors.js';
import { pgError } from './postgres-errors.js';
import { passwordLiteral } from './postgres-password.js';

/** What the lease operations need of the provider's admin session. */
export interface PgLeaseSession {
  client: pg.Client;
  admin: Endpoint;
  versionNum: number;
  passwordEncryption: string;
  scramIterations: number;
}

export interface PgLeaseDeps {
  /** The admin session; throws SK_ERR_INTERNAL before initialize(). */
  session(): PgLeaseSession;
  /** Checks a role name the way setPassword does (length). */
  checkRoleName(name: string): void;
  /** The provider's secret values, for the error sanitizer. */
  secrets: Set<string>;
}

const id = pg.escapeIdentifier;
const lit = pg.escapeLiteral;

export function postgresLeases(deps: PgLeaseDeps) {
  const fail = (s: PgLeaseSession, err: unknown, username: string): SikkerKeyError =>
    pgError(err, { step: 'lease', endpoint: describeEndpoint(s.admin), username, admin: s.admin.username, secrets: deps.secrets });

  const exists = async (s: PgLeaseSession, username: string): Promise<boolean> =>
    (await s.client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username])).rowCount === 1;

  const validUntil = (ms: number): string => {
    if (!Number.isFinite(ms)) throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', 'validUntil is not a time');
    return lit(new Date(ms).toISOString());
  };

  return {
    async createLogin(req: CreateLoginRequest): Promise<void> {
      deps.secrets.add(req.password);
      const s = deps.session();
      checkCredential(req.username, req.password, 'PostgreSQL');
      deps.checkRoleName(req.username);
      const memberOf = memberOfGrant(req.grant);
      deps.checkRoleName(memberOf);
      const verifier = await passwordLiteral({ password: req.password, role: req.username, encryption: s.passwordEncryption, iterations: s.scramIterations });
      const until = validUntil(req.validUntil);
      try {
        if (!(await exists(s, req.username))) {
          try {
            await s.client.query(`CREATE ROLE ${id(req.username)} LOGIN PASSWORD ${lit(verifier)} VALID UNTIL ${until} IN ROLE ${id(memberOf)}`);
            return;
          } catch (err) {
            // 42710: made meanwhile (a second attempt of the same job): set it again below
            if ((err as { code?: unknown }).code !== '42710') throw err;
          }
        }
        await s.client.query(`ALTER ROLE ${id(req.username)} WITH LOGIN PASSWORD ${lit(verifier)} VALID UNTIL ${until}`);
        // granting a membership the role already has is a notice, not an error
        await s.client.query(`GRANT ${id(memberOf)} TO ${id(req.username)}`);
      } catch (err) {
        throw fail(s, err, req.username);
      }
    },

    async renewLogin(req: RenewLoginRequest): Promise<void> {
      const s = deps.session();
      checkUsernameValue(req.username, 'PostgreSQL');
      deps.checkRoleName(req.username);
      try {
        await s.client.query(`ALTER ROLE ${id(req.username)} VALID UNTIL ${validUntil(req.validUntil)}`);
      } catch (err) {
        throw fail(s, err, req.username);
      }
    },

    async dropLogin(req: DropLoginRequest): Promise<void> {
      const s = deps.session();
      checkUsernameValue(req.username, 'PostgreSQL');
      deps.checkRoleName(req.username);
      const to = req.reassignTo === undefined || req.reassignTo === '' ? 'CURRENT_USER' : id(req.reassignTo);
      try {
        if (!(await exists(s, req.username))) return;
        // first: no new session may start while the old ones are ended
        await s.client.query(`ALTER ROLE ${id(req.username)} NOLOGIN`);
        // PostgreSQL 14+ waits (up to the timeout) until each session has really gone
        const terminate = s.versionNum >= 140000 ? 'pg_terminate_backend(pid, 5000)' : 'pg_terminate_backend(pid)';
        await s.client.query(`SELECT ${terminate} FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()`, [req.username]);
        await s.client.query(`REASSIGN OWNED BY ${id(req.username)} TO ${to}`);
        await s.client.query(`DROP OWNED BY ${id(req.username)}`);
        await s.client.query(`DROP ROLE IF EXISTS ${id(req.username)}`);
      } catch (err) {
        if ((err as { code?: unknown }).code === '2BP01') {
          throw new SikkerKeyError(
            'SK_ERR_PROVIDER_FAILED',
            `PostgreSQL at ${describeEndpoint(s.admin)}: role ${quoteName(req.username)} still owns objects or holds privileges in another database ` +
              `(REASSIGN/DROP OWNED act on one database): run REASSIGN OWNED BY … and DROP OWNED BY … there; the agent tries again`,
          );
        }
        throw fail(s, err, req.username);
      }
    },

    async listLogins(req: ListLoginsRequest): Promise<string[]> {
      const s = deps.session();
      try {
        // NOLOGIN roles too: a drop interrupted after NOLOGIN must still be found and finished
        const { rows } = await s.client.query<{ rolname: string }>(
          'SELECT rolname FROM pg_roles WHERE left(rolname, length($1::text)) = $1::text ORDER BY rolname',
          [req.prefix],
        );
        return rows.map((r) => r.rolname);
      } catch (err) {
        throw fail(s, err, s.admin.username);
      }
    },
  };
}

function memberOfGrant(grant: LeaseGrant): string {
  const memberOf = (grant as { memberOf?: unknown }).memberOf;
  if (typeof memberOf !== 'string' || memberOf === '') {
    throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', 'a PostgreSQL lease role needs grant.memberOf: the role the leased login is a member of');
  }
  return memberOf;
}
