import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';
import type { AgentStepName, AgentStepTiming, FailBody, RotateJob, RotationStepResponse } from '../../protocol/api-types.js';
import { flavourSpec, refusal } from '../../protocol/engines.js';
import type { CredentialProvider, InitializeResponse } from '../../providers/provider.js';
import { decideRotate, type ChangeResult, type Probe, type RotateFacts, type UndoStep } from './decide.js';
import { faultPoint } from '../../protocol/fault-points.js';
import { LeaseKeeper, LeaseLostError } from './lease-keeper.js';

/** The vault calls a job makes (narrow, so tests and the runner agree on exactly these). */
export interface JobVault {
  heartbeat(id: string, fence: number): Promise<{ leaseSeconds: number }>;
  applied(id: string, fence: number): Promise<RotationStepResponse>;
  /** `steps`: this claim's step timings, shown in the job's timeline (omitted by callers that time nothing). */
  confirm(id: string, fence: number, steps?: AgentStepTiming[]): Promise<RotationStepResponse>;
  fail(id: string, body: FailBody): Promise<RotationStepResponse>;
}

export type JobOutcome = 'promoted' | 'retired' | 'preflight_passed' | 'failed' | 'retry' | 'stuck' | 'fenced' | 'lease-lost';

export type Sleep = (ms: number) => Promise<void>;
export const defaultSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export interface JobOptions {
  /** A provider kept from the previous job of the same admin and endpoint: what its initialize said. */
  initialized?: InitializeResponse;
  /** Waits between retries (tests make it instant). */
  sleep?: Sleep;
}

/** The provider's answer as a SikkerKeyError (anything else becomes SK_ERR_PROVIDER_FAILED). */
export function asSkError(err: unknown): SikkerKeyError {
  return isSikkerKeyError(err) ? err : new SikkerKeyError('SK_ERR_PROVIDER_FAILED', err instanceof Error ? err.message : String(err), { cause: err });
}

/**
 * Codes with which the database said it did nothing: a change refused this way needs no undo.
 * Anything else (a dropped connection, an unmapped error) may or may not have taken effect.
 */
const REFUSED_CODES: ReadonlySet<string> = new Set([
  'SK_ERR_PROVIDER_PRIVILEGE', 'SK_ERR_PROVIDER_CONFIG', 'SK_ERR_PROVIDER_USER_NOT_FOUND',
  'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', 'SK_ERR_PROVIDER_PASSWORD_REUSE',
]);

/** How a change that threw is recorded for decide(). */
export function changeResult(err: SikkerKeyError): ChangeResult {
  return REFUSED_CODES.has(err.code) ? 'refused' : 'unknown';
}

/** A fresh login with exactly this credential: works, refused by the database, or unknown (unreachable…). */
export async function probe(provider: CredentialProvider, username: string, password: string): Promise<Probe> {
  try {
    await provider.verify({ username, password });
    return 'works';
  } catch (err) {
    return isSikkerKeyError(err, 'SK_ERR_PROVIDER_AUTH_FAILED') ? 'refused' : 'unknown';
  }
}

/** Verification right after a change may race a pooler or a replica: a few bounded tries. */
async function verifyWithRetry(provider: CredentialProvider, username: string, password: string, sleep: Sleep, tries = 3): Promise<{ ok: true } | { ok: false; error: SikkerKeyError }> {
  let last: SikkerKeyError = new SikkerKeyError('SK_ERR_PROVIDER_AUTH_FAILED');
  for (let i = 0; i < tries; i++) {
    try {
      await provider.verify({ username, password });
      return { ok: true };
    } catch (err) {
      last = isSikkerKeyError(err) ? err : new SikkerKeyError('SK_ERR_PROVIDER_FAILED', 'verification failed', { cause: err });
      // The Supabase preset has already waited out the pooler's cache within its own budget.
      if (last.code === 'SK_ERR_PROVIDER_POOLER_CACHE') break;
      if (i < tries - 1) await sleep(250 * (i + 1));
    }
  }
  return { ok: false, error: last };
}

