import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';

export function healthRoutes(app: FastifyInstance, ctx: VaultContext): void {
  app.get('/healthz', { config: { auth: 'none' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { auth: 'none' } }, async (_req, reply) => {
    try {
      await ctx.store.ping();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'not-ready', error: { code: 'SK_ERR_STORE', message: 'the store is unreachable' } });
    }
  });
}
