/**
 * Leased logins on Redis (ACL users, Redis ≥ 6), made and removed through the Redis provider's
 * admin connection (docs/leases-agent.md). Every command goes as an argument array.
 *
 * - create: `ACL SETUSER u reset on #<sha256> <rules…>` — one command, so the user never exists
 *   half-made; `reset` first makes a second attempt leave exactly the same user. The password
 *   goes as its hash (what Redis stores anyway; Redis quotes a failing rule in its error).
 * - drop: `ACL SETUSER u off` (no new AUTH), `CLIENT KILL USER u` (its open connections), then
 *   `ACL DELUSER u`; `ACL SAVE` when the server has an aclfile.
 * - renew: none (Redis users have no expiry): the agent drops the user when the lease ends.
 *
 * The lease role's rules are the vault's to check; they are checked here again, so a rule that
 * would set a password or switch the user (`>`, `<`, `#`, `!`, nopass, resetpass, on, off,
 * reset) never reaches the server even from a vault with a bug.
 *
 * @example
 *   await leases.createLogin({ username: 'sk1a2b3c_cache_x1y2z3w4', password, grant: { acl: '~app:* +@read' }, validUntil });
 */
import { createHash } from 'node:crypto';
import { SikkerKeyError } from '../../protocol/errors.js';
import { redisLeaseAclRuleRefused } from '../../protocol/engines.js';
import type { LeaseGrant } from '../../protocol/api-types.js';
import type { CreateLoginRequest, DropLoginRequest, ListLoginsRequest } from '../provider.js';
import { checkCredential, checkUsernameValue } from '../provider-config.js';
import { quoteName } from '../provider-errors.js';

export interface RedisLeaseDeps {
  /** One admin command, errors mapped (throws SK_ERR_INTERNAL before initialize()). */
  call(username: string, ...args: string[]): Promise<unknown>;
  /** ACL SAVE when the server has an aclfile. */
  persist(username: string): Promise<void>;
  secrets: Set<string>;
}

const NO_SUCH_USER = /no such user/i;

export function redisLeases(deps: RedisLeaseDeps) {
  return {
    async createLogin(req: CreateLoginRequest): Promise<void> {
      deps.secrets.add(req.password);
      checkCredential(req.username, req.password, 'Redis');
      checkName(req.username);
      const rules = aclRules(req.grant);
      const hash = createHash('sha256').update(req.password, 'utf8').digest('hex');
      await deps.call(req.username, 'ACL', 'SETUSER', req.username, 'reset', 'on', `#${hash}`, ...rules);
      await deps.persist(req.username);
    },

    async dropLogin(req: DropLoginRequest): Promise<void> {
      checkUsernameValue(req.username, 'Redis');
      checkName(req.username);
      const users = (await deps.call(req.username, 'ACL', 'USERS')) as unknown[];
      if (!Array.isArray(users) || !users.map(String).includes(req.username)) return;
      // first: no new AUTH while the open connections are closed
      await deps.call(req.username, 'ACL', 'SETUSER', req.username, 'off');
      try {
        await deps.call(req.username, 'CLIENT', 'KILL', 'USER', req.username);
      } catch (err) {
        if (!(err instanceof Error && NO_SUCH_USER.test(err.message))) throw err;
      }
      await deps.call(req.username, 'ACL', 'DELUSER', req.username);
      await deps.persist(req.username);
    },

    async listLogins(req: ListLoginsRequest): Promise<string[]> {
      const users = (await deps.call('', 'ACL', 'USERS')) as unknown[];
      return (Array.isArray(users) ? users.map(String) : []).filter((u) => u.startsWith(req.prefix)).sort();
    },
  };
}

function checkName(username: string): void {
  if (/[\s\0]/.test(username)) throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `Redis user names cannot contain spaces: ${quoteName(username)}`);
}

/** The grant's ACL rules as arguments; a rule that sets a password or the user's state is refused. */
export function aclRules(grant: LeaseGrant): string[] {
  const acl = (grant as { acl?: unknown }).acl;
  if (typeof acl !== 'string' || acl.trim() === '') {
    throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', 'a Redis lease role needs grant.acl: the ACL rules the leased user gets, e.g. "~app:* +@read"');
  }
  const rules = acl.trim().split(/\s+/);
  for (const rule of rules) {
    if (redisLeaseAclRuleRefused(rule)) {
      throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the Redis lease role's ACL may not set passwords or the user's state: ${quoteName(rule)} is refused`);
    }
  }
  return rules;
}
