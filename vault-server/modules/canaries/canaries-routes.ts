import type { FastifyInstance } from 'fastify';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { callerOf } from '../../http/caller.js';
import { createCanary, listCanaries } from './canaries-service.js';
import type { SecretInput } from '../secrets/secrets-service.js';

const MAX_VALUE = 64 * 1024;
const projectParams = { type: 'object', required: ['project'], properties: { project: { type: 'string', pattern: NAME_PATTERN } } } as const;

/**
 * Operator routes only. Machines read canaries through the ordinary secret routes (that is the
 * point) and have no route that lists secrets or canaries at all.
 */
export function canariesRoutes(app: FastifyInstance, ctx: VaultContext): void {
  app.post<{ Params: { project: string }; Body: { name: string; value?: string; fields?: Record<string, string>; lockMachineProjects?: boolean } }>('/v1/projects/:project/canaries', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'canaries:write', returnsValues: false },
    schema: {
      params: projectParams,
      body: {
        type: 'object', additionalProperties: false, required: ['name'],
        properties: {
          name: { type: 'string', pattern: NAME_PATTERN },
          // The same limits as a secret's value, so a decoy can be anything a real secret can be.
          value: { type: 'string', maxLength: MAX_VALUE },
          fields: { type: 'object', maxProperties: 64, propertyNames: { pattern: '^[A-Za-z0-9_.-]{1,64}$' }, additionalProperties: { type: 'string', maxLength: MAX_VALUE } },
          lockMachineProjects: { type: 'boolean' },
        },
      },
    },
  }, async (req, reply) => {
    const b = req.body;
    if ((b.value === undefined) === (b.fields === undefined)) throw new SikkerKeyError('SK_ERR_VALIDATION', 'give exactly one of value or fields');
    const input: SecretInput = b.value !== undefined ? { value: b.value } : { fields: b.fields ?? {} };
    const canary = await createCanary(ctx, callerOf(req), { project: req.params.project, name: b.name, input, lockMachineProjects: b.lockMachineProjects ?? false });
    return reply.code(201).send({ canary });
  });

  app.get<{ Params: { project: string } }>('/v1/projects/:project/canaries', {
    config: { auth: ['operator', 'ai_agent'], scope: 'canaries:read', returnsValues: false }, schema: { params: projectParams },
  }, async (req) => ({ canaries: await listCanaries(ctx, req.params.project) }));
}
