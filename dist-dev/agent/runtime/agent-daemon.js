import { pino } from 'pino';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import { VaultClient } from '../../protocol/client.js';
import { loadProvider } from '../../providers/registry.js';
import { withSanitizer } from '../../providers/sanitize.js';
import { runRotateJob } from '../rotation/run-job.js';
import { runPreflightJob } from '../rotation/run-preflight.js';
import { runRetireJob } from '../rotation/run-retire.js';
import { agentVault } from './vault-api.js';
import { createAgentMetrics } from './metrics.js';
import { startHealthServer } from './health-server.js';
import { faultPoint } from '../../protocol/fault-points.js';
import { ProviderPool } from './provider-pool.js';
import { SECRET_REDACT_PATHS } from '../../protocol/secret-fields.js';
/** Credentials travel in claim responses only; none of these fields may reach a log line. */
const REDACT = [...SECRET_REDACT_PATHS];
export function createAgentLogger(level) {
    return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid, component: 'agent' } });
}
/** Backoff for an unreachable vault: 1 s doubling to 60 s, with ±25 % jitter. */
export class Backoff {
    attempt = 0;
    next() {
        const base = Math.min(60_000, 1000 * 2 ** this.attempt);
        this.attempt = Math.min(this.attempt + 1, 10);
        return Math.round(base * (0.75 + Math.random() * 0.5));
    }
    reset() {
        this.attempt = 0;
    }
}
/**
 * The agent's main loop: long-poll the vault for due jobs, claim, run each through its provider,
 * report. SIGTERM stops polling and lets running jobs finish (bounded); a second SIGTERM exits.
 */
export class AgentDaemon {
    config;
    log;
    vault;
    metrics = createAgentMetrics();
    running = new Set();
    stopping = new AbortController();
    lastContact = 0;
    providers = new ProviderPool();
    health;
    constructor(config, deps = {}) {
        this.config = config;
        this.log = deps.log ?? createAgentLogger(config.log.level);
        if (deps.vault) {
            this.vault = deps.vault;
        }
        else {
            // Read (and permission-check) the key now, so a bad key file stops the start, not the first poll.
            const key = readPrivateKeyFile(config.keyFile);
            const client = new VaultClient({
                url: config.vaultUrl, key: { keyId: key.keyId, privateKey: key.privateKey },
                ...(config.caFile ? { caFile: config.caFile } : {}), ...(config.pinSha256 ? { pinSha256: config.pinSha256 } : {}),
            });
            this.vault = agentVault(client);
        }
    }
    async start() {
        this.health = await startHealthServer(this.config.health.listen, {
            metrics: this.metrics,
            ready: () => Date.now() - this.lastContact < (this.config.pollWaitSeconds + 30) * 1000,
        });
        this.log.info({ vaultUrl: this.config.vaultUrl, health: this.config.health.listen, concurrency: this.config.concurrency }, 'agent started');
    }
    /** Polls until stop() is called; resolves after the running jobs finished. */
    async run() {
        const backoff = new Backoff();
        while (!this.stopping.signal.aborted) {
            if (this.running.size >= this.config.concurrency) {
                await Promise.race(this.running);
                continue;
            }
            let jobs;
            try {
                jobs = await this.vault.poll(this.config.pollWaitSeconds, this.stopping.signal);
                this.contact();
                backoff.reset();
                this.metrics.polls.inc({ result: jobs.length > 0 ? 'jobs' : 'empty' });
            }
            catch (err) {
                if (this.stopping.signal.aborted)
                    break;
                const delay = backoff.next();
                this.metrics.polls.inc({ result: 'error' });
                this.log.warn({ code: isSikkerKeyError(err) ? err.code : 'error', message: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'vault unreachable; backing off');
                await this.sleep(delay);
                continue;
            }
            await this.claimAll(jobs);
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
     */
    async claimAll(jobs) {
        const claiming = new Set();
        for (const job of jobs) {
            while (this.running.size + claiming.size >= this.config.concurrency && !this.stopping.signal.aborted) {
                await Promise.race([...this.running, ...claiming]);
            }
            if (this.stopping.signal.aborted)
                break;
            const attempt = this.claim(job.id).then((claimed) => {
                if (!claimed)
                    return;
                const task = this.work(claimed).finally(() => this.running.delete(task));
                this.running.add(task);
            }).finally(() => claiming.delete(attempt));
            claiming.add(attempt);
        }
        await Promise.allSettled(claiming);
    }
    async claim(id) {
        try {
            const job = await this.vault.claim(id);
            this.contact();
            return job;
        }
        catch (err) {
            // Another agent took it, or it is not due: the next poll tells what is left.
            this.log.debug({ rotationId: id, code: isSikkerKeyError(err) ? err.code : 'error' }, 'claim refused');
            return undefined;
        }
    }
    async work(job) {
        const started = Date.now();
        this.metrics.active.inc();
        let outcome = 'error';
        const key = ProviderPool.keyOf(job);
        const reused = this.providers.take(key);
        let provider;
        // What initialize said, kept with the provider so a reused one still knows its flavour.
        let init = reused?.init;
        try {
            if (reused !== undefined) {
                provider = reused.provider;
            }
            else {
                // Inside the try: a driver that cannot load fails this job, never the agent.
                const loaded = withSanitizer(await loadProvider(job.engine));
                provider = { ...loaded, initialize: async (req) => (init = await loaded.initialize(req)) };
            }
            await faultPoint('after-claim');
            if (job.kind === 'preflight') {
                outcome = await runPreflightJob(job, provider, this.vault, this.log);
            }
            else if (job.kind === 'retire') {
                outcome = await runRetireJob(job, provider, this.vault, this.log, reused ? { initialized: reused.init } : {});
            }
            else {
                outcome = await runRotateJob(job, provider, this.vault, this.log, reused ? { initialized: reused.init } : {});
            }
        }
        catch (err) {
            outcome = await this.failUnloadable(job, provider === undefined, err);
        }
        finally {
            // Kept for the next job only when this one ended cleanly (a rotation that promoted).
            if (provider !== undefined)
                this.providers.give(key, provider, init, outcome === 'promoted' && job.kind === 'rotate');
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
    async failUnloadable(job, unloaded, err) {
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
        }
        catch (reportErr) {
            this.log.warn({ rotationId: job.id, code: isSikkerKeyError(reportErr) ? reportErr.code : 'error' }, 'could not report the failure; the vault will offer the job again');
            return 'error';
        }
    }
    contact() {
        this.lastContact = Date.now();
        this.metrics.lastContact.set(Math.floor(this.lastContact / 1000));
    }
    sleep(ms) {
        return new Promise((resolve) => {
            const onAbort = () => { clearTimeout(t); resolve(); };
            const t = setTimeout(() => {
                // Removed each time: a long outage means many backoffs, and listeners must not pile up.
                this.stopping.signal.removeEventListener('abort', onAbort);
                resolve();
            }, ms);
            this.stopping.signal.addEventListener('abort', onAbort, { once: true });
        });
    }
    async stop() {
        this.stopping.abort();
        await Promise.allSettled(this.running);
        await this.providers.closeAll();
        await new Promise((resolve) => (this.health ? this.health.close(() => resolve()) : resolve()));
    }
}
//# sourceMappingURL=agent-daemon.js.map