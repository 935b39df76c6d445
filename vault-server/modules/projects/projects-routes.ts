import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { createProject, listProjects, rotateProjectKey, unlockProject } from './projects-service.js';
import { callerOf } from '../../http/caller.js';

const projectParams = { type: 'object', required: ['project'], properties: { project: { type: 'string', pattern: NAME_PATTERN } } } as const;

export function projectsRoutes(app: FastifyInstance, ctx: VaultContext): void {
  app.post<{ Body: { name: string } }>('/v1/projects', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'projects:write', returnsValues: false },
    schema: { body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', pattern: NAME_PATTERN } } } },
  }, async (req, reply) => reply.code(201).send({ project: await createProject(ctx, callerOf(req), req.body.name) }));

  app.get('/v1/projects', { config: { auth: ['operator', 'ai_agent'], scope: 'projects:read', returnsValues: false } }, async () => ({ projects: await listProjects(ctx) }));

  app.post<{ Params: { project: string }; Body: { reason: string } }>('/v1/projects/:project/unlock', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: { params: projectParams, body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: { type: 'string', minLength: 1, maxLength: 1000 } } } },
  }, async (req) => ({ project: await unlockProject(ctx, callerOf(req), req.params.project, req.body.reason) }));

  app.post<{ Params: { project: string } }>('/v1/projects/:project/rotate-key', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'projects:write', returnsValues: false }, schema: { params: projectParams },
  }, async (req) => rotateProjectKey(ctx, callerOf(req), req.params.project));
}
