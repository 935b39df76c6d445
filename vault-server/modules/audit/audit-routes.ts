import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import { safeInteger } from '../../http/validation.js';
import { findProject } from '../projects/projects-service.js';
import { listAudit, verifyAuditChain } from './audit-store.js';

export function auditRoutes(app: FastifyInstance, ctx: VaultContext): void {
  app.get<{ Querystring: { project?: string; since?: number; after?: number; limit?: number } }>('/v1/audit', {
    config: { auth: ['operator'] },
    schema: {
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { project: { type: 'string', maxLength: 128 }, since: safeInteger({ minimum: 0 }), after: safeInteger({ minimum: 0 }), limit: safeInteger({ minimum: 1, maximum: 10000 }) },
      },
    },
  }, async (req) => {
    const q = req.query;
    let projectId: string | undefined;
    if (q.project) {
      projectId = (await findProject(ctx.store.db, q.project))?.id;
      if (!projectId) return { events: [] };
    }
    const events = await listAudit(ctx.store.db, {
      ...(projectId ? { projectId } : {}), ...(q.since !== undefined ? { sinceMs: q.since } : {}),
      ...(q.after !== undefined ? { afterSeq: q.after } : {}), ...(q.limit !== undefined ? { limit: q.limit } : {}),
    });
    return { events };
  });

  app.get('/v1/audit/verify', { config: { auth: ['operator'] } }, async () => verifyAuditChain(ctx.store.db));
}
