import type { Logger } from 'pino';
import type { AgentConfig } from '../config.js';
import type { AgentVault } from './vault-api.js';
export declare function createAgentLogger(level: string): Logger;
/** Backoff for an unreachable vault: 1 s doubling to 60 s, with ±25 % jitter. */
export declare class Backoff {
    private attempt;
    next(): number;
    reset(): void;
}
/**
 * The agent's main loop: long-poll the vault for due jobs, claim, run each through its provider,
 * report. SIGTERM stops polling and lets running jobs finish (bounded); a second SIGTERM exits.
 */
export declare class AgentDaemon {
    private readonly config;
    private readonly log;
    private readonly vault;
    private readonly metrics;
    private readonly running;
    private readonly stopping;
    private lastContact;
    private readonly providers;
    private health;
    constructor(config: AgentConfig, deps?: {
        log?: Logger;
        vault?: AgentVault;
    });
    start(): Promise<void>;
    /** Polls until stop() is called; resolves after the running jobs finished. */
    run(): Promise<void>;
    /**
     * Claims the jobs of one poll, several at once: claims and running jobs together never exceed
     * `concurrency`, and each claim that succeeds starts its job at once. One claim at a time, each
     * waiting for a round trip and an fsynced vault transaction, kept 2–3 of 16 slots busy
     * (bench/fleet-bench.ts); in parallel 10–16 are. That pays where the vault has headroom; on a
     * saturated vault the rate is the vault's either way (docs/benchmarks-agent.md). A job claimed by
     * someone else in the meantime is refused and skipped, as before.
     */
    private claimAll;
    private claim;
    private work;
    /**
     * A job that threw. When the provider could not even be loaded nothing was touched: the vault
     * is told so (SK_ERR_PROVIDER_UNAVAILABLE), and a rotation no earlier claim may have applied
     * ends `failed` with the live credential untouched. Anything else is left to the lease: the
     * vault offers the job again once it lapses.
     */
    private failUnloadable;
    private contact;
    private sleep;
    stop(): Promise<void>;
}
