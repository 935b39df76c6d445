import type { VaultContext } from '../../context.js';
/** A store that does not answer within this is "unreachable" for readiness (a black-holed host would otherwise hold the probe for the pool's connect timeout). */
export declare const READY_TIMEOUT_MS = 2000;
export interface Readiness {
    ready: boolean;
    checks: {
        store: 'ok' | 'unreachable';
        migrations: 'current' | 'pending' | 'unknown';
        rootKey: 'loaded' | 'mismatch' | 'unknown';
    };
}
export declare function readiness(ctx: Pick<VaultContext, 'store' | 'keyring'>): Promise<Readiness>;
/**
 * Registers gauges computed at scrape time from the store: rotation jobs by state (one grouped
 * query; the counters in `ctx.metrics` count what this process did, these count what the store
 * holds, the same on every replica). A store that does not answer leaves them empty for that scrape.
 */
export declare function registerStoreGauges(ctx: Pick<VaultContext, 'store' | 'metrics'>): void;
