/**
 * Leased logins on MongoDB: one user per lease on the target's authSource database, made and
 * removed by the MongoDB provider's admin client (docs/leases-agent.md). Names, passwords and
 * roles are BSON fields of the command document, never text the server parses.
 *
 * - create: `createUser` with the lease role's roles and SCRAM-SHA-256; a user of that name
 *   (a second attempt of the same job) gets the password and roles again with `updateUser`.
 * - drop: `dropUser` (mongod invalidates the user: its connections lose their rights), then
 *   `killAllSessionsByPattern` for the user on `admin` (its running operations and sessions).
 *   A user that does not exist is a no-op; its sessions are still killed.
 * - renew: none (MongoDB users have no expiry): the agent drops the user when the lease ends.
 *
 * @example
 *   await leases.createLogin({ username: 'sk1a2b3c_app_x1y2z3w4', password, grant: { roles: [{ role: 'readWrite', db: 'app' }] }, validUntil });
 */
import type { Db, Document } from 'mongodb';
import { SikkerKeyError } from '../../protocol/errors.js';
import type { LeaseGrant } from '../../protocol/api-types.js';
import type { CreateLoginRequest, DropLoginRequest, ListLoginsRequest } from '../provider.js';
import { quoteName } from '../provider-errors.js';

export interface MongoLeaseDeps {
  /** The database users live on (the target's authSource) and `admin`, on the admin's client. */
  db(name?: string): Db;
  /** Maps a driver error for the user concerned. */
  fail(err: unknown, username: string): SikkerKeyError;
  remember(value: string): void;
}

const SCRAM_SHA_256 = 'SCRAM-SHA-256';
const USER_NOT_FOUND = 11;
const USER_EXISTS = 51003;

export function mongoLeases(deps: MongoLeaseDeps) {
  return {
    async createLogin(req: CreateLoginRequest): Promise<void> {
      deps.remember(req.password);
      checkName(req.username);
      if (req.password === '') throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the password for ${quoteName(req.username)} is empty`);
      const roles = mongoRoles(req.grant);
      try {
        try {
          await deps.db().command({ createUser: req.username, pwd: req.password, roles, mechanisms: [SCRAM_SHA_256] });
        } catch (err) {
          if (codeOf(err) !== USER_EXISTS) throw err;
          await deps.db().command({ updateUser: req.username, pwd: req.password, roles, mechanisms: [SCRAM_SHA_256] });
        }
      } catch (err) {
        throw deps.fail(err, req.username);
      }
    },

    async dropLogin(req: DropLoginRequest): Promise<void> {
      checkName(req.username);
      const db = deps.db();
      try {
        try {
          await db.command({ dropUser: req.username });
        } catch (err) {
          if (codeOf(err) !== USER_NOT_FOUND) throw err;
        }
        await deps.db('admin').command({ killAllSessionsByPattern: [{ users: [{ user: req.username, db: db.databaseName }] }] });
      } catch (err) {
        throw deps.fail(err, req.username);
      }
    },

    async listLogins(req: ListLoginsRequest): Promise<string[]> {
      try {
        const info = await deps.db().command({ usersInfo: 1 });
        const users = Array.isArray(info.users) ? (info.users as Document[]) : [];
        return users.map((u) => String(u.user)).filter((u) => u.startsWith(req.prefix)).sort();
      } catch (err) {
        throw deps.fail(err, '');
      }
    },
  };
}

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

function checkName(username: string): void {
  if (typeof username !== 'string' || username === '' || username.includes('\0')) {
    throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `a leased MongoDB user name must be a non-empty string without NUL: ${quoteName(String(username))}`);
  }
}

/** The grant's roles, each `{ role, db }` with non-empty strings. */
function mongoRoles(grant: LeaseGrant): Array<{ role: string; db: string }> {
  const roles = (grant as { roles?: unknown }).roles;
  const ok = Array.isArray(roles) && roles.length > 0 && roles.every((r: unknown) => {
    const x = r as { role?: unknown; db?: unknown } | null;
    return typeof x?.role === 'string' && x.role !== '' && typeof x.db === 'string' && x.db !== '';
  });
  if (!ok) throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', 'a MongoDB lease role needs grant.roles: one or more { role, db } (readWrite@app on the CLI)');
  return (roles as Array<{ role: string; db: string }>).map((r) => ({ role: r.role, db: r.db }));
}
