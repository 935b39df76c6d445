import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';
import type { ClaimResponse, FailBody, RotationStepResponse } from '../../protocol/api-types.js';
import type { CredentialProvider } from '../../providers/provider.js';
import { faultPoint } from '../../protocol/fault-points.js';
import { LeaseKeeper, LeaseLostError } from './lease-keeper.js';

/** The vault calls a job makes (narrow, so tests and the runner agree on exactly these). */
export interface JobVault {
  heartbeat(id: string, fence: number): Promise<{ leaseSeconds: number }>;
  applied(id: string, fence: number): Promise<RotationStepResponse>;
  confirm(id: string, fence: number): Promise<RotationStepResponse>;
  fail(id: string, body: FailBody): Promise<RotationStepResponse>;
}

export type JobOutcome = 'promoted' | 'failed' | 'retry' | 'stuck' | 'fenced' | 'lease-lost';

type Probe = 'works' | 'refused' | 'unknown';

/** A fresh login with exactly this credential: works, refused by the database, or unknown (unreachable…). */
async function probe(provider: CredentialProvider, username: string, password: string | null): Promise<Probe> {
  if (password === null) return 'refused';
  try {
    await provider.verifyCredential({ username, password });
    return 'works';
  } catch (err) {
    return isSikkerKeyError(err, 'SK_ERR_PROVIDER_AUTH_FAILED') ? 'refused' : 'unknown';
  }
}

/** Verification right after a change may race a pooler or a replica: a few bounded tries. */
async function verifyWithRetry(provider: CredentialProvider, username: string, password: string, tries = 3): Promise<{ ok: true } | { ok: false; error: SikkerKeyError }> {
  let last: SikkerKeyError = new SikkerKeyError('SK_ERR_PROVIDER_AUTH_FAILED');
  for (let i = 0; i < tries; i++) {
    try {
      await provider.verifyCredential({ username, password });
      return { ok: true };
    } catch (err) {
      last = isSikkerKeyError(err) ? err : new SikkerKeyError('SK_ERR_PROVIDER_FAILED', 'verification failed', { cause: err });
      // The Supabase preset has already waited out the pooler's cache within its own budget.
      if (last.code === 'SK_ERR_PROVIDER_POOLER_CACHE') break;
      if (i < tries - 1) await new Promise((r) => setTimeout(r, 250 * (i + 1)));
    }
  }
  return { ok: false, error: last };
}

