import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { closingSignal, heldRequest } from '../../http/shutdown.js';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { ROTATION_STATES } from '../../../protocol/api-types.js';
import type { ConfirmBody, DriftResultBody, FailBody, PreflightResultBody, RotationState } from '../../../protocol/api-types.js';
import { FLAVOUR_NAMES } from '../../../protocol/engines.js';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { callerOf } from '../../http/caller.js';
import { safeInteger } from '../../http/validation.js';
import { LONG_POLL_MAX_SECONDS } from '../../http/limits.js';
import { faultPoint } from '../../../protocol/fault-points.js';
import { claimRotation, confirmRotation, failRotation, heartbeatRotation, jobStatus, listClaimable, preflightResult, reportApplied } from './rotations-engine.js';
import { approvePolicy, deletePolicy, listPolicies, pausePolicy, resolveStuck, resumePolicy, rotationStatus, runRotation, setPolicy } from './rotations-service.js';
import type { PolicyInput } from './rotations-service.js';
import { WorkWaiters } from './work-waiters.js';
import { JobWaiters } from './job-waiters.js';
import { claimDriftProbes, reportDriftProbe } from './rotation-drift.js';
import { STEPS_SCHEMA } from './rotation-timeline.js';
import { listClaimableLeaseJobs } from '../leases/lease-jobs.js';

const secretParams = {
  type: 'object', required: ['project', 'name'],
  properties: { project: { type: 'string', pattern: NAME_PATTERN }, name: { type: 'string', pattern: NAME_PATTERN } },
} as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
/** The longest `?wait=` of an operator's job poll (seconds). */
export const JOB_WAIT_MAX_SECONDS = 30;
const fenceBody = { type: 'object', additionalProperties: false, required: ['fence'], properties: { fence: safeInteger({ minimum: 0 }) } } as const;

