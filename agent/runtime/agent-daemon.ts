import { pino } from 'pino';
import type { Logger } from 'pino';
import type { Server } from 'node:http';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import { VaultClient } from '../../protocol/client.js';
import type { ClaimResponse, DriftProbe, Engine, LeaseJobClaim, LeaseJobSummary } from '../../protocol/api-types.js';
import { loadProvider } from '../../providers/registry.js';
import { withSanitizer } from '../../providers/sanitize.js';
import type { AgentConfig } from '../config.js';
import { runRotateJob } from '../rotation/run-job.js';
import { runPreflightJob } from '../rotation/run-preflight.js';
import { runRetireJob } from '../rotation/run-retire.js';
import { runDriftProbe } from '../rotation/run-drift-probe.js';
import type { JobOutcome } from '../rotation/run-job.js';
import { agentVault } from './vault-api.js';
import type { AgentVault, PollAnswer } from './vault-api.js';
import { leaseTarget, runLeaseJob } from '../leases/run-lease-job.js';
import type { LeaseJobResult } from '../leases/run-lease-job.js';
import { reconcileLeases } from '../leases/reconcile.js';
import { createAgentMetrics } from './metrics.js';
import { startHealthServer } from './health-server.js';
import { faultPoint } from '../../protocol/fault-points.js';
import { ProviderPool } from './provider-pool.js';
import type { CredentialProvider, InitializeResponse } from '../../providers/provider.js';
import { SECRET_REDACT_PATHS } from '../../protocol/secret-fields.js';

/** A provider taken for one job (AgentDaemon.providerFor): `init()` is what its initialize answered, once it has. */
interface PooledProvider {
  provider: CredentialProvider;
  reused: boolean;
  init: () => InitializeResponse | undefined;
}

/** Credentials travel in claim responses only; none of these fields may reach a log line. */
const REDACT = [...SECRET_REDACT_PATHS];

export function createAgentLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid, component: 'agent' } });
}

/** Backoff for an unreachable vault: 1 s doubling to 60 s, with ±25 % jitter. */
export class Backoff {
  private attempt = 0;
  next(): number {
    const base = Math.min(60_000, 1000 * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 10);
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }
  reset(): void {
    this.attempt = 0;
  }
}

/**
 * The agent's main loop: long-poll the vault for due jobs (rotation jobs and lease jobs), claim,
 * run each through its provider, report. Beside it: drift probes, and the lease reconcile at start
 * and every `leaseReconcileSeconds` (agent/leases/). SIGTERM stops polling and lets running jobs
 * finish (bounded); a second SIGTERM exits.
 */
export class AgentDaemon {
  private readonly log: Logger;
  private readonly vault: AgentVault;
  private readonly metrics = createAgentMetrics();
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private lastContact = 0;
  /** As many kept per database as jobs run at once. */
  private readonly providers: ProviderPool;
  private health: Server | undefined;

  /** A read the offline cache served for the templates `run` keeps (agent/delivery/offline-cache.ts). */
  countCacheRead(): void {
    this.metrics.cacheReads.inc();
  }

  constructor(private readonly config: AgentConfig, deps: { log?: Logger; vault?: AgentVault } = {}) {
    this.log = deps.log ?? createAgentLogger(config.log.level);
    this.providers = new ProviderPool(30_000, config.concurrency);
    if (deps.vault) {
      this.vault = deps.vault;
    } else {
      // Read (and permission-check) the key now, so a bad key file stops the start, not the first poll.
      const key = readPrivateKeyFile(config.keyFile);
      const client = new VaultClient({
        url: config.vaultUrl, key: { keyId: key.keyId, privateKey: key.privateKey },
        ...(config.caFile ? { caFile: config.caFile } : {}), ...(config.pinSha256 ? { pinSha256: config.pinSha256 } : {}),
      });
      this.vault = agentVault(client);
    }
  }

  async start(): Promise<void> {
    this.health = await startHealthServer(this.config.health.listen, {
      metrics: this.metrics,
      ready: () => Date.now() - this.lastContact < (this.config.pollWaitSeconds + 30) * 1000,
    });
    this.log.info({ vaultUrl: this.config.vaultUrl, health: this.config.health.listen, concurrency: this.config.concurrency }, 'agent started');
  }