/** Retries a report until the vault answers (a lost answer is answered the same again); fenced ends it. */
async function report<T>(what: string, log: Logger, call: () => Promise<T>, attempts = 8): Promise<T> {
  let delay = 250;
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      const fatal = isSikkerKeyError(err) && err.statusCode < 500 && err.code !== 'SK_ERR_RATE_LIMITED';
      if (fatal || i >= attempts) throw err;
      log.warn({ step: what, attempt: i, code: isSikkerKeyError(err) ? err.code : 'error' }, 'vault did not take the report; retrying');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

/**
 * Runs one claimed `rotate` job (DESIGN §6):
 *   reconcile (when an earlier claim may have applied) → apply → report applied → verify with a
 *   fresh login → confirm. On a failed verify the live credential is restored and proven, then
 *   `fail` carries liveVerified. After verify passed (or confirm was sent) nothing is rolled back;
 *   and once the lease is lost the database is not touched again.
 */
export async function runRotateJob(job: ClaimResponse, provider: CredentialProvider, vault: JobVault, log: Logger, opts: { initialized?: boolean } = {}): Promise<JobOutcome> {
  // Milliseconds each step took, logged with the outcome: where a slow rotation spends its time.
  const steps: Record<string, number> = {};
  let mark = performance.now();
  const step = (name: string): void => {
    const now = performance.now();
    steps[name] = Math.round((now - mark) * 10) / 10;
    mark = now;
  };
  const lease = new LeaseKeeper(job, vault, log);
  lease.start();
  const ctx = { rotationId: job.id, secret: `${job.project}/${job.secret}`, engine: job.engine, user: job.username, fence: job.fence };
  const pending = job.pendingPassword;
  if (pending === null) throw new SikkerKeyError('SK_ERR_ROTATION_STATE', 'a rotate job without a pending credential');
  // Under `alternating` the job changes the user that is not live; the live user is the target's.
  const liveUser = job.target['username'] ?? job.username;
  const fail = async (body: Omit<FailBody, 'fence'>): Promise<JobOutcome> => {
    const res = await report('fail', log, () => vault.fail(job.id, { fence: job.fence, ...body }));
    log.warn({ ...ctx, code: body.code, liveVerified: body.liveVerified, state: res.state }, `rotation not promoted: ${body.message}`);
    return res.state === 'failed' ? 'failed' : res.state === 'stuck' ? 'stuck' : 'retry';
  };
  const promote = async (): Promise<JobOutcome> => {
    await report('applied', log, () => vault.applied(job.id, job.fence));
    await faultPoint('after-applied');
    const res = await report('confirm', log, () => vault.confirm(job.id, job.fence));
    await faultPoint('after-confirm');
    log.info({ ...ctx, version: res.version }, 'rotation promoted');
    return 'promoted';
  };

  try {
    try {
      // A provider kept from the previous job of the same admin and endpoint is ready already.
      if (!opts.initialized) await provider.initialize({ admin: job.admin, target: job.target });
      step('initialize');
    } catch (err) {
      // The admin cannot even connect: nothing was changed by this claim. Prove live and say why.
      const e = asSkError(err);
      const live = await probe(provider, liveUser, job.livePassword);
      if (live === 'works' || !job.maybeApplied) {
        return await fail({ code: e.code, message: e.message, liveVerified: live === 'works' });
      }
      const pend = await probe(provider, job.username, pending);
      if (pend === 'works') return await promote();
      return await fail({ code: e.code, message: e.message, liveVerified: false, neitherWorks: live === 'refused' && pend === 'refused' });
    }

    if (job.maybeApplied) {
      // An earlier claim may have applied the pending credential: roll forward if it works.
      const p = await probe(provider, job.username, pending);
      log.info({ ...ctx, pendingProbe: p }, 'reconciling a rotation an earlier claim may have applied');
      if (p === 'works') return await promote();
    }

    lease.assertHeld();
    try {
      await provider.updateCredential({ username: job.username, password: pending, strategy: job.strategy });
      step('update');
    } catch (err) {
      const e = asSkError(err);
      lease.assertHeld();
      return await restoreAndFail(e);
    }
    await faultPoint('after-update');
    // `applied` is sent before verifying and must be acknowledged before confirming, but the
    // vault has assumed since the claim that the database may hold the pending credential
    // (maybe_applied), so the fresh login need not wait for the acknowledgement.
    const applied = report('applied', log, () => vault.applied(job.id, job.fence));
    applied.catch(() => undefined); // awaited below; keeps an early rejection from being unhandled
    const verified = await verifyWithRetry(provider, job.username, pending);
    step('verify');
    await applied;
    step('applied');
    await faultPoint('after-applied');
    if (verified.ok) {
      await faultPoint('after-verify');
      // From here on the pending credential is proven: never roll back, whatever happens.
      const res = await report('confirm', log, () => vault.confirm(job.id, job.fence));
      step('confirm');
      await faultPoint('after-confirm');
      log.info({ ...ctx, version: res.version, stepsMs: steps }, 'rotation promoted');
      return 'promoted';
    }
    lease.assertHeld();
    return await restoreAndFail(verified.error);
  } catch (err) {
    if (isSikkerKeyError(err, 'SK_ERR_ROTATION_FENCED')) {
      log.warn(ctx, 'another claim owns this rotation now; stopped without touching the database');
      return 'fenced';
    }
    if (err instanceof LeaseLostError) {
      log.warn(ctx, 'lease lost (the vault could not be reached to renew it); stopped without touching the database');
      return 'lease-lost';
    }
    throw err;
  } finally {
    lease.stop();
  }

  /**
   * The pending credential failed: undo what this job did, prove the live credential, report.
   * `single` puts the live password back; `dual` removes the password it added beside the live
   * one; `alternating` changed only the user that is not live, so the live user needs nothing.
   */
  async function restoreAndFail(cause: SikkerKeyError): Promise<JobOutcome> {
    let restored = false;
    try {
      if (job.strategy === 'single') {
        await provider.updateCredential({ username: job.username, password: job.livePassword, strategy: job.strategy });
      } else if (job.strategy === 'dual' && provider.retireCredential) {
        await provider.retireCredential({ username: job.username, oldPassword: pending as string });
      }
      restored = true;
    } catch (err) {
      log.error({ ...ctx, code: asSkError(err).code }, 'could not undo the pending credential');
    }
    const live = await probe(provider, liveUser, job.livePassword);
    if (live === 'works') return fail({ code: cause.code, message: cause.message, liveVerified: true });
    const pend = await probe(provider, job.username, pending);
    if (pend === 'works' && !restored) {
      // The database holds the pending credential and it works: that is a promotion.
      return promote();
    }
    return fail({ code: cause.code, message: cause.message, liveVerified: false, neitherWorks: live === 'refused' && pend === 'refused' });
  }
}

function asSkError(err: unknown): SikkerKeyError {
  return isSikkerKeyError(err) ? err : new SikkerKeyError('SK_ERR_PROVIDER_FAILED', err instanceof Error ? err.message : String(err), { cause: err });
}
