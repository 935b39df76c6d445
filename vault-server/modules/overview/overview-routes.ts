/**
 * `GET /v1/overview` (operators, any role): the dashboard's overview in one answer
 * (overview-service.ts). Not for AI agents: the last canary trips name canaries, and which secrets
 * are canaries is known to operators only (an agent that knew could read around its tripwires).
 *
 * @example
 *   overviewRoutes(app, ctx);
 *   // GET /v1/overview → 200 { generatedAt, health, rotations, canaries, agents, machines }
 */
import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import { overview } from './overview-service.js';

const int = { type: 'integer', minimum: 0 } as const;
const nullableInt = { type: ['integer', 'null'] } as const;
const nullableString = { type: ['string', 'null'] } as const;
const counts = (names: readonly string[]): Record<string, typeof int> => Object.fromEntries(names.map((k) => [k, int]));
const object = (properties: Record<string, unknown>): Record<string, unknown> => ({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties });

/** The answer's schema (also what the OpenAPI document shows). */
export const OVERVIEW_SCHEMA = {
  description: 'The overview: health, rotation, canary, agent and machine counts, and short lists.',
  ...object({
    generatedAt: int,
    health: object({
      ready: { type: 'boolean' }, version: { type: 'string' },
      store: { type: 'string', enum: ['ok', 'unreachable'] }, migrations: { type: 'string', enum: ['current', 'pending', 'unknown'] },
      rootKey: { type: 'string', enum: ['loaded', 'mismatch', 'unknown'] },
    }),
    rotations: object(counts(['policies', 'paused', 'dueNow', 'dueNext24h', 'running', 'stuck', 'failing', 'drifting', 'failedLast24h'])),
    canaries: object({
      total: int, lockedProjects: int,
      lastTrips: { type: 'array', items: object({ at: int, project: { type: 'string' }, canary: { type: 'string' }, machine: nullableString, sourceIp: nullableString }) },
    }),
    agents: object({
      total: int, online: int,
      list: { type: 'array', items: object({ name: { type: 'string' }, status: { type: 'string' }, lastSeenAt: nullableInt }) },
    }),
    machines: object({
      ...counts(['total', 'active', 'pendingApproval', 'disabled', 'expired', 'seenLast24h']),
      pending: { type: 'array', items: object({ name: { type: 'string' }, createdAt: int, createdVia: { type: 'string' } }) },
    }),
  }),
};

export function overviewRoutes(app: FastifyInstance, ctx: VaultContext): void {
  app.get('/v1/overview', {
    config: { auth: ['operator'], returnsValues: false },
    schema: { response: { 200: OVERVIEW_SCHEMA } },
  }, async () => overview(ctx));
}
