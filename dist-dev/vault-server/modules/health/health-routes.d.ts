import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
export interface HealthRoutesOptions {
    /** Serve `/metrics` (default true; `metrics.enabled: false` in the vault config turns it off). */
    metrics?: boolean;
}
/**
 * Operational endpoints on the main listener, unauthenticated (a probe or Prometheus cannot sign):
 * `/healthz` (the process answers), `/readyz` (store reachable, migrations current, root key
 * loaded), `/metrics` (Prometheus text). `/healthz` and `/readyz` are exempt from `--allow-cidr`;
 * `/metrics` is not. None of them names a key id, a key or a secret.
 *
 * @example
 *   healthRoutes(app, ctx, { metrics: config.metrics.enabled });
 *   // GET /readyz → 200 {"status":"ready","checks":{"store":"ok","migrations":"current","rootKey":"loaded"}}
 */
export declare function healthRoutes(app: FastifyInstance, ctx: VaultContext, opts?: HealthRoutesOptions): void;
