import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { callerOf } from '../../http/caller.js';
import { safeInteger } from '../../http/validation.js';
import { createAiAgent, listAiAgents, MAX_AI_AGENT_RATE_PER_MINUTE, setAiAgentStatus } from './ai-agents-service.js';
import type { CreateAiAgentRequest } from './ai-agents-service.js';

const NAME_PARAMS = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 128 } } } as const;

/**
 * `/v1/ai-agents…`: operators only (an AI agent never manages AI agents); viewers list, admins and
 * owners create, disable, enable and revoke.
 */
export function aiAgentsRoutes(app: FastifyInstance, ctx: VaultContext): void {
  app.post<{ Body: CreateAiAgentRequest }>('/v1/ai-agents', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['name', 'publicKey', 'scopes'],
        properties: {
          name: { type: 'string', pattern: NAME_PATTERN },
          publicKey: { type: 'string', minLength: 40, maxLength: 400 },
          scopes: { type: 'array', minItems: 1, maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 64 } },
          allowCidrs: { type: 'array', maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 64 } },
          ratePerMinute: safeInteger({ minimum: 1, maximum: MAX_AI_AGENT_RATE_PER_MINUTE }),
        },
      },
    },
  }, async (req, reply) => reply.code(201).send(await createAiAgent(ctx, callerOf(req), req.body)));

  app.get('/v1/ai-agents', { config: { auth: ['operator'], returnsValues: false } }, async () => ({ aiAgents: await listAiAgents(ctx) }));

  for (const change of ['disable', 'enable', 'revoke'] as const) {
    app.post<{ Params: { name: string } }>(`/v1/ai-agents/:name/${change}`, {
      config: { auth: ['operator'], minRole: 'admin', returnsValues: false }, schema: { params: NAME_PARAMS },
    }, async (req) => ({ aiAgent: await setAiAgentStatus(ctx, callerOf(req), req.params.name, change) }));
  }
}