  /** Polls until stop() is called; resolves after the running jobs (and a drift probe in progress) finished. */
  async run(): Promise<void> {
    const drift = this.driftLoop();
    const leases = this.leaseReconcileLoop();
    try {
      await this.pollLoop();
    } finally {
      await drift;
      await leases;
    }
  }

  private async pollLoop(): Promise<void> {
    const backoff = new Backoff();
    while (!this.stopping.signal.aborted) {
      if (this.running.size >= this.config.concurrency) {
        await Promise.race(this.running);
        continue;
      }
      let answer: PollAnswer;
      try {
        answer = await this.vault.poll(this.config.pollWaitSeconds, this.stopping.signal);
        this.contact();
        backoff.reset();
        this.metrics.polls.inc({ result: answer.jobs.length + answer.leaseJobs.length > 0 ? 'jobs' : 'empty' });
      } catch (err) {
        if (this.stopping.signal.aborted) break;
        const delay = backoff.next();
        this.metrics.polls.inc({ result: 'error' });
        this.log.warn({ code: isSikkerKeyError(err) ? err.code : 'error', message: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'vault unreachable; backing off');
        await this.sleep(delay);
        continue;
      }
      await this.claimAll(answer);
    }
    await Promise.allSettled(this.running);
  }

  /**
   * Claims the jobs of one poll, several at once: claims and running jobs together never exceed
   * `concurrency`, and each claim that succeeds starts its job at once. One claim at a time, each
   * waiting for a round trip and an fsynced vault transaction, kept 2–3 of 16 slots busy
   * (bench/fleet-bench.ts); in parallel 10–16 are. That pays where the vault has headroom; on a
   * saturated vault the rate is the vault's either way (docs/benchmarks-agent.md). A job claimed by
   * someone else in the meantime is refused and skipped, as before.
   *
   * Lease jobs go first — a machine waits on each create (the vault's long-poll answer to it) —
   * and in batches: as many as there are free slots, in one signed request.
   */
  private async claimAll(answer: PollAnswer): Promise<void> {
    await this.claimLeases(answer.leaseJobs);
    const claiming = new Set<Promise<void>>();
    for (const job of answer.jobs) {
      while (this.running.size + claiming.size >= this.config.concurrency && !this.stopping.signal.aborted) {
        await Promise.race([...this.running, ...claiming]);
      }
      if (this.stopping.signal.aborted) break;
      const attempt: Promise<void> = this.claim(job.id).then((claimed) => { if (claimed) this.track(this.work(claimed)); }).finally(() => claiming.delete(attempt));
      claiming.add(attempt);
    }
    await Promise.allSettled(claiming);
  }

  private track(work: Promise<void>): void {
    const task = work.finally(() => this.running.delete(task));
    this.running.add(task);
  }

  /** The poll's lease jobs, claimed in batches that fill the free slots; each claimed job starts at once. */
  private async claimLeases(jobs: readonly LeaseJobSummary[]): Promise<void> {
    const left = jobs.map((j) => j.id);
    while (left.length > 0 && !this.stopping.signal.aborted) {
      while (this.running.size >= this.config.concurrency && !this.stopping.signal.aborted) await Promise.race(this.running);
      if (this.stopping.signal.aborted) break;
      const ids = left.splice(0, this.config.concurrency - this.running.size);
      try {
        const batch = await this.vault.claimLeaseJobs(ids);
        this.contact();
        for (const r of batch.refused) this.log.debug({ leaseJobId: r.id, code: r.code }, 'lease job claim refused');
        for (const claimed of batch.claims) this.track(this.workLease(claimed));
      } catch (err) {
        this.log.debug({ leaseJobs: ids.length, code: isSikkerKeyError(err) ? err.code : 'error' }, 'lease job claims refused');
      }
    }
  }

  /** One lease job (agent/leases/run-lease-job.ts), with a pooled provider for its admin and endpoint. */
  private async workLease(job: LeaseJobClaim): Promise<void> {
    const key = ProviderPool.keyOf({ engine: job.engine, admin: job.admin, target: leaseTarget(job) });
    let got: PooledProvider | undefined;
    let result: LeaseJobResult = 'error';
    this.metrics.active.inc();
    try {
      got = await this.providerFor(job.engine, key);
      result = await runLeaseJob(job, got.provider, this.vault, this.log, got.reused ? { initialized: got.init() } : {});
    } catch (err) {
      // the provider could not be loaded: nothing was touched; the vault hears why
      const code = isSikkerKeyError(err) ? err.code : 'SK_ERR_PROVIDER_UNAVAILABLE';
      const message = err instanceof Error ? err.message : String(err);
      this.log.error({ leaseJobId: job.id, engine: job.engine, code, message }, 'lease job could not run');
      result = await this.vault.failLeaseJob(job.id, { fence: job.fence, code, message }).then(() => 'failed' as const, () => 'error' as const);
    } finally {
      if (got !== undefined) this.providers.give(key, got.provider, got.init(), result === 'confirmed');
      this.metrics.active.dec();
      this.metrics.leaseJobs.inc({ engine: job.engine, kind: job.kind, result });
    }
  }

  /**
   * The lease reconcile (agent/leases/reconcile.ts), once at start and then every
   * `leaseReconcileSeconds`. A vault without lease routes (404) or one that cannot be reached is
   * noted at debug level: the poll loop reports an unreachable vault.
   */
  private async leaseReconcileLoop(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      try {
        const summary = await reconcileLeases({
          vault: this.vault,
          provider: async (engine) => withSanitizer(await loadProvider(engine)),
          log: this.log,
          onDrop: (engine, result) => this.metrics.leaseJobs.inc({ engine, kind: 'reconcile-drop', result }),
        });
        if (summary.dropped > 0 || summary.errors > 0 || summary.foreign > 0) this.log.info({ ...summary }, 'lease reconcile');
      } catch (err) {
        this.log.debug({ code: isSikkerKeyError(err) ? err.code : 'error' }, 'could not reconcile leases; trying again later');
      }
      await this.sleep(this.config.leaseReconcileSeconds * 1000);
    }
  }