export function rotationsRoutes(app: FastifyInstance, ctx: VaultContext): void {
  const closing = closingSignal(app);
  // One wake-up hub per vault process: a held poll does no store work while it waits.
  const waiters = new WorkWaiters(ctx);
  const jobWaiters = new JobWaiters(ctx);

  // -- operators ---------------------------------------------------------------------------
  app.put<{ Params: { project: string; name: string }; Body: PolicyInput }>('/v1/projects/:project/secrets/:name/rotation', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'rotations:write', returnsValues: false },
    schema: {
      params: secretParams,
      body: {
        type: 'object', additionalProperties: false, required: ['provider', 'adminSecret'],
        properties: {
          provider: { type: 'string', maxLength: 32 }, strategy: { type: 'string', maxLength: 32 },
          agent: { type: 'string', maxLength: 128 }, agentLabel: { type: 'string', maxLength: 64 },
          adminSecret: { type: 'string', pattern: NAME_PATTERN }, schedule: { type: 'string', maxLength: 128 },
          timezone: { type: 'string', maxLength: 64 }, grace: { type: 'string', maxLength: 16 },
          passwordLength: safeInteger(), alternateUsername: { type: 'string', minLength: 1, maxLength: 128 }, paused: { type: 'boolean' },
          driftInterval: { type: 'string', maxLength: 16 },
        },
      },
    },
  }, async (req) => ({ policy: await setPolicy(ctx, callerOf(req), req.params.project, req.params.name, req.body) }));

  app.post<{ Params: { project: string; name: string } }>('/v1/projects/:project/secrets/:name/rotation/run', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'rotations:trigger', returnsValues: false }, schema: { params: secretParams },
  }, async (req, reply) => {
    const created = await runRotation(ctx, callerOf(req), req.params.project, req.params.name);
    // Crash tests stop the vault here: the pending version is committed, the answer not yet sent.
    await faultPoint('vault-after-create');
    return reply.code(202).send(created);
  });

  app.get<{ Params: { project: string; name: string }; Querystring: { rotation?: string } }>('/v1/projects/:project/secrets/:name/rotation', {
    config: { auth: ['operator', 'ai_agent'], scope: ['rotations:read', 'rotations:trigger'], returnsValues: false },
    schema: { params: secretParams, querystring: { type: 'object', additionalProperties: false, properties: { rotation: { type: 'string', maxLength: 64 } } } },
  }, async (req) => rotationStatus(ctx, req.params.project, req.params.name, req.query.rotation));

  app.post<{ Params: { project: string; name: string }; Body: { use: 'pending' | 'live' } }>('/v1/projects/:project/secrets/:name/rotation/resolve', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'rotations:write', returnsValues: false },
    schema: { params: secretParams, body: { type: 'object', additionalProperties: false, required: ['use'], properties: { use: { type: 'string', enum: ['pending', 'live'] } } } },
  }, async (req) => resolveStuck(ctx, callerOf(req), req.params.project, req.params.name, req.body.use));

  // -- policy lifecycle: pause / resume / delete ------------------------------------------
  app.post<{ Params: { project: string; name: string } }>('/v1/projects/:project/secrets/:name/rotation/pause', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'rotations:write', returnsValues: false }, schema: { params: secretParams },
  }, async (req) => ({ policy: await pausePolicy(ctx, callerOf(req), req.params.project, req.params.name) }));

  app.post<{ Params: { project: string; name: string } }>('/v1/projects/:project/secrets/:name/rotation/resume', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'rotations:write', returnsValues: false }, schema: { params: secretParams },
  }, async (req) => ({ policy: await resumePolicy(ctx, callerOf(req), req.params.project, req.params.name) }));

  // An operator's approval of an AI agent's `rotation set`: never an AI agent's own route.
  app.post<{ Params: { project: string; name: string } }>('/v1/projects/:project/secrets/:name/rotation/approve', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false }, schema: { params: secretParams },
  }, async (req) => ({ policy: await approvePolicy(ctx, callerOf(req), req.params.project, req.params.name) }));

  // `force` rides in the query string: a DELETE carrying a body is refused (SK_ERR_BODY_UNEXPECTED).
  app.delete<{ Params: { project: string; name: string }; Querystring: { force?: boolean } }>('/v1/projects/:project/secrets/:name/rotation', {
    config: { auth: ['operator', 'ai_agent'], minRole: 'admin', scope: 'rotations:write', returnsValues: false },
    schema: { params: secretParams, querystring: { type: 'object', additionalProperties: false, properties: { force: { type: 'boolean' } } } },
  }, async (req) => ({ deleted: await deletePolicy(ctx, callerOf(req), req.params.project, req.params.name, { force: req.query.force === true }) }));

  app.get('/v1/rotations', { config: { auth: ['operator', 'ai_agent'], scope: 'rotations:read', returnsValues: false } }, async () => ({ policies: await listPolicies(ctx) }));

  // `?wait=N&afterState=S`: the operators' long-poll (the dashboard's live progress of a run).
  // Answers at once when the job's state is not S, else when it changes or N seconds pass: 200
  // with the job's status either way. Wakes on the job's own events (job-waiters.ts), relayed from
  // other workers and replicas; a 1 s sweep catches anything else. Ends with 503 on shutdown.
  app.get<{ Params: { id: string }; Querystring: { wait?: number; afterState?: RotationState } }>('/v1/rotations/:id', {
    config: { auth: ['operator', 'ai_agent'], scope: ['rotations:read', 'rotations:trigger'], returnsValues: false },
    schema: {
      params: idParams,
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { wait: safeInteger({ minimum: 0, maximum: JOB_WAIT_MAX_SECONDS }), afterState: { type: 'string', enum: [...ROTATION_STATES] } },
      },
    },
  }, async (req, reply) => {
    const { wait, afterState } = req.query;
    if (wait === undefined || wait === 0 || afterState === undefined) return jobStatus(ctx, req.params.id);
    const deadline = performance.now() + wait * 1000;
    const held = heldRequest(closing, reply);
    // Registered before the first check, so a change committed while it runs is not missed.
    const waiter = jobWaiters.register(req.params.id, afterState);
    try {
      for (;;) {
        if (closing.aborted) {
          throw new SikkerKeyError('SK_ERR_UNAVAILABLE', 'the vault is shutting down; poll again shortly', { details: { retryAfter: 2 } });
        }
        waiter.arm();
        const status = await jobStatus(ctx, req.params.id);
        const left = deadline - performance.now();
        if (status.state !== afterState || left <= 0 || held.clientGone()) return status;
        await waiter.wait(left, held.signal);
        if (held.clientGone()) return status; // nobody to answer: no re-check
      }
    } finally {
      waiter.close();
      held.release();
    }
  });

  // -- agents (machines) -------------------------------------------------------------------
  app.get<{ Querystring: { wait?: number } }>('/v1/agent/rotations', {
    config: { auth: ['machine'], returnsValues: false },
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { wait: safeInteger({ minimum: 0, maximum: LONG_POLL_MAX_SECONDS }) } } },
  }, async (req, reply) => {
    const machine = callerOf(req);
    const labelsRow = await ctx.store.db.selectFrom('machines').select('labels').where('id', '=', machine.id).executeTakeFirst();
    const labels = labelsRow ? (JSON.parse(labelsRow.labels) as string[]) : [];
    const deadline = ctx.now() + (req.query.wait ?? 0) * 1000;
    const held = heldRequest(closing, reply);
    // Registered before the first check, so work committed while a check runs is not missed.
    const waiter = waiters.register(machine.id, labels);
    try {
      for (;;) {
        if (closing.aborted) {
          throw new SikkerKeyError('SK_ERR_UNAVAILABLE', 'the vault is shutting down; poll again shortly', { details: { retryAfter: 2 } });
        }
        waiter.arm();
        const jobs = await listClaimable(ctx, machine, labels);
        // Lease jobs (docs/leases.md) travel in the same answer: the poll returns when either is non-empty.
        const leaseJobs = await listClaimableLeaseJobs(ctx, machine, labels);
        if (jobs.length > 0 || leaseJobs.length > 0) return leaseJobs.length > 0 ? { jobs, leaseJobs } : { jobs };
        const left = deadline - ctx.now();
        if (left <= 0 || held.clientGone()) return reply.code(204).send();
        // No store work until an event or the hub's sweep names this machine (work-waiters.ts).
        ctx.metrics.longPolls.inc();
        try {
          await waiter.wait(left, held.signal);
        } finally {
          ctx.metrics.longPolls.dec();
        }
        if (held.clientGone()) return reply.code(204).send(); // nobody to answer: no re-check
      }
    } finally {
      waiter.close();
      held.release();
    }
  });

  // The answer is a ClaimResponse: one of RotateJob | RetireJob | PreflightJob by `kind`
  // (protocol/api-types.ts). No response schema: fastify would serialize through it and drop the
  // fields of the kinds it does not list; claimRotation builds each kind with only its own fields.
  app.post<{ Params: { id: string } }>('/v1/agent/rotations/:id/claim', {
    config: { auth: ['machine'], returnsValues: true }, schema: { params: idParams },
  }, async (req) => {
    const claim = await claimRotation(ctx, callerOf(req), req.params.id);
    // Crash tests stop the vault here: the claim (maybe_applied) is committed, the agent has no answer.
    await faultPoint('vault-after-claim-commit');
    return claim;
  });

  app.post<{ Params: { id: string }; Body: { fence: number } }>('/v1/agent/rotations/:id/heartbeat', {
    config: { auth: ['machine'], returnsValues: false }, schema: { params: idParams, body: fenceBody },
  }, async (req) => heartbeatRotation(ctx, callerOf(req), req.params.id, req.body.fence));

  app.post<{ Params: { id: string }; Body: { fence: number } }>('/v1/agent/rotations/:id/applied', {
    config: { auth: ['machine'], returnsValues: false }, schema: { params: idParams, body: fenceBody },
  }, async (req) => reportApplied(ctx, callerOf(req), req.params.id, req.body.fence));

  app.post<{ Params: { id: string }; Body: ConfirmBody }>('/v1/agent/rotations/:id/confirm', {
    config: { auth: ['machine'], returnsValues: false },
    schema: { params: idParams, body: { type: 'object', additionalProperties: false, required: ['fence'], properties: { fence: safeInteger({ minimum: 0 }), steps: STEPS_SCHEMA } } },
  }, async (req) => {
    const res = await confirmRotation(ctx, callerOf(req), req.params.id, req.body.fence, req.body.steps);
    // Crash tests stop the vault here: the promotion is committed, the answer not yet sent.
    await faultPoint('vault-after-confirm-commit');
    return res;
  });

  app.post<{ Params: { id: string }; Body: PreflightResultBody }>('/v1/agent/rotations/:id/preflight', {
    config: { auth: ['machine'], returnsValues: false },
    schema: {
      params: idParams,
      body: {
        type: 'object', additionalProperties: false, required: ['fence', 'ok', 'problems'],
        properties: {
          fence: safeInteger({ minimum: 0 }), ok: { type: 'boolean' }, problems: { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 500 } },
          flavour: { type: 'string', enum: [...FLAVOUR_NAMES] }, serverVersion: { type: 'string', maxLength: 128 },
        },
      },
    },
  }, async (req) => preflightResult(ctx, callerOf(req), req.params.id, req.body));

  app.post<{ Params: { id: string }; Body: FailBody }>('/v1/agent/rotations/:id/fail', {
    config: { auth: ['machine'], returnsValues: false },
    schema: {
      params: idParams,
      body: {
        type: 'object', additionalProperties: false, required: ['fence', 'code', 'message', 'liveVerified'],
        properties: {
          fence: safeInteger({ minimum: 0 }), code: { type: 'string', maxLength: 64 }, message: { type: 'string', maxLength: 2000 },
          liveVerified: { type: 'boolean' }, neitherWorks: { type: 'boolean' }, undoRefused: { type: 'boolean' }, untouched: { type: 'boolean' },
          steps: STEPS_SCHEMA,
        },
      },
    },
  }, async (req) => failRotation(ctx, callerOf(req), req.params.id, req.body));

  // -- drift probes: the agent logs in with the live credential now and then (rotation-drift.ts) --
  // Hands out the live and the admin credential: a value route, machines only.
  app.post('/v1/agent/drift-probes', { config: { auth: ['machine'], returnsValues: true } }, async (req) => claimDriftProbes(ctx, callerOf(req)));

  app.post<{ Params: { policyId: string }; Body: DriftResultBody }>('/v1/agent/drift-probes/:policyId', {
    config: { auth: ['machine'], returnsValues: false },
    schema: {
      params: { type: 'object', required: ['policyId'], properties: { policyId: { type: 'string', minLength: 1, maxLength: 64 } } },
      body: {
        type: 'object', additionalProperties: false, required: ['version', 'ok'],
        properties: { version: safeInteger({ minimum: 1 }), ok: { type: 'boolean' }, code: { type: 'string', maxLength: 64 }, message: { type: 'string', maxLength: 2000 } },
      },
    },
  }, async (req) => reportDriftProbe(ctx, callerOf(req), req.params.policyId, req.body));
}
