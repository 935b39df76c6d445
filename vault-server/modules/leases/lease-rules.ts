/**
 * The pure rules of leased credentials (docs/leases.md): a lease role's grant checked per engine,
 * the login name a lease gets, the vault's login prefix, TTLs, the per-machine limit, and which
 * jobs a lease's state still wants.
 *
 * @example
 *   parseLeaseGrant('redis', { acl: '~app:* +@read' });          // { acl: '~app:* +@read' }
 *   loginName('3f9a1c', 'app-ro', 'k2m9x0ab');                    // 'sk3f9a1c_app_ro_k2m9x0ab'
 */
import { randomBytes } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Engine, LeaseGrant } from '../../../protocol/api-types.js';
import { parseDuration } from '../../../protocol/duration.js';
import { redisLeaseAclRuleRefused } from '../../../protocol/engines.js';
import type { ExpressionBuilder } from 'kysely';
import type { Tx, VaultContext } from '../../context.js';

/** Concurrent live leases one machine may hold of one role (429 SK_ERR_LEASE_LIMIT beyond). */
export const DEFAULT_MACHINE_LEASES_PER_ROLE = 10;
/** The longest a machine's lease request or get waits for the agent (`?wait=`), and its default. */
export const LEASE_WAIT_MAX_SECONDS = 30;
export const LEASE_WAIT_DEFAULT_SECONDS = 10;
/** The states whose login must exist (reconcile keeps them; limits count them). */
export const LIVE_LEASE_STATES = ['creating', 'active'] as const;
/** MySQL's user name limit: the tightest of the engines, applied to all. */
export const MAX_LOGIN_LENGTH = 32;
/** A drop job that failed waits this long times 2^(attempt-1), at most DROP_RETRY_MAX_MS. */
export const DROP_RETRY_BASE_MS = 5_000;
export const DROP_RETRY_MAX_MS = 5 * 60_000;

const IDENT = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;
/** Redis ACL rules that set passwords or the user's state: the vault sets those itself. */
const bad = (message: string): SikkerKeyError => new SikkerKeyError('SK_ERR_VALIDATION', message);

/** Checks a role's grant against its engine; returns it normalised. */
export function parseLeaseGrant(engine: Engine, grant: unknown): LeaseGrant {
  const g = (grant ?? {}) as Record<string, unknown>;
  const keys = Object.keys(g);
  const only = (key: string, flag: string): void => {
    if (keys.length !== 1 || keys[0] !== key) throw bad(`a ${engine} lease role takes exactly ${flag}`);
  };
  switch (engine) {
    case 'postgres':
    case 'supabase': {
      only('memberOf', '--member-of ROLE');
      const v = g['memberOf'];
      if (typeof v !== 'string' || !IDENT.test(v)) throw bad('--member-of: a role name (letters, digits, _ $ -; at most 63)');
      return { memberOf: v };
    }
    case 'mysql': {
      only('grantRole', '--grant-role ROLE');
      const v = g['grantRole'];
      if (typeof v !== 'string' || !IDENT.test(v)) throw bad('--grant-role: a role name (letters, digits, _ $ -; at most 63)');
      return { grantRole: v };
    }
    case 'redis': {
      only('acl', '--acl RULES');
      const v = g['acl'];
      if (typeof v !== 'string' || v.trim() === '' || v.length > 1000) throw bad('--acl: space-separated ACL rules such as \'~app:* +@read\'');
      const rules = v.trim().split(/\s+/);
      for (const r of rules) {
        if (redisLeaseAclRuleRefused(r)) throw bad(`--acl: the rule ${JSON.stringify(r.startsWith('>') || r.startsWith('#') ? r.slice(0, 1) + '…' : r)} sets a password or the user's state; the vault sets those itself`);
        // eslint-disable-next-line no-control-regex
        if (/[\u0000-\u001f\u007f]/.test(r)) throw bad('--acl: control characters are not allowed');
      }
      return { acl: rules.join(' ') };
    }
    case 'mongodb': {
      only('roles', '--role ROLE@DB');
      const v = g['roles'];
      if (!Array.isArray(v) || v.length === 0 || v.length > 32) throw bad('--role ROLE@DB: one to 32 roles');
      return {
        roles: v.map((r: unknown) => {
          const o = (r ?? {}) as Record<string, unknown>;
          if (typeof o['role'] !== 'string' || typeof o['db'] !== 'string' || !IDENT.test(o['role']) || !/^[A-Za-z0-9_-]{1,63}$/.test(o['db']) || Object.keys(o).length !== 2) {
            throw bad('--role ROLE@DB: e.g. readWrite@app');
          }
          return { role: o['role'], db: o['db'] };
        }),
      };
    }
    default:
      throw bad(`--provider must be one of postgres, supabase, mysql, redis, mongodb`);
  }
}

