import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The vault's Prometheus metrics. One registry per app instance (tests build several in one
 * process). Labels never carry a secret, a key or a key id.
 */
export function createVaultMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sikkerkey_vault_' });
  return {
    registry,
    requests: new Counter({ name: 'sikkerkey_http_requests_total', help: 'Requests answered, by route and status', labelNames: ['route', 'status'], registers: [registry] }),
    authFailures: new Counter({ name: 'sikkerkey_auth_failures_total', help: 'Refused authentications, by error code', labelNames: ['code'], registers: [registry] }),
    verifications: new Counter({ name: 'sikkerkey_signature_verifications_total', help: 'Ed25519 signature verifications performed', registers: [registry] }),
    verifySeconds: new Histogram({ name: 'sikkerkey_signature_verify_seconds', help: 'Time to authenticate a signed request', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1], registers: [registry] }),
    rotations: new Counter({ name: 'sikkerkey_rotations_total', help: 'Rotation steps, by kind and result', labelNames: ['kind', 'result'], registers: [registry] }),
    longPolls: new Gauge({ name: 'sikkerkey_agent_long_polls_held', help: 'Agent long-polls being held open', registers: [registry] }),
    storeSeconds: new Histogram({ name: 'sikkerkey_store_transaction_seconds', help: 'Duration of store write transactions, by outcome', labelNames: ['outcome'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] }),
    policyRefusals: new Counter({ name: 'sikkerkey_policy_refusals_total', help: 'Secret reads refused by an access policy, by axis', labelNames: ['axis'], registers: [registry] }),
    canaryTrips: new Counter({ name: 'sikkerkey_canary_trips_total', help: 'Canary secrets tripped', registers: [registry] }),
    watchUnchanged: new Counter({ name: 'sikkerkey_secret_watch_unchanged_total', help: 'Secret watches (?waitForVersionAfter) answered 304: no newer version within the wait; not audited', registers: [registry] }),
    batchJobs: new Histogram({ name: 'sikkerkey_store_batch_jobs', help: 'Requests committed together in one group-commit transaction, by outcome', labelNames: ['outcome'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [registry] }),
    cacheInvalidations: new Counter({ name: 'sikkerkey_cache_invalidations_total', help: 'Times the in-memory caches were emptied because the store changed (or a write rolled back)', registers: [registry] }),
    auditEvents: new Counter({ name: 'sikkerkey_audit_events_total', help: 'Audit events appended, by action', labelNames: ['action'], registers: [registry] }),
  };
}
export type VaultMetrics = ReturnType<typeof createVaultMetrics>;
