import type { Logger } from 'pino';
import { isSikkerKeyError, SikkerKeyError } from '../../protocol/errors.js';
import type { ClaimResponse } from '../../protocol/api-types.js';
import type { CredentialProvider } from '../../providers/provider.js';
import type { JobOutcome, JobVault } from './run-job.js';
import { LeaseKeeper } from './lease-keeper.js';

/**
 * A `retire` job (`dual`): once the grace period after a promotion has passed, remove the old
 * password that was kept beside the new one, then prove the live (new) credential still logs in.
 * A failure leaves both passwords working — never fewer — and the vault retries with backoff.
 */
export async function runRetireJob(job: ClaimResponse, provider: CredentialProvider, vault: JobVault, log: Logger): Promise<JobOutcome> {
  const lease = new LeaseKeeper(job, vault, log);
  lease.start();
  const ctx = { rotationId: job.id, secret: `${job.project}/${job.secret}`, engine: job.engine, user: job.username, fence: job.fence };
  const failWith = async (err: unknown): Promise<JobOutcome> => {
    const e = isSikkerKeyError(err) ? err : new SikkerKeyError('SK_ERR_PROVIDER_FAILED', err instanceof Error ? err.message : String(err));
    let liveVerified = false;
    try {
      await provider.verifyCredential({ username: job.username, password: job.livePassword });
      liveVerified = true;
    } catch { /* reported below */ }
    const res = await vault.fail(job.id, { fence: job.fence, code: e.code, message: `retiring the old password failed: ${e.message}`, liveVerified });
    log.warn({ ...ctx, code: e.code, state: res.state }, 'retire job failed; the old password still works');
    return res.state === 'stuck' ? 'stuck' : 'retry';
  };
  try {
    await provider.initialize({ admin: job.admin, target: job.target });
    if (job.retirePassword !== null) {
      if (!provider.retireCredential) throw new SikkerKeyError('SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', `the ${job.engine} provider cannot retire a password`);
      lease.assertHeld();
      await provider.retireCredential({ username: job.username, oldPassword: job.retirePassword });
    }
    await provider.verifyCredential({ username: job.username, password: job.livePassword });
    const res = await vault.confirm(job.id, job.fence);
    log.info({ ...ctx, state: res.state }, 'old password retired');
    return 'promoted';
  } catch (err) {
    if (isSikkerKeyError(err, 'SK_ERR_ROTATION_FENCED')) return 'fenced';
    return failWith(err);
  } finally {
    lease.stop();
  }
}
