import { NAME_PATTERN } from '../../context.js';
import { createProject, listProjects, rotateProjectKey, unlockProject } from './projects-service.js';
import { callerOf } from '../../http/caller.js';
const projectParams = { type: 'object', required: ['project'], properties: { project: { type: 'string', pattern: NAME_PATTERN } } };
export function projectsRoutes(app, ctx) {
    app.post('/v1/projects', {
        config: { auth: ['operator'], minRole: 'admin' },
        schema: { body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', pattern: NAME_PATTERN } } } },
    }, async (req, reply) => reply.code(201).send({ project: await createProject(ctx, callerOf(req), req.body.name) }));
    app.get('/v1/projects', { config: { auth: ['operator'] } }, async () => ({ projects: await listProjects(ctx) }));
    app.post('/v1/projects/:project/unlock', {
        config: { auth: ['operator'], minRole: 'admin' },
        schema: { params: projectParams, body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: { type: 'string', minLength: 1, maxLength: 1000 } } } },
    }, async (req) => ({ project: await unlockProject(ctx, callerOf(req), req.params.project, req.body.reason) }));
    app.post('/v1/projects/:project/rotate-key', {
        config: { auth: ['operator'], minRole: 'admin' }, schema: { params: projectParams },
    }, async (req) => rotateProjectKey(ctx, callerOf(req), req.params.project));
}
//# sourceMappingURL=projects-routes.js.map