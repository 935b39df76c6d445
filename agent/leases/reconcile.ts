/**
 * The lease reconcile (docs/leases-agent.md): nothing the agent creates may outlive its lease,
 * whatever crashed where. For each lease role this machine serves, list the engine's logins
 * starting with `sk`, ask the vault which of them to drop (this vault's prefix, lease not live),
 * and drop those (PostgreSQL/Supabase: what a login owned goes to the grant's `memberOf`, as with
 * the drop job). Logins of another vault or tool (`sk` without this vault's prefix) are the
 * vault's to audit (`lease.foreign_login`) and are never dropped — the prefix is checked here too.
 *
 * Runs at start and every `leaseReconcileSeconds`. One role failing (its database down) does not
 * stop the others.
 *
 * @example
 *   const summary = await reconcileLeases({ vault, provider: async (e) => withSanitizer(await loadProvider(e)), log });
 */
import type { Logger } from 'pino';
import type { AgentLeaseRole } from '../../protocol/api-types.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import type { CredentialProvider, Engine } from '../../providers/provider.js';
import type { LeaseVault } from './lease-vault.js';

/** Every login a lease can make starts with this; the vault's prefix is `sk<vaultId6>_`. */
export const LEASE_LOGIN_MARK = 'sk';

export interface ReconcileSummary {
  roles: number;
  dropped: number;
  foreign: number;
  /** Roles or drops that failed (logged; the next reconcile tries again). */
  errors: number;
}

export interface ReconcileDeps {
  vault: Pick<LeaseVault, 'leaseRoles' | 'reconcile'>;
  /** A new, uninitialized provider for the engine (wrapped with the sanitizer). */
  provider(engine: Engine): Promise<CredentialProvider>;
  log: Logger;
  /** Called once per login dropped or failed to drop. */
  onDrop?(engine: Engine, result: 'confirmed' | 'failed'): void;
}

export async function reconcileLeases(deps: ReconcileDeps): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { roles: 0, dropped: 0, foreign: 0, errors: 0 };
  const { roles } = await deps.vault.leaseRoles();
  for (const role of roles) {
    summary.roles += 1;
    try {
      await reconcileRole(role, deps, summary);
    } catch (err) {
      summary.errors += 1;
      deps.log.warn({ project: role.project, leaseRole: role.role, engine: role.engine, code: isSikkerKeyError(err) ? err.code : 'error', message: err instanceof Error ? err.message : String(err) }, 'lease reconcile of a role failed; trying again next time');
    }
  }
  return summary;
}

async function reconcileRole(role: AgentLeaseRole, deps: ReconcileDeps, summary: ReconcileSummary): Promise<void> {
  const provider = await deps.provider(role.engine);
  try {
    if (provider.listLogins === undefined || provider.dropLogin === undefined) return;
    // the admin's own name stands in for the target's user: reconcile never logs in as a lease
    await provider.initialize({ admin: role.admin, target: { ...role.target, username: role.admin['username'] ?? LEASE_LOGIN_MARK } });
    const logins = await provider.listLogins({ prefix: LEASE_LOGIN_MARK });
    const verdict = await deps.vault.reconcile(role.roleId, { logins });
    summary.foreign += verdict.foreign.length;
    const reassign = reassignOf(role);
    if (reassign === undefined && (role.engine === 'postgres' || role.engine === 'supabase') && verdict.drop.length > 0) {
      // a vault that predates `grant` in the lease roles answer: what the logins owned goes to the admin
      deps.log.warn({ project: role.project, leaseRole: role.role, engine: role.engine }, 'the vault sent no memberOf for this lease role: what a dropped login owned goes to the admin (upgrade the vault)');
    }
    for (const username of verdict.drop) {
      // never a login without this vault's prefix, nor one the engine did not list, whatever the answer says
      if (!username.startsWith(role.prefix) || !logins.includes(username)) continue;
      try {
        await provider.dropLogin({ username, ...reassign });
        summary.dropped += 1;
        deps.onDrop?.(role.engine, 'confirmed');
        deps.log.info({ project: role.project, leaseRole: role.role, engine: role.engine, username }, 'lease reconcile dropped a login whose lease is not live');
      } catch (err) {
        summary.errors += 1;
        deps.onDrop?.(role.engine, 'failed');
        deps.log.warn({ project: role.project, leaseRole: role.role, username, code: isSikkerKeyError(err) ? err.code : 'error', message: err instanceof Error ? err.message : String(err) }, 'lease reconcile could not drop a login');
      }
    }
  } finally {
    await provider.close().catch(() => undefined);
  }
}

/**
 * What the drop job passes too (run-lease-job.ts): a PostgreSQL/Supabase login's objects go to the
 * grant's `memberOf` (REASSIGN OWNED), not to the admin. Other engines' grants have no memberOf.
 */
function reassignOf(role: AgentLeaseRole): { reassignTo: string } | undefined {
  const memberOf = (role.grant as { memberOf?: unknown } | undefined)?.memberOf;
  return typeof memberOf === 'string' && memberOf !== '' ? { reassignTo: memberOf } : undefined;
}