  private async claim(id: string): Promise<ClaimResponse | undefined> {
    try {
      const job = await this.vault.claim(id);
      this.contact();
      return job;
    } catch (err) {
      // Another agent took it, or it is not due: the next poll tells what is left.
      this.log.debug({ rotationId: id, code: isSikkerKeyError(err) ? err.code : 'error' }, 'claim refused');
      return undefined;
    }
  }

  private async work(job: ClaimResponse): Promise<void> {
    const started = Date.now();
    this.metrics.active.inc();
    let outcome: JobOutcome | 'error' = 'error';
    const key = ProviderPool.keyOf(job);
    let got: PooledProvider | undefined;
    try {
      // Inside the try: a driver that cannot load fails this job, never the agent.
      got = await this.providerFor(job.engine, key);
      const initialized = got.reused ? { initialized: got.init() } : {};
      await faultPoint('after-claim');
      if (job.kind === 'preflight') {
        outcome = await runPreflightJob(job, got.provider, this.vault, this.log);
      } else if (job.kind === 'retire') {
        outcome = await runRetireJob(job, got.provider, this.vault, this.log, initialized);
      } else {
        outcome = await runRotateJob(job, got.provider, this.vault, this.log, initialized);
      }
    } catch (err) {
      outcome = await this.failUnloadable(job, got === undefined, err);
    } finally {
      // Kept for the next job only when this one ended cleanly (a rotation that promoted).
      if (got !== undefined) this.providers.give(key, got.provider, got.init(), outcome === 'promoted' && job.kind === 'rotate');
      this.metrics.active.dec();
      this.metrics.jobs.inc({ engine: job.engine, kind: job.kind, outcome });
      this.metrics.duration.observe({ engine: job.engine, kind: job.kind }, (Date.now() - started) / 1000);
    }
  }

