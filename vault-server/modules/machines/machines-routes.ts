import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { callerOf } from '../../http/caller.js';
import { parseDuration } from '../../../protocol/duration.js';
import { addMachine, listMachines, setMachineStatus } from './machines-service.js';
import { extendMachine, machineExtensions, removeMachine, renameMachine, revertExtension } from './machines-service.js';

const machineParams = { type: 'object', required: ['machine'], properties: { machine: { type: 'string', minLength: 1, maxLength: 128 } } } as const;

export function machinesRoutes(app: FastifyInstance, ctx: VaultContext): void {
  app.post<{ Body: { name: string; publicKey: string; labels?: string[]; expiresIn?: string } }>('/v1/machines', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['name', 'publicKey'],
        properties: {
          name: { type: 'string', pattern: NAME_PATTERN },
          publicKey: { type: 'string', minLength: 40, maxLength: 400 },
          labels: { type: 'array', maxItems: 32, items: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._/=-]{0,63}$' } },
          expiresIn: { type: 'string', maxLength: 16 },
        },
      },
    },
  }, async (req, reply) => {
    const b = req.body;
    const created = await addMachine(ctx, callerOf(req), {
      name: b.name, publicKey: b.publicKey, labels: b.labels ?? [],
      ...(b.expiresIn ? { expiresInMs: parseDuration(b.expiresIn, 'expiresIn', 'SK_ERR_VALIDATION') } : {}),
    });
    return reply.code(201).send(created);
  });

  app.get('/v1/machines', { config: { auth: ['operator', 'ai_agent'], scope: 'machines:read', returnsValues: false } }, async () => ({ machines: await listMachines(ctx) }));

  app.post<{ Params: { machine: string } }>('/v1/machines/:machine/approve', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false }, schema: { params: machineParams },
  }, async (req) => ({ machine: await setMachineStatus(ctx, callerOf(req), req.params.machine, 'active', 'machine.approve') }));

  app.post<{ Params: { machine: string } }>('/v1/machines/:machine/enable', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false }, schema: { params: machineParams },
  }, async (req) => ({ machine: await setMachineStatus(ctx, callerOf(req), req.params.machine, 'active', 'machine.enable') }));

  app.post<{ Params: { machine: string } }>('/v1/machines/:machine/disable', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'machines:write', returnsValues: false }, schema: { params: machineParams },
  }, async (req) => ({ machine: await setMachineStatus(ctx, callerOf(req), req.params.machine, 'disabled', 'machine.disable') }));

  // -- lifecycle: remove / rename ---------------------------------------------------------
  // `force` rides in the query string: a DELETE carrying a body is refused (SK_ERR_BODY_UNEXPECTED).
  app.delete<{ Params: { machine: string }; Querystring: { force?: boolean } }>('/v1/machines/:machine', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'machines:write', returnsValues: false },
    schema: { params: machineParams, querystring: { type: 'object', additionalProperties: false, properties: { force: { type: 'boolean' } } } },
  }, async (req) => ({ removed: await removeMachine(ctx, callerOf(req), req.params.machine, { force: req.query.force === true }) }));

  app.post<{ Params: { machine: string }; Body: { name: string } }>('/v1/machines/:machine/rename', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'machines:write', returnsValues: false },
    schema: { params: machineParams, body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', pattern: NAME_PATTERN } } } },
  }, async (req) => ({ machine: await renameMachine(ctx, callerOf(req), req.params.machine, req.body.name) }));

  // -- lifecycle: extensions (audited with their reason; reverted in reverse order) --------
  app.post<{ Params: { machine: string }; Body: { by: string; reason: string } }>('/v1/machines/:machine/extend', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'machines:write', returnsValues: false },
    schema: {
      params: machineParams,
      body: {
        type: 'object', additionalProperties: false, required: ['by', 'reason'],
        properties: { by: { type: 'string', minLength: 2, maxLength: 16 }, reason: { type: 'string', minLength: 1, maxLength: 500 } },
      },
    },
  }, async (req) => ({ machine: await extendMachine(ctx, callerOf(req), req.params.machine, { byMs: parseDuration(req.body.by, '--by', 'SK_ERR_VALIDATION'), reason: req.body.reason }) }));

  app.get<{ Params: { machine: string } }>('/v1/machines/:machine/extensions', {
    config: { auth: ['operator', 'ai_agent'], scope: 'machines:read', returnsValues: false }, schema: { params: machineParams },
  }, async (req) => machineExtensions(ctx, req.params.machine));

  app.post<{ Params: { machine: string }; Body: { reason?: string } | undefined }>('/v1/machines/:machine/revert-extension', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'machines:write', returnsValues: false },
    schema: {
      params: machineParams,
      // No `type`: the body is optional (a bodiless POST reverts without a reason).
      body: { additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } } },
    },
  }, async (req) => ({ machine: await revertExtension(ctx, callerOf(req), req.params.machine, req.body?.reason ? { reason: req.body.reason } : {}) }));
}
