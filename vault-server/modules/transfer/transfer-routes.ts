import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { callerOf } from '../../http/caller.js';
import { IMPORT_BODY_LIMIT } from '../../http/limits.js';
import { secretEvents } from '../secrets/secret-watch.js';
import { IMPORT_MAX_SECRETS, exportProject, importSecrets } from './transfer-service.js';
import type { ImportItem, OnConflict } from './transfer-service.js';

/** As `PUT …/secrets/:name`: one value, or one field, at most 64 KiB. */
const MAX_VALUE = 64 * 1024;
const projectParams = { type: 'object', required: ['project'], properties: { project: { type: 'string', pattern: NAME_PATTERN } } } as const;

export function transferRoutes(app: FastifyInstance, ctx: VaultContext): void {
  // Names are checked by the service rather than the schema, so every invalid one is named in one 400.
  app.post<{ Params: { project: string }; Body: { onConflict?: OnConflict; secrets: ImportItem[] } }>('/v1/projects/:project/import', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'secrets:write', returnsValues: false },
    bodyLimit: IMPORT_BODY_LIMIT,
    schema: {
      params: projectParams,
      body: {
        type: 'object', additionalProperties: false, required: ['secrets'],
        properties: {
          onConflict: { type: 'string', enum: ['fail', 'skip', 'new-version'] },
          secrets: {
            type: 'array', maxItems: IMPORT_MAX_SECRETS,
            items: {
              type: 'object', additionalProperties: false, required: ['name'], minProperties: 2, maxProperties: 2,
              properties: {
                name: { type: 'string', maxLength: 256 },
                value: { type: 'string', maxLength: MAX_VALUE },
                fields: { type: 'object', maxProperties: 64, propertyNames: { pattern: '^[A-Za-z0-9_.-]{1,64}$' }, additionalProperties: { type: 'string', maxLength: MAX_VALUE } },
              },
            },
          },
        },
      },
    },
  }, async (req) => {
    const res = await importSecrets(ctx, callerOf(req), { project: req.params.project, onConflict: req.body.onConflict ?? 'fail', secrets: req.body.secrets });
    for (const secret of [...res.created, ...res.newVersions]) secretEvents.emit('changed', { project: res.project, secret });
    return res;
  });

  // Metadata only: values are read by machines, never exported.
  app.get<{ Params: { project: string } }>('/v1/projects/:project/export', {
    config: { auth: ['operator', 'ai_agent'], scope: 'secrets:read', returnsValues: false }, schema: { params: projectParams },
  }, async (req) => exportProject(ctx, req.params.project));
}
