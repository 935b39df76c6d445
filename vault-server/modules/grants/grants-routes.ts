import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { callerOf } from '../../http/caller.js';
import { addGrant, listGrants, removeGrant } from './grants-service.js';

export function grantsRoutes(app: FastifyInstance, ctx: VaultContext): void {
  // `machine` or `label` (a grant every active machine with that label holds).
  app.post<{ Body: { machine?: string; label?: string; project: string; secret?: string; fields?: string[]; leaseRole?: string } }>('/v1/grants', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'grants:write', returnsValues: false },
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['project'],
        properties: {
          machine: { type: 'string', minLength: 1, maxLength: 128 },
          label: { type: 'string', minLength: 1, maxLength: 64 },
          project: { type: 'string', pattern: NAME_PATTERN },
          secret: { type: 'string', pattern: NAME_PATTERN },
          fields: { type: 'array', minItems: 1, maxItems: 64, items: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } },
          leaseRole: { type: 'string', pattern: NAME_PATTERN },
        },
      },
    },
  }, async (req, reply) => reply.code(201).send({ grant: await addGrant(ctx, callerOf(req), req.body) }));

  app.get<{ Querystring: { machine?: string; project?: string; label?: string } }>('/v1/grants', {
    config: { auth: ['operator', 'ai_agent'], scope: 'grants:read', returnsValues: false },
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { machine: { type: 'string', maxLength: 128 }, project: { type: 'string', maxLength: 128 }, label: { type: 'string', maxLength: 64 } } } },
  }, async (req) => ({ grants: await listGrants(ctx, req.query) }));

  app.delete<{ Params: { id: string } }>('/v1/grants/:id', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'grants:write', returnsValues: false },
    schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } },
  }, async (req, reply) => { await removeGrant(ctx, callerOf(req), req.params.id); return reply.code(204).send(); });
}
