import { Counter, Gauge, Histogram, Registry } from 'prom-client';
/**
 * The vault's Prometheus metrics. One registry per app instance (tests build several in one
 * process). Labels never carry a secret, a key or a key id.
 */
export declare function createVaultMetrics(): {
    registry: Registry<"text/plain; version=0.0.4; charset=utf-8">;
    requests: Counter<"status" | "route">;
    authFailures: Counter<"code">;
    verifications: Counter<string>;
    verifySeconds: Histogram<string>;
    rotations: Counter<"kind" | "result">;
    longPolls: Gauge<string>;
    storeSeconds: Histogram<"outcome">;
    canaryTrips: Counter<string>;
    watchUnchanged: Counter<string>;
    batchJobs: Histogram<"outcome">;
    cacheInvalidations: Counter<string>;
    auditEvents: Counter<"action">;
};
export type VaultMetrics = ReturnType<typeof createVaultMetrics>;
