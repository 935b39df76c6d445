import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { createProject, getProject, listProjects, rotateProjectKey, unlockProject } from './projects-service.js';
import { setProjectAuditRetention } from './project-audit-retention.js';
import { callerOf } from '../../http/caller.js';

const projectParams = { type: 'object', required: ['project'], properties: { project: { type: 'string', pattern: NAME_PATTERN } } } as const;

export function projectsRoutes(app: FastifyInstance, ctx: VaultContext): void {
  app.post<{ Body: { name: string } }>('/v1/projects', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'projects:write', returnsValues: false },
    schema: { body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', pattern: NAME_PATTERN } } } },
  }, async (req, reply) => reply.code(201).send({ project: await createProject(ctx, callerOf(req), req.body.name) }));

  app.get('/v1/projects', { config: { auth: ['operator', 'ai_agent'], scope: 'projects:read', returnsValues: false } }, async () => ({ projects: await listProjects(ctx) }));

  app.get<{ Params: { project: string } }>('/v1/projects/:project', {
    config: { auth: ['operator', 'ai_agent'], scope: 'projects:read', returnsValues: false }, schema: { params: projectParams },
  }, async (req) => ({ project: await getProject(ctx, req.params.project) }));

  // How long the project's audit events are kept, if longer than the vault's retention; null: the
  // vault's. Operators only (an AI agent's projects:write does not reach the audit log's keeping).
  app.put<{ Params: { project: string }; Body: { retention: string | null } }>('/v1/projects/:project/audit-retention', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: {
      params: projectParams,
      body: { type: 'object', additionalProperties: false, required: ['retention'], properties: { retention: { type: ['string', 'null'], minLength: 1, maxLength: 32 } } },
    },
  }, async (req) => ({ project: await setProjectAuditRetention(ctx, callerOf(req), req.params.project, req.body.retention) }));

  app.post<{ Params: { project: string }; Body: { reason: string } }>('/v1/projects/:project/unlock', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: { params: projectParams, body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: { type: 'string', minLength: 1, maxLength: 1000 } } } },
  }, async (req) => ({ project: await unlockProject(ctx, callerOf(req), req.params.project, req.body.reason) }));

  app.post<{ Params: { project: string } }>('/v1/projects/:project/rotate-key', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'projects:write', returnsValues: false }, schema: { params: projectParams },
  }, async (req) => rotateProjectKey(ctx, callerOf(req), req.params.project));
}
