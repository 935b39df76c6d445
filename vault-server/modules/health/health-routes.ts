import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import { readiness, registerStoreGauges } from './health-service.js';

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
export function healthRoutes(app: FastifyInstance, ctx: VaultContext, opts: HealthRoutesOptions = {}): void {
  app.get('/healthz', { config: { auth: 'none', returnsValues: false } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { auth: 'none', returnsValues: false } }, async (_req, reply) => {
    const r = await readiness(ctx);
    if (r.ready) return { status: 'ready', checks: r.checks };
    const why = r.checks.store !== 'ok'
      ? { code: 'SK_ERR_STORE', message: 'the store is unreachable' }
      : r.checks.migrations !== 'current'
        ? { code: 'SK_ERR_STORE', message: 'the store has migrations this vault has not applied' }
        : { code: 'SK_ERR_ROOT_KEY_WRONG', message: 'the root key in memory does not open this store' };
    return reply.code(503).send({ status: 'not-ready', checks: r.checks, error: why });
  });

  if (opts.metrics ?? true) {
    registerStoreGauges(ctx);
    app.get('/metrics', { config: { auth: 'none', returnsValues: false } }, async (_req, reply) => {
      const text = await ctx.metrics.registry.metrics();
      return reply.header('content-type', ctx.metrics.registry.contentType).send(text);
    });
  }
}
