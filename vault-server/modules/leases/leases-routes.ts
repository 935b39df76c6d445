/**
 * The HTTP routes of leased credentials (docs/leases.md): lease roles (operators, admin+; never
 * AI agents), leases (the owning machine; operators list and revoke), and the agent's lease jobs
 * and reconcile. Value routes (a lease with its fields, a claim with the password, the admin
 * fields for reconcile) list machines only.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { closingSignal, heldRequest } from '../../http/shutdown.js';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { ENGINES, LEASE_JOB_BATCH_MAX, LEASE_STATES } from '../../../protocol/api-types.js';
import type { Lease, LeaseJobFailBody, LeaseRoleBody } from '../../../protocol/api-types.js';
import type { VaultContext } from '../../context.js';
import { NAME_PATTERN } from '../../context.js';
import { callerOf } from '../../http/caller.js';
import { safeInteger } from '../../http/validation.js';
import { faultPoint } from '../../../protocol/fault-points.js';
import { agentLeaseRoles, deleteLeaseRole, getLeaseRole, listLeaseRoles, putLeaseRole } from './lease-roles-service.js';
import { leaseNotFound, leaseView, listLeases, ownedLease, readLease, renewLease, requestLease, revokeLease } from './leases-service.js';
import type { LeaseRow } from './leases-service.js';
import { claimLeaseJob, claimLeaseJobs, confirmLeaseJob, confirmLeaseJobs, failLeaseJob, reconcileRole } from './lease-jobs.js';
import { LeaseWaiters } from './lease-waiters.js';
import { committedLeaseRow } from './lease-statements.js';
import { LEASE_WAIT_DEFAULT_SECONDS, LEASE_WAIT_MAX_SECONDS } from './lease-rules.js';

const roleParams = {
  type: 'object', required: ['project', 'name'],
  properties: { project: { type: 'string', pattern: NAME_PATTERN }, name: { type: 'string', pattern: NAME_PATTERN } },
} as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
const waitQuery = { type: 'object', additionalProperties: false, properties: { wait: safeInteger({ minimum: 0, maximum: LEASE_WAIT_MAX_SECONDS }) } } as const;
const ttlBody = { type: 'object', additionalProperties: false, properties: { ttl: { type: 'string', minLength: 1, maxLength: 16 } } } as const;
const fenceBody = { type: 'object', additionalProperties: false, required: ['fence'], properties: { fence: safeInteger({ minimum: 0 }) } } as const;
const identifier = { type: 'string', minLength: 1, maxLength: 63 } as const;
const grantSchema = {
  type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1,
  properties: {
    memberOf: identifier, grantRole: identifier, acl: { type: 'string', minLength: 1, maxLength: 1000 },
    roles: { type: 'array', minItems: 1, maxItems: 32, items: { type: 'object', additionalProperties: false, required: ['role', 'db'], properties: { role: identifier, db: identifier } } },
  },
} as const;

export function leasesRoutes(app: FastifyInstance, ctx: VaultContext): void {
  const waiters = new LeaseWaiters(ctx);
  const closing = closingSignal(app);
  /** Waits with `waiters.until`, given up when the client goes away or the vault closes. */
  const waitFor = async (reply: FastifyReply, key: Parameters<LeaseWaiters['until']>[0], seconds: number, done: () => Promise<boolean>): Promise<boolean> => {
    const held = heldRequest(closing, reply);
    try {
      return await waiters.until(key, seconds, done, held.signal);
    } finally {
      held.release();
    }
  };
  const leaseRow = async (id: string): Promise<LeaseRow> => {
    const row = await committedLeaseRow(ctx, id);
    if (!row) throw leaseNotFound(); // its project was deleted meanwhile
    return row;
  };
  /** The lease as the answer shows it, with its fields when active; `password` when this request generated it (not decrypted again). */
  const answerOf = (row: LeaseRow, password?: string): Promise<Lease> =>
    leaseView(ctx, ctx.store.db, row, { fields: true, ...(password !== undefined ? { password } : {}) });
  const currentLease = async (id: string, password?: string): Promise<Lease> => answerOf(await leaseRow(id), password);
  /** A wait's check that keeps the settled row it read, so the answer does not read it again (a wait that timed out reads afresh). */
  const settledRow = (id: string): { done: () => Promise<boolean>; row: () => Promise<LeaseRow> } => {
    let last: LeaseRow | undefined;
    return {
      done: async () => (last = await leaseRow(id)).state !== 'creating',
      row: async () => (last !== undefined && last.state !== 'creating' ? last : leaseRow(id)),
    };
  };

  // -- lease roles (operators, admin+) ----------------------------------------------------
  app.put<{ Params: { project: string; name: string }; Body: LeaseRoleBody }>('/v1/projects/:project/lease-roles/:name', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: {
      params: roleParams,
      body: {
        type: 'object', additionalProperties: false, required: ['engine', 'adminSecret', 'ttl', 'maxTtl', 'grant'],
        properties: {
          engine: { type: 'string', enum: [...ENGINES] }, agentMachine: { type: 'string', minLength: 1, maxLength: 128 }, agentLabel: { type: 'string', minLength: 1, maxLength: 64 },
          adminSecret: { type: 'string', pattern: NAME_PATTERN }, ttl: { type: 'string', minLength: 1, maxLength: 16 }, maxTtl: { type: 'string', minLength: 1, maxLength: 16 },
          maxLeases: safeInteger({ minimum: 1, maximum: 1_000_000 }), maxLeasesPerMachine: safeInteger({ minimum: 1, maximum: 1_000_000 }), grant: grantSchema,
        },
      },
    },
  }, async (req) => ({ role: await putLeaseRole(ctx, callerOf(req), req.params.project, req.params.name, req.body) }));

  app.get<{ Params: { project: string } }>('/v1/projects/:project/lease-roles', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: { params: { type: 'object', required: ['project'], properties: { project: { type: 'string', pattern: NAME_PATTERN } } } },
  }, async (req) => ({ roles: await listLeaseRoles(ctx, req.params.project) }));

  app.get<{ Params: { project: string; name: string } }>('/v1/projects/:project/lease-roles/:name', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false }, schema: { params: roleParams },
  }, async (req) => ({ role: await getLeaseRole(ctx, req.params.project, req.params.name) }));

  app.delete<{ Params: { project: string; name: string } }>('/v1/projects/:project/lease-roles/:name', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false }, schema: { params: roleParams },
  }, async (req) => deleteLeaseRole(ctx, callerOf(req), req.params.project, req.params.name));

  // -- leases: operators list (never values) -------------------------------------------------
  app.get<{ Querystring: { project?: string; role?: string; machine?: string; state?: string } }>('/v1/leases', {
    config: { auth: ['operator'], minRole: 'admin', returnsValues: false },
    schema: {
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { project: { type: 'string', maxLength: 128 }, role: { type: 'string', maxLength: 128 }, machine: { type: 'string', maxLength: 128 }, state: { type: 'string', enum: [...LEASE_STATES] } },
      },
    },
  }, async (req) => ({ leases: await listLeases(ctx, req.query) }));

  // -- leases: the owning machine -------------------------------------------------------------
  app.post<{ Params: { project: string; role: string }; Querystring: { wait?: number }; Body: { ttl?: string } }>('/v1/projects/:project/leases/:role', {
    config: { auth: ['machine'], returnsValues: true },
    schema: {
      params: { type: 'object', required: ['project', 'role'], properties: { project: { type: 'string', pattern: NAME_PATTERN }, role: { type: 'string', pattern: NAME_PATTERN } } },
      querystring: waitQuery, body: ttlBody,
    },
  }, async (req, reply) => {
    const { lease, password } = await requestLease(ctx, callerOf(req), req.params.project, req.params.role, req.body ?? {});
    // Crash tests stop the vault here: the intent and its create job are committed, no answer sent.
    await faultPoint('vault-after-lease-intent');
    const check = settledRow(lease.id);
    await waitFor(reply, { leaseId: lease.id }, req.query.wait ?? LEASE_WAIT_DEFAULT_SECONDS, check.done);
    const now = await answerOf(await check.row(), password);
    if (now.state === 'creating') return reply.code(202).send({ leaseId: lease.id, state: 'creating' });
    return reply.code(now.state === 'active' ? 201 : 200).send(now);
  });

  app.get<{ Params: { id: string }; Querystring: { wait?: number } }>('/v1/leases/:id', {
    config: { auth: ['machine'], returnsValues: true }, schema: { params: idParams, querystring: waitQuery },
  }, async (req, reply) => {
    await ownedLease(ctx.store.db, callerOf(req), req.params.id);
    await waitFor(reply, { leaseId: req.params.id }, req.query.wait ?? 0, settledRow(req.params.id).done);
    const now = await readLease(ctx, callerOf(req), req.params.id);
    if (now.state === 'creating') return reply.code(202).send({ leaseId: now.leaseId, state: 'creating' });
    return now;
  });

  app.post<{ Params: { id: string }; Querystring: { wait?: number }; Body: { ttl?: string } }>('/v1/leases/:id/renew', {
    config: { auth: ['machine'], returnsValues: true }, schema: { params: idParams, querystring: waitQuery, body: ttlBody },
  }, async (req, reply) => {
    const { jobId } = await renewLease(ctx, callerOf(req), req.params.id, req.body ?? {});
    if (jobId !== null) {
      const jobDone = async (): Promise<boolean> => ['done', 'cancelled'].includes((await ctx.store.db.selectFrom('lease_jobs').select('state').where('id', '=', jobId).executeTakeFirst())?.state ?? 'done');
      const done = await waitFor(reply, { jobId }, req.query.wait ?? LEASE_WAIT_DEFAULT_SECONDS, jobDone);
      if (!done) return reply.code(202).send(await currentLease(req.params.id));
      const job = await ctx.store.db.selectFrom('lease_jobs').select(['error_code', 'state']).where('id', '=', jobId).executeTakeFirst();
      if (job?.error_code) throw new SikkerKeyError('SK_ERR_LEASE_STATE', `the agent could not renew the login (${job.error_code}); the lease keeps its expiry`);
    }
    return currentLease(req.params.id);
  });

  // The owner machine, or an operator (admin+); the answer carries no values.
  app.post<{ Params: { id: string } }>('/v1/leases/:id/revoke', {
    config: { auth: ['machine', 'operator'], minRole: 'admin', returnsValues: false }, schema: { params: idParams },
  }, async (req) => revokeLease(ctx, callerOf(req), req.params.id));

  // -- the agent (machines) ---------------------------------------------------------------------
  // The batch forms (one poll answer's jobs, the confirms that piled up) and the single ones.
  app.post<{ Body: { ids: string[] } }>('/v1/agent/lease-jobs/claim', {
    config: { auth: ['machine'], returnsValues: true },
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['ids'],
        properties: { ids: { type: 'array', minItems: 1, maxItems: LEASE_JOB_BATCH_MAX, items: idParams.properties.id } },
      },
    },
  }, async (req) => {
    const answer = await claimLeaseJobs(ctx, callerOf(req), req.body.ids);
    // Crash tests stop the vault here: the claims are committed, no answer sent.
    await faultPoint('vault-after-lease-claim');
    return answer;
  });

  app.post<{ Body: { jobs: Array<{ id: string; fence: number }> } }>('/v1/agent/lease-jobs/confirm', {
    config: { auth: ['machine'], returnsValues: false },
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['jobs'],
        properties: {
          jobs: {
            type: 'array', minItems: 1, maxItems: LEASE_JOB_BATCH_MAX,
            items: { type: 'object', additionalProperties: false, required: ['id', 'fence'], properties: { id: idParams.properties.id, fence: safeInteger({ minimum: 0 }) } },
          },
        },
      },
    },
  }, async (req) => confirmLeaseJobs(ctx, callerOf(req), req.body.jobs));

  app.post<{ Params: { id: string } }>('/v1/agent/lease-jobs/:id/claim', {
    config: { auth: ['machine'], returnsValues: true }, schema: { params: idParams },
  }, async (req) => {
    const claim = await claimLeaseJob(ctx, callerOf(req), req.params.id);
    await faultPoint('vault-after-lease-claim');
    return claim;
  });

  app.post<{ Params: { id: string }; Body: { fence: number } }>('/v1/agent/lease-jobs/:id/confirm', {
    config: { auth: ['machine'], returnsValues: false }, schema: { params: idParams, body: fenceBody },
  }, async (req) => confirmLeaseJob(ctx, callerOf(req), req.params.id, req.body.fence));

  app.post<{ Params: { id: string }; Body: LeaseJobFailBody }>('/v1/agent/lease-jobs/:id/fail', {
    config: { auth: ['machine'], returnsValues: false },
    schema: {
      params: idParams,
      body: {
        type: 'object', additionalProperties: false, required: ['fence', 'code', 'message'],
        properties: { fence: safeInteger({ minimum: 0 }), code: { type: 'string', maxLength: 64 }, message: { type: 'string', maxLength: 2000 } },
      },
    },
  }, async (req) => failLeaseJob(ctx, callerOf(req), req.params.id, req.body));

  // Hands out the admin secrets' fields: a value route, machines only.
  app.post('/v1/agent/lease-roles', { config: { auth: ['machine'], returnsValues: true } }, async (req) => agentLeaseRoles(ctx, callerOf(req)));

  app.post<{ Params: { roleId: string }; Body: { logins: string[] } }>('/v1/agent/lease-roles/:roleId/reconcile', {
    config: { auth: ['machine'], returnsValues: false },
    schema: {
      params: { type: 'object', required: ['roleId'], properties: { roleId: { type: 'string', minLength: 1, maxLength: 64 } } },
      body: { type: 'object', additionalProperties: false, required: ['logins'], properties: { logins: { type: 'array', maxItems: 10_000, items: { type: 'string', minLength: 1, maxLength: 128 } } } },
    },
  }, async (req) => reconcileRole(ctx, callerOf(req), req.params.roleId, req.body.logins));
}
