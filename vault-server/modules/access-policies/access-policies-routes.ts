import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { callerOf } from '../../http/caller.js';
import { INT32_MAX, safeInteger } from '../../http/validation.js';
import {
  bindAccessPolicy, cosignRead, createAccessPolicy, deleteAccessPolicy, getAccessPolicy, listAccessPolicies, unbindAccessPolicy, updateAccessPolicy,
} from './access-policies-service.js';
import type { AccessPolicyInput } from './access-policies-service.js';

const NAME = { type: 'string', pattern: NAME_PATTERN } as const;
const projectParams = { type: 'object', required: ['project'], properties: { project: NAME } } as const;
const policyParams = { type: 'object', required: ['project', 'policy'], properties: { project: NAME, policy: NAME } } as const;
const secretParams = { type: 'object', required: ['project', 'secret'], properties: { project: NAME, secret: NAME } } as const;
const count = safeInteger({ minimum: 1, maximum: INT32_MAX });

/** Every axis; `null` removes it on update. */
const AXES = {
  timeWindow: { type: ['string', 'null'], minLength: 1, maxLength: 200 },
  ipAllowlist: { type: ['array', 'null'], minItems: 1, maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 64 } },
  rateCap: {
    type: ['object', 'null'], additionalProperties: false, minProperties: 1,
    properties: { maxReadsPerMinute: count, maxReadsPerDay: count },
  },
  coSign: {
    type: ['object', 'null'], additionalProperties: false, required: ['windowSeconds'],
    properties: { windowSeconds: safeInteger({ minimum: 1, maximum: 86_400 }), machine: { type: 'string', minLength: 1, maxLength: 128 } },
  },
  ttl: {
    type: ['object', 'null'], additionalProperties: false, minProperties: 1,
    properties: { expiresAt: { type: 'string', minLength: 10, maxLength: 40 }, maxReads: count },
  },
  rotateAfterReads: { anyOf: [count, { type: 'null' }] },
} as const;

/**
 * `/v1/projects/{p}/policies…` (operators: viewers read, admins change) and
 * `POST /v1/projects/{p}/secrets/{s}/cosign` (a machine approves another machine's next read).
 */
export function accessPoliciesRoutes(app: FastifyInstance, ctx: VaultContext): void {
  app.get<{ Params: { project: string } }>('/v1/projects/:project/policies', {
    config: { auth: ['operator', 'ai_agent'], scope: 'access-policies:read', returnsValues: false }, schema: { params: projectParams },
  }, async (req) => ({ policies: await listAccessPolicies(ctx, req.params.project) }));

  app.post<{ Params: { project: string }; Body: AccessPolicyInput & { name: string } }>('/v1/projects/:project/policies', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'access-policies:write', returnsValues: false },
    schema: { params: projectParams, body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: NAME, ...AXES } } },
  }, async (req, reply) => reply.code(201).send({ policy: await createAccessPolicy(ctx, callerOf(req), req.params.project, req.body) }));

  app.get<{ Params: { project: string; policy: string } }>('/v1/projects/:project/policies/:policy', {
    config: { auth: ['operator', 'ai_agent'], scope: 'access-policies:read', returnsValues: false }, schema: { params: policyParams },
  }, async (req) => getAccessPolicy(ctx, req.params.project, req.params.policy));

  app.patch<{ Params: { project: string; policy: string }; Body: AccessPolicyInput }>('/v1/projects/:project/policies/:policy', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'access-policies:write', returnsValues: false },
    schema: { params: policyParams, body: { type: 'object', additionalProperties: false, minProperties: 1, properties: AXES } },
  }, async (req) => ({ policy: await updateAccessPolicy(ctx, callerOf(req), req.params.project, req.params.policy, req.body) }));

  app.delete<{ Params: { project: string; policy: string } }>('/v1/projects/:project/policies/:policy', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'access-policies:write', returnsValues: false }, schema: { params: policyParams },
  }, async (req) => deleteAccessPolicy(ctx, callerOf(req), req.params.project, req.params.policy));

  app.put<{ Params: { project: string; secret: string }; Body: { policy: string } }>('/v1/projects/:project/policies/bindings/:secret', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'access-policies:write', returnsValues: false },
    schema: { params: secretParams, body: { type: 'object', additionalProperties: false, required: ['policy'], properties: { policy: NAME } } },
  }, async (req) => bindAccessPolicy(ctx, callerOf(req), req.params.project, req.params.secret, req.body.policy));

  app.delete<{ Params: { project: string; secret: string } }>('/v1/projects/:project/policies/bindings/:secret', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'access-policies:write', returnsValues: false }, schema: { params: secretParams },
  }, async (req) => unbindAccessPolicy(ctx, callerOf(req), req.params.project, req.params.secret));

  // The secret segment is `:name`, as in every other route under /secrets/ (one router node).
  app.post<{ Params: { project: string; name: string }; Body: { machine: string } }>('/v1/projects/:project/secrets/:name/cosign', {
    config: { auth: ['machine'], returnsValues: false },
    schema: { params: { type: 'object', required: ['project', 'name'], properties: { project: NAME, name: NAME } }, body: { type: 'object', additionalProperties: false, required: ['machine'], properties: { machine: { type: 'string', minLength: 1, maxLength: 128 } } } },
  }, async (req, reply) => reply.code(201).send(await cosignRead(ctx, callerOf(req), req.params.project, req.params.name, req.body.machine)));
}
