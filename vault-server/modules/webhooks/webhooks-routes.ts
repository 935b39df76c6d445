import type { FastifyInstance } from 'fastify';
import { parseDuration } from '../../../protocol/duration.js';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { callerOf } from '../../http/caller.js';
import { SEVERITIES } from './event-catalog.js';
import type { Severity } from './event-catalog.js';
import {
  addAlertRule, addWebhook, listAlertRules, listDeliveries, listWebhooks, redeliver, removeAlertRule, removeWebhook,
  rotateWebhookSecret, testAlertRule,
} from './webhooks-service.js';
import type { WebhookDeps } from './webhooks-service.js';

const ID = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' } as const;
const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: ID } } as const;
const EVENTS = { type: 'array', minItems: 1, maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 64 } } as const;

/**
 * `/v1/webhooks…`, `/v1/webhook-deliveries/:id/redeliver` and `/v1/alert-rules…`: operators
 * only; viewers list, admins change. The webhook secret is in the answers of add and
 * rotate-secret only.
 */
export function webhooksRoutes(app: FastifyInstance, ctx: VaultContext, deps: WebhookDeps): void {
  app.get('/v1/webhooks', { config: { auth: ['operator', 'ai_agent'], scope: 'alerts:read', returnsValues: false } }, async () => ({ webhooks: await listWebhooks(ctx) }));

  app.post<{ Body: { url: string; events: string[] } }>('/v1/webhooks', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: { body: { type: 'object', additionalProperties: false, required: ['url', 'events'], properties: { url: { type: 'string', minLength: 1, maxLength: 2048 }, events: EVENTS } } },
  }, async (req, reply) => reply.code(201).send(await addWebhook(ctx, deps, callerOf(req), req.body)));

  app.delete<{ Params: { id: string } }>('/v1/webhooks/:id', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false }, schema: { params: ID_PARAMS },
  }, async (req) => removeWebhook(ctx, callerOf(req), req.params.id));

  app.get<{ Params: { id: string }; Querystring: { limit?: number } }>('/v1/webhooks/:id/deliveries', {
    config: { auth: ['operator', 'ai_agent'], scope: 'alerts:read', returnsValues: false },
    schema: { params: ID_PARAMS, querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 } } } },
  }, async (req) => ({ deliveries: await listDeliveries(ctx, req.params.id, req.query.limit) }));

  app.post<{ Params: { id: string }; Body: { overlap?: string } | undefined }>('/v1/webhooks/:id/rotate-secret', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: { params: ID_PARAMS, body: { type: 'object', additionalProperties: false, properties: { overlap: { type: 'string', maxLength: 20 } } } },
  }, async (req) => {
    const overlap = req.body?.overlap;
    return rotateWebhookSecret(ctx, callerOf(req), req.params.id, overlap === undefined ? undefined : parseDuration(overlap, 'overlap', 'SK_ERR_VALIDATION'));
  });

  app.post<{ Params: { id: string } }>('/v1/webhook-deliveries/:id/redeliver', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'alerts:write', returnsValues: false }, schema: { params: ID_PARAMS },
  }, async (req) => ({ delivery: await redeliver(ctx, callerOf(req), req.params.id) }));

  app.get('/v1/alert-rules', { config: { auth: ['operator', 'ai_agent'], scope: 'alerts:read', returnsValues: false } }, async () => ({ rules: await listAlertRules(ctx) }));

  app.post<{ Body: { events: string[]; project?: string; minSeverity?: Severity; webhook: string } }>('/v1/alert-rules', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'alerts:write', returnsValues: false },
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['events', 'webhook'],
        properties: { events: EVENTS, project: { type: 'string', pattern: NAME_PATTERN }, minSeverity: { type: 'string', enum: SEVERITIES }, webhook: ID },
      },
    },
  }, async (req, reply) => reply.code(201).send({ rule: await addAlertRule(ctx, callerOf(req), req.body) }));

  app.delete<{ Params: { id: string } }>('/v1/alert-rules/:id', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'alerts:write', returnsValues: false }, schema: { params: ID_PARAMS },
  }, async (req) => removeAlertRule(ctx, callerOf(req), req.params.id));

  app.post<{ Params: { id: string } }>('/v1/alert-rules/:id/test', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'alerts:write', returnsValues: false }, schema: { params: ID_PARAMS },
  }, async (req) => ({ delivery: await testAlertRule(ctx, deps, callerOf(req), req.params.id) }));
}