/** Retries a report until the vault answers (a lost answer is answered the same again); fenced ends it. */
export async function report<T>(what: string, log: Logger, call: () => Promise<T>, sleep: Sleep = defaultSleep, attempts = 8): Promise<T> {
  let delay = 250;
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      const fatal = isSikkerKeyError(err) && err.statusCode < 500 && err.code !== 'SK_ERR_RATE_LIMITED';
      if (fatal || i >= attempts) throw err;
      log.warn({ step: what, attempt: i, code: isSikkerKeyError(err) ? err.code : 'error' }, 'vault did not take the report; retrying');
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }
}

/**
 * Runs one claimed `rotate` job (DESIGN §6) by carrying out what `decideRotate` says, one action at
 * a time, until it promotes or reports a failure: reconcile (when an earlier claim may have
 * applied) → apply → report applied → verify with a fresh login → confirm; on a failed verify the
 * engine's undo plan, a proof of the live credential, and `fail`. Once the lease is lost the
 * database is not touched again.
 */
export async function runRotateJob(job: RotateJob, provider: CredentialProvider, vault: JobVault, log: Logger, opts: JobOptions = {}): Promise<JobOutcome> {
  const sleep = opts.sleep ?? defaultSleep;
  // Milliseconds each step took, logged with the outcome: where a slow rotation spends its time.
  const steps: Record<string, number> = {};
  let mark = performance.now();
  const step = (name: string): void => {
    const now = performance.now();
    steps[name] = Math.round((now - mark) * 10) / 10;
    mark = now;
  };
  // The timings sent with confirm / fail (the job's timeline, docs/dashboard.md): each step that
  // succeeded, when it ended (this machine's clock) and how long it took.
  const timings: AgentStepTiming[] = [{ step: 'claimed', at: Date.now(), ms: 0 }];
  const timed = (name: AgentStepName, startedAt: number): void => {
    timings.push({ step: name, at: Date.now(), ms: Math.max(0, Math.round(performance.now() - startedAt)) });
  };
  const lease = new LeaseKeeper(job, vault, log);
  lease.start();
  const ctx = { rotationId: job.id, secret: `${job.project}/${job.secret}`, engine: job.engine, user: job.username, fence: job.fence };
  const pending = job.pendingPassword;
  // Under `alternating` the job changes the user that is not live; the live user is the target's.
  const liveUser = job.target['username'] ?? job.username;
  const facts: RotateFacts = { strategy: job.strategy, maybeApplied: job.maybeApplied, undo: [] };
  // The error that explains a failure: the first thing that went wrong.
  let cause: SikkerKeyError | undefined;
  const because = (err: unknown): SikkerKeyError => {
    const e = asSkError(err);
    cause ??= e;
    return e;
  };
  // `applied` is sent right after the apply, without waiting, and must be acknowledged before confirming.
  let applied: Promise<RotationStepResponse> | undefined;
  const reportApplied = (): Promise<RotationStepResponse> => {
    applied ??= report('applied', log, () => vault.applied(job.id, job.fence), sleep);
    return applied;
  };

  try {
    for (;;) {
      const action = decideRotate(facts);
      switch (action.do) {
        case 'initialize': {
          const started = performance.now();
          try {
            const init = opts.initialized ?? (await provider.initialize({ admin: job.admin, target: job.target }));
            facts.init = 'ok';
            timed('connected', started);
            facts.slots = flavourSpec(init.flavour).slots;
            facts.refusal = refusal({ engine: job.engine, flavour: init.flavour, version: init.serverVersion }, job.strategy);
          } catch (err) {
            because(err);
            facts.init = 'failed';
          }
          step('initialize');
          break;
        }
        case 'reconcile':
          // An earlier claim may have applied the pending credential: roll forward if it works.
          {
            const started = performance.now();
            facts.reconcile = await probe(provider, job.username, pending);
            if (facts.reconcile === 'works') timed('verified', started);
          }
          log.info({ ...ctx, pendingProbe: facts.reconcile }, 'reconciling a rotation an earlier claim may have applied');
          break;
        case 'apply': {
          lease.assertHeld();
          const started = performance.now();
          try {
            const op = action.op === 'addPassword' ? provider.addPassword : provider.setPassword;
            if (op === undefined) throw new SikkerKeyError('SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', `the ${job.engine} provider cannot add a password`);
            await op.call(provider, { username: job.username, password: pending });
            facts.apply = 'ok';
            timed('applied', started);
          } catch (err) {
            facts.apply = changeResult(because(err));
            lease.assertHeld();
          }
          step('update');
          if (facts.apply === 'ok') {
            await faultPoint('after-update');
            // the vault has assumed since the claim that the database may hold the pending
            // credential (maybe_applied), so the fresh login need not wait for the acknowledgement
            reportApplied().catch(() => undefined); // awaited below; keeps an early rejection from being unhandled
          }
          break;
        }
        case 'verify': {
          const started = performance.now();
          const verified = await verifyWithRetry(provider, job.username, pending, sleep);
          if (verified.ok) timed('verified', started);
          step('verify');
          facts.verify = verified.ok ? 'works' : isSikkerKeyError(verified.error, 'SK_ERR_PROVIDER_AUTH_FAILED') ? 'refused' : 'unknown';
          if (!verified.ok) because(verified.error);
          await reportApplied();
          step('applied');
          await faultPoint('after-applied');
          if (verified.ok) await faultPoint('after-verify');
          else lease.assertHeld();
          break;
        }
        case 'undo': {
          lease.assertHeld();
          const started = performance.now();
          const undone = await undo(action.step);
          if (undone === 'ok') timed('undone', started);
          facts.undo.push(undone);
          break;
        }
        case 'probe-live':
          facts.live = await probe(provider, liveUser, job.livePassword);
          break;
        case 'probe-pending':
          facts.pending = await probe(provider, job.username, pending);
          break;
        case 'promote': {
          if (applied === undefined) {
            await reportApplied();
            await faultPoint('after-applied');
          } else {
            await applied;
          }
          const res = await report('confirm', log, () => vault.confirm(job.id, job.fence, timings), sleep);
          step('confirm');
          await faultPoint('after-confirm');
          log.info({ ...ctx, version: res.version, stepsMs: steps }, 'rotation promoted');
          return 'promoted';
        }
        case 'fail': {
          const first = cause ?? new SikkerKeyError('SK_ERR_PROVIDER_FAILED', 'the rotation did not finish');
          const code = action.code === 'cause' ? first.code : action.code;
          const message = action.code === 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED'
            ? (facts.refusal ?? first.message)
            : action.code === 'SK_ERR_ROTATION_UNDO_REFUSED'
              ? `the new password did not prove itself (${first.code}) and the primary password could not be set back (${facts.undo[0] === 'refused' ? 'the database refused it' : 'no answer'}); the live password may work only as the retained one — resolve with sikkerkey rotation resolve`
              : first.message;
          const body: Omit<FailBody, 'fence'> = {
            code, message, liveVerified: action.liveVerified,
            ...(action.neitherWorks ? { neitherWorks: true } : {}), ...(action.undoRefused ? { undoRefused: true } : {}),
            steps: timings,
          };
          const res = await report('fail', log, () => vault.fail(job.id, { fence: job.fence, ...body }), sleep);
          log.warn({ ...ctx, code: body.code, liveVerified: body.liveVerified, undo: facts.undo, state: res.state }, `rotation not promoted: ${body.message}`);
          return res.state === 'failed' ? 'failed' : res.state === 'stuck' ? 'stuck' : 'retry';
        }
      }
    }
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

  /** One step of the engine's undo plan; a refusal (a reuse policy) is told apart from a failure. */
  async function undo(s: UndoStep): Promise<ChangeResult> {
    try {
      if (s.op === 'setPassword') await provider.setPassword({ username: job.username, password: job.livePassword });
      else if (s.op === 'removePassword') await required(provider.removePassword, 'removePassword').call(provider, { username: job.username, password: pending });
      else await required(provider.discardRetained, 'discardRetained').call(provider, { username: job.username });
      return 'ok';
    } catch (err) {
      const e = asSkError(err);
      log.error({ ...ctx, undo: s.op, code: e.code }, 'could not undo the pending credential');
      return e.code === 'SK_ERR_PROVIDER_PASSWORD_REUSE' ? 'refused' : 'unknown';
    }
  }

  function required<T>(op: T | undefined, name: string): T {
    if (op === undefined) throw new SikkerKeyError('SK_ERR_INTERNAL', `the ${job.engine} provider has no ${name}, which its engine table row needs`);
    return op;
  }
}
