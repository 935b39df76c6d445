import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { callerOf } from '../../http/caller.js';
import { renameProject } from '../projects/projects-service.js';
import { describeSecret, MAX_TAGS, renameSecret, TAG_KEY_PATTERN, updateSecretMetadata } from '../secrets/secret-metadata.js';
import { deleteProject, deleteSecret, listTrash, purgeTrash, restoreProject, restoreSecret } from './trash-service.js';

const NAME = { type: 'string', pattern: NAME_PATTERN } as const;
const PROJECT_PARAMS = { type: 'object', required: ['project'], properties: { project: NAME } } as const;
const SECRET_PARAMS = { type: 'object', required: ['project', 'name'], properties: { project: NAME, name: NAME } } as const;
const FORCE_QUERY = { type: 'object', additionalProperties: false, properties: { force: { type: 'boolean' } } } as const;
const RENAME_BODY = { type: 'object', additionalProperties: false, required: ['name'], properties: { name: NAME } } as const;

/**
 * Deleting, restoring, purging and renaming projects and secrets, and secrets' metadata
 * (trash-service.ts, secret-metadata.ts). Deletes take `?force=true` (a DELETE carries no body).
 */
export function trashRoutes(app: FastifyInstance, ctx: VaultContext, opts: { trashDays: number }): void {
  app.delete<{ Params: { project: string; name: string }; Querystring: { force?: boolean } }>('/v1/projects/:project/secrets/:name', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'secrets:write', returnsValues: false }, schema: { params: SECRET_PARAMS, querystring: FORCE_QUERY },
  }, async (req) => deleteSecret(ctx, callerOf(req), { ...req.params, force: req.query.force === true }));

  app.post<{ Params: { project: string; name: string } }>('/v1/projects/:project/secrets/:name/restore', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'secrets:write', returnsValues: false }, schema: { params: SECRET_PARAMS },
  }, async (req) => restoreSecret(ctx, callerOf(req), req.params));

  app.delete<{ Params: { project: string; name: string } }>('/v1/projects/:project/canaries/:name', {
    config: { auth: ['operator'], minRole: 'owner', returnsValues: false }, schema: { params: SECRET_PARAMS },
  }, async (req) => deleteSecret(ctx, callerOf(req), { ...req.params, canary: true, force: true }));

  app.delete<{ Params: { project: string }; Querystring: { force?: boolean } }>('/v1/projects/:project', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'projects:write', returnsValues: false }, schema: { params: PROJECT_PARAMS, querystring: FORCE_QUERY },
  }, async (req) => deleteProject(ctx, callerOf(req), { name: req.params.project, force: req.query.force === true }));

  app.post<{ Params: { project: string } }>('/v1/projects/:project/restore', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'projects:write', returnsValues: false }, schema: { params: PROJECT_PARAMS },
  }, async (req) => restoreProject(ctx, callerOf(req), req.params.project));

  app.get('/v1/trash', { config: { auth: ['operator', 'ai_agent'], scope: 'secrets:read', returnsValues: false } }, async () => ({ trashDays: opts.trashDays, items: await listTrash(ctx, opts.trashDays) }));

  app.post<{ Body: { project?: string; name?: string } | undefined }>('/v1/trash/purge', {
    config: { auth: ['operator'], minRole: 'owner', returnsValues: false },
    schema: { body: { type: 'object', additionalProperties: false, properties: { project: NAME, name: NAME } } },
  }, async (req) => purgeTrash(ctx, callerOf(req), { ...(req.body?.project ? { project: req.body.project } : {}), ...(req.body?.name ? { name: req.body.name } : {}) }));

  app.post<{ Params: { project: string }; Body: { name: string } }>('/v1/projects/:project/rename', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'projects:write', returnsValues: false }, schema: { params: PROJECT_PARAMS, body: RENAME_BODY },
  }, async (req) => ({ project: await renameProject(ctx, callerOf(req), req.params.project, req.body.name) }));

  app.post<{ Params: { project: string; name: string }; Body: { name: string } }>('/v1/projects/:project/secrets/:name/rename', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'secrets:write', returnsValues: false }, schema: { params: SECRET_PARAMS, body: RENAME_BODY },
  }, async (req) => ({ secret: await renameSecret(ctx, callerOf(req), req.params.project, req.params.name, req.body.name) }));

  app.get<{ Params: { project: string; name: string } }>('/v1/projects/:project/secrets/:name/metadata', {
    config: { auth: ['operator', 'ai_agent'], scope: 'secrets:read', returnsValues: false }, schema: { params: SECRET_PARAMS },
  }, async (req) => ({ secret: await describeSecret(ctx, req.params.project, req.params.name) }));

  app.post<{ Params: { project: string; name: string }; Body: { description?: string | null; tags?: Record<string, string>; removeTags?: string[] } }>('/v1/projects/:project/secrets/:name/metadata', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'secrets:write', returnsValues: false },
    schema: {
      params: SECRET_PARAMS,
      body: {
        type: 'object', additionalProperties: false,
        properties: {
          description: { anyOf: [{ type: 'string', maxLength: 1000 }, { type: 'null' }] },
          tags: { type: 'object', maxProperties: MAX_TAGS, propertyNames: { pattern: TAG_KEY_PATTERN }, additionalProperties: { type: 'string', maxLength: 256 } },
          removeTags: { type: 'array', maxItems: MAX_TAGS, items: { type: 'string', pattern: TAG_KEY_PATTERN } },
        },
      },
    },
  }, async (req) => ({ secret: await updateSecretMetadata(ctx, callerOf(req), req.params.project, req.params.name, req.body) }));
}