  /**
   * A job that threw. When the provider could not even be loaded nothing was touched: the vault
   * is told so (SK_ERR_PROVIDER_UNAVAILABLE), and a rotation no earlier claim may have applied
   * ends `failed` with the live credential untouched. Anything else is left to the lease: the
   * vault offers the job again once it lapses.
   */
  private async failUnloadable(job: ClaimResponse, unloaded: boolean, err: unknown): Promise<JobOutcome | 'error'> {
    const code = isSikkerKeyError(err) ? err.code : 'error';
    const message = err instanceof Error ? err.message : String(err);
    if (!unloaded) {
      this.log.error({ rotationId: job.id, code, message }, 'job ended with an error; the vault will offer it again');
      return 'error';
    }
    this.log.error({ rotationId: job.id, engine: job.engine, code, message }, `the ${job.engine} provider could not be loaded; the job fails and the agent goes on`);
    const body = {
      fence: job.fence, code: 'SK_ERR_PROVIDER_UNAVAILABLE', liveVerified: false,
      message: `the agent could not load the ${job.engine} provider: ${message}`,
      untouched: job.kind !== 'rotate' || !job.maybeApplied,
    };
    try {
      const res = job.kind === 'preflight'
        ? await this.vault.preflight(job.id, { fence: job.fence, ok: false, problems: [`SK_ERR_PROVIDER_UNAVAILABLE: ${body.message}`] })
        : await this.vault.fail(job.id, body);
      return res.state === 'failed' ? 'failed' : res.state === 'stuck' ? 'stuck' : 'retry';
    } catch (reportErr) {
      this.log.warn({ rotationId: job.id, code: isSikkerKeyError(reportErr) ? reportErr.code : 'error' }, 'could not report the failure; the vault will offer the job again');
      return 'error';
    }
  }

  /**
   * Every `driftPollSeconds`: asks the vault for the drift probes due for this machine's policies
   * and logs in with each live credential, one at a time (a probe is one login; the vault spreads
   * them by each policy's interval). A vault that cannot be reached is the poll loop's to report.
   */
  private async driftLoop(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      try {
        const { probes } = await this.vault.driftProbes();
        for (const probe of probes) {
          if (this.stopping.signal.aborted) break;
          await this.probeDrift(probe);
        }
      } catch (err) {
        this.log.debug({ code: isSikkerKeyError(err) ? err.code : 'error' }, 'could not ask for drift probes; trying again later');
      }
      await this.sleep(this.config.driftPollSeconds * 1000);
    }
  }

  private async probeDrift(probe: DriftProbe): Promise<void> {
    const ctx = { secret: `${probe.project}/${probe.secret}`, engine: probe.engine, version: probe.version };
    const key = ProviderPool.keyOf(probe);
    const reused = this.providers.take(key);
    let provider: CredentialProvider | undefined;
    let init = reused?.init;
    let result = 'unreported';
    try {
      provider = reused?.provider ?? withSanitizer(await loadProvider(probe.engine));
      const found = await runDriftProbe(probe, provider, init);
      init = found.init;
      const res = await this.vault.driftResult(probe.policyId, found.body);
      result = found.result;
      if (found.result === 'refused') this.log.warn({ ...ctx, code: found.body.code }, 'drift: the database refuses the live credential');
      else this.log.info({ ...ctx, result: found.result, recorded: res.result, ...(found.body.code ? { code: found.body.code } : {}) }, 'drift probe');
    } catch (err) {
      this.log.warn({ ...ctx, code: isSikkerKeyError(err) ? err.code : 'error', message: err instanceof Error ? err.message : String(err) }, 'drift probe not reported; the vault offers it again after its lease');
    } finally {
      if (provider !== undefined) this.providers.give(key, provider, init, init !== undefined);
      this.metrics.driftProbes.inc({ engine: probe.engine, result });
    }
  }

  /**
   * The provider a job of `engine` under `key` runs with: the pool's idle one (initialized
   * already), or a fresh one whose initialize() answer is remembered — kept with the provider so a
   * reused one still knows its flavour. Throws when the engine's driver cannot be loaded.
   */
  private async providerFor(engine: Engine, key: string): Promise<PooledProvider> {
    const reused = this.providers.take(key);
    if (reused !== undefined) return { provider: reused.provider, reused: true, init: () => reused.init };
    const loaded = withSanitizer(await loadProvider(engine));
    let init: InitializeResponse | undefined;
    return { provider: { ...loaded, initialize: async (req) => (init = await loaded.initialize(req)) }, reused: false, init: () => init };
  }

  private contact(): void {
    this.lastContact = Date.now();
    this.metrics.lastContact.set(Math.floor(this.lastContact / 1000));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const onAbort = (): void => { clearTimeout(t); resolve(); };
      const t = setTimeout(() => {
        // Removed each time: a long outage means many backoffs, and listeners must not pile up.
        this.stopping.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.stopping.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled(this.running);
    await this.providers.closeAll();
    await new Promise<void>((resolve) => (this.health ? this.health.close(() => resolve()) : resolve()));
  }
}