/** `--ttl` / `--max-ttl`: at least 1 s, at most 365 days; ttl ≤ max-ttl. */
export function parseTtls(ttl: string, maxTtl: string): { ttlMs: number; maxTtlMs: number } {
  const ttlMs = parseDuration(ttl, '--ttl', 'SK_ERR_VALIDATION');
  const maxTtlMs = parseDuration(maxTtl, '--max-ttl', 'SK_ERR_VALIDATION');
  const year = 365 * 86_400_000;
  if (ttlMs < 1000 || maxTtlMs < 1000 || ttlMs > year || maxTtlMs > year) throw bad('--ttl and --max-ttl must be between 1s and 365d');
  if (ttlMs > maxTtlMs) throw bad(`--ttl (${ttl}) must not be longer than --max-ttl (${maxTtl})`);
  return { ttlMs, maxTtlMs };
}

/** A lease request's `ttl` (or the role's), capped at what is left before maxExpiresAt. */
export function requestedTtl(ttl: string | undefined, role: { ttl_ms: number; max_ttl_ms: number }): number {
  if (ttl === undefined) return Number(role.ttl_ms);
  const ms = parseDuration(ttl, 'ttl', 'SK_ERR_VALIDATION');
  if (ms < 1000) throw bad('ttl must be at least 1s');
  return Math.min(ms, Number(role.max_ttl_ms));
}

/** The vault's first six hex characters of its id, dashes removed. */
export async function vaultId6(ctx: Pick<VaultContext, 'store'>, db: Tx): Promise<string> {
  const known = vaultIds.get(ctx.store);
  if (known !== undefined) return known;
  const row = await db.selectFrom('vault_meta').select('value').where('key', '=', 'vault_id').executeTakeFirst();
  const id = row ? Buffer.from(row.value).toString('utf8').replace(/-/g, '').toLowerCase() : '';
  if (!/^[0-9a-f]{6}/.test(id)) throw new SikkerKeyError('SK_ERR_INTERNAL', 'the vault has no usable vault_id');
  vaultIds.set(ctx.store, id.slice(0, 6));
  return id.slice(0, 6);
}

/** The vault id is written once, when the store is made: read once per open store. */
const vaultIds = new WeakMap<object, string>();

/** The prefix that marks this vault's logins: `sk<vaultId6>_`. */
export const loginPrefix = (vid6: string): string => `sk${vid6}_`;

/** `sk<vaultId6>_<role>_<rand8>`: lowercase [a-z0-9_], at most 32 characters (the role part truncated). */
export function loginName(vid6: string, role: string, rand8: string = randomSuffix()): string {
  const prefix = loginPrefix(vid6);
  const room = MAX_LOGIN_LENGTH - prefix.length - 1 - rand8.length;
  const rolePart = role.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, Math.max(1, room));
  return `${prefix}${rolePart}_${rand8}`;
}

function randomSuffix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(8);
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}

/** The next try of a failed drop job: 5 s, 10 s, 20 s … at most 5 min. */
export function dropRetryDelayMs(attempts: number): number {
  return Math.min(DROP_RETRY_MAX_MS, DROP_RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/** The lease's state still wants the job (a query over lease_jobs joined to leases): a drop always, a create while creating, a renew while active. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function jobStillWanted(eb: ExpressionBuilder<any, any>) {
  return eb.or([
    eb('lease_jobs.kind', '=', 'drop'),
    eb.and([eb('lease_jobs.kind', '=', 'create'), eb('leases.state', '=', 'creating')]),
    eb.and([eb('lease_jobs.kind', '=', 'renew'), eb('leases.state', '=', 'active')]),
  ]);
}
