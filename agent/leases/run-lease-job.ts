/**
 * Runs one claimed lease job through its engine's provider (docs/leases-agent.md):
 *
 * - create: `createLogin` with the vault's name, password and grant, then `verify` — a fresh
 *   login with exactly that credential — then confirm. The vault wrote the lease (its intent)
 *   before the job existed, so a crash at any step leaves a login the reconcile finds.
 * - renew: `renewLogin` (PostgreSQL moves VALID UNTIL; engines without an expiry have nothing to
 *   do), then confirm.
 * - drop: `dropLogin` (ends the login's sessions, removes it; PostgreSQL gives what it owned to
 *   the grant's `memberOf`), then confirm.
 *
 * A failure is reported with the error's SK_ERR code and a message cleaned of every credential the
 * job carried. A failure to report is left to the job's 60 s lease: the vault offers it again, and
 * every step is idempotent.
 *
 * Fault points for the crash matrix: `agent-lease-after-claim`, `agent-lease-after-create`,
 * `agent-lease-after-verify` (protocol/fault-points.ts).
 *
 * @example
 *   const result = await runLeaseJob(claim, withSanitizer(await loadProvider(claim.engine)), vault, log);
 */
import type { Logger } from 'pino';
import type { LeaseJobClaim } from '../../protocol/api-types.js';
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';
import { faultPoint } from '../../protocol/fault-points.js';
import type { CredentialProvider, InitializeResponse } from '../../providers/provider.js';
import { redact } from '../../providers/sanitize.js';
import type { LeaseVault } from './lease-vault.js';

/** confirmed: the vault has the step; failed: reported as failed; error: not reported (the vault offers the job again). */
export type LeaseJobResult = 'confirmed' | 'failed' | 'error';

export interface LeaseJobOptions {
  /** The provider is initialized already (taken from the agent's pool). */
  initialized?: InitializeResponse;
}

/** What the provider needs as its target: the claim's endpoint fields, as the lease's login. */
export function leaseTarget(job: Pick<LeaseJobClaim, 'target' | 'username'>): Record<string, string> {
  return { ...job.target, username: job.username };
}

export async function runLeaseJob(
  job: LeaseJobClaim,
  provider: CredentialProvider,
  vault: Pick<LeaseVault, 'confirmLeaseJob' | 'failLeaseJob'>,
  log: Logger,
  options: LeaseJobOptions = {},
): Promise<LeaseJobResult> {
  const ctx = { leaseJobId: job.id, leaseId: job.leaseId, kind: job.kind, engine: job.engine, username: job.username };
  try {
    await faultPoint('agent-lease-after-claim');
    if (options.initialized === undefined) await provider.initialize({ admin: job.admin, target: leaseTarget(job) });
    if (job.kind === 'create') {
      const createLogin = provider.createLogin;
      if (createLogin === undefined) throw unsupported(job, 'create');
      if (job.password === undefined || job.password === '') throw new SikkerKeyError('SK_ERR_RESPONSE', 'the vault sent a create lease job without a password');
      await createLogin.call(provider, { username: job.username, password: job.password, grant: job.grant, validUntil: job.validUntil });
      await faultPoint('agent-lease-after-create');
      await provider.verify({ username: job.username, password: job.password });
      await faultPoint('agent-lease-after-verify');
    } else if (job.kind === 'renew') {
      // engines without an expiry (MySQL, Redis, MongoDB) have nothing to move: the drop ends the login
      await provider.renewLogin?.({ username: job.username, validUntil: job.validUntil });
    } else {
      const dropLogin = provider.dropLogin;
      if (dropLogin === undefined) throw unsupported(job, 'drop');
      const memberOf = (job.grant as { memberOf?: unknown }).memberOf;
      await dropLogin.call(provider, { username: job.username, ...(typeof memberOf === 'string' && memberOf !== '' ? { reassignTo: memberOf } : {}) });
    }
  } catch (err) {
    const code = isSikkerKeyError(err) ? err.code : 'SK_ERR_PROVIDER_FAILED';
    const message = redact(err instanceof Error ? err.message : String(err), credentials(job, provider));
    log.warn({ ...ctx, code, message }, 'lease job failed');
    return report(() => vault.failLeaseJob(job.id, { fence: job.fence, code, message }), 'failed');
  }
  log.info(ctx, 'lease job done');
  return report(() => vault.confirmLeaseJob(job.id, job.fence), 'confirmed');

  async function report(send: () => Promise<void>, result: 'confirmed' | 'failed'): Promise<LeaseJobResult> {
    try {
      await send();
      return result;
    } catch (err) {
      log.warn({ ...ctx, code: isSikkerKeyError(err) ? err.code : 'error' }, 'lease job not reported; the vault offers it again after its lease');
      return 'error';
    }
  }
}

function unsupported(job: LeaseJobClaim, what: string): SikkerKeyError {
  return new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the ${job.engine} provider cannot ${what} leased logins`);
}

function credentials(job: LeaseJobClaim, provider: CredentialProvider): string[] {
  let own: string[] = [];
  try {
    own = provider.secretValues();
  } catch {
    // the values the job carried are enough
  }
  return [...own, job.password ?? '', job.admin['password'] ?? ''].filter((v) => v !== '');
}
