import type { Logger } from 'pino';
import { isSikkerKeyError, SikkerKeyError } from '../../protocol/errors.js';
import { performance } from 'node:perf_hooks';
import type { AgentStepName, AgentStepTiming, RetireJob } from '../../protocol/api-types.js';
import { flavourSpec } from '../../protocol/engines.js';
import type { CredentialProvider } from '../../providers/provider.js';
import { decideRetire, type RetireFacts } from './decide.js';
import { asSkError, changeResult, defaultSleep, probe, report, type JobOptions, type JobOutcome, type JobVault } from './run-job.js';
import { LeaseKeeper, LeaseLostError } from './lease-keeper.js';

/**
 * A `retire` job (`dual`): once the grace period after a promotion has passed, remove the old
 * password that was kept beside the new one, by carrying out what `decideRetire` says: prove the
 * live credential, remove (Redis) or discard (MySQL 8) the old one, prove live again, confirm.
 * A failure leaves at least the live password working, and the vault retries with backoff.
 */
export async function runRetireJob(job: RetireJob, provider: CredentialProvider, vault: JobVault, log: Logger, opts: JobOptions = {}): Promise<JobOutcome> {
  const sleep = opts.sleep ?? defaultSleep;
  const lease = new LeaseKeeper(job, vault, log);
  lease.start();
  const ctx = { rotationId: job.id, secret: `${job.project}/${job.secret}`, engine: job.engine, user: job.username, fence: job.fence };
  const facts: RetireFacts = {};
  let cause: SikkerKeyError | undefined;
  // Step timings for the job's timeline (as run-job.ts): the start, the admin login, each proof of
  // the live credential. Removing the old password has no step name of its own: the outcome says it.
  const timings: AgentStepTiming[] = [{ step: 'claimed', at: Date.now(), ms: 0 }];
  const timed = (name: AgentStepName, startedAt: number): void => {
    timings.push({ step: name, at: Date.now(), ms: Math.max(0, Math.round(performance.now() - startedAt)) });
  };
  try {
    for (;;) {
      const action = decideRetire(facts);
      switch (action.do) {
        case 'initialize': {
          const started = performance.now();
          try {
            const init = opts.initialized ?? (await provider.initialize({ admin: job.admin, target: job.target }));
            facts.init = 'ok';
            timed('connected', started);
            facts.slots = flavourSpec(init.flavour).slots;
          } catch (err) {
            cause = asSkError(err);
            facts.init = 'failed';
          }
          break;
        }
        case 'probe-live': {
          const started = performance.now();
          const p = await probe(provider, job.username, job.livePassword);
          if (p === 'works') timed('verified', started);
          if (action.when === 'before') facts.liveBefore = p;
          else facts.liveAfter = p;
          break;
        }
        case 'retire':
          lease.assertHeld();
          try {
            if (action.step.op === 'removePassword') {
              if (provider.removePassword === undefined) throw new SikkerKeyError('SK_ERR_INTERNAL', `the ${job.engine} provider cannot remove a password`);
              await provider.removePassword({ username: job.username, password: job.retirePassword });
            } else {
              if (provider.discardRetained === undefined) throw new SikkerKeyError('SK_ERR_INTERNAL', `the ${job.engine} provider cannot discard a retained password`);
              await provider.discardRetained({ username: job.username });
            }
            facts.retire = 'ok';
          } catch (err) {
            cause = asSkError(err);
            facts.retire = changeResult(cause);
          }
          break;
        case 'retired': {
          const res = await report('confirm', log, () => vault.confirm(job.id, job.fence, timings), sleep);
          log.info({ ...ctx, state: res.state }, 'old password retired');
          return 'retired';
        }
        case 'fail': {
          const code = action.code === 'cause' ? (cause?.code ?? 'SK_ERR_PROVIDER_FAILED') : action.code;
          const why = action.code === 'cause' ? (cause?.message ?? 'unknown') : 'the live credential did not log in, so the old one was left in place';
          const res = await report('fail', log, () => vault.fail(job.id, { fence: job.fence, code, message: `retiring the old password failed: ${why}`, liveVerified: action.liveVerified, steps: timings }), sleep);
          log.warn({ ...ctx, code, state: res.state }, 'retire job failed; the old password still works');
          return res.state === 'stuck' ? 'stuck' : res.state === 'failed' ? 'failed' : 'retry';
        }
      }
    }
  } catch (err) {
    if (isSikkerKeyError(err, 'SK_ERR_ROTATION_FENCED')) return 'fenced';
    if (err instanceof LeaseLostError) return 'lease-lost';
    throw err;
  } finally {
    lease.stop();
  }
}
