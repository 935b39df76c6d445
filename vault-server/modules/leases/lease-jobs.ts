/**
 * The agent's half of leases (docs/leases.md): lease jobs in the agent poll, claim (fenced, leased
 * to the claiming agent for the vault's `--rotation-lease` (default 30 s), re-claimable with a new fence once that lapses), confirm, fail,
 * and the reconcile that finds logins with no live intent.
 *
 * - create confirmed → the lease is active (`lease.created`); create failed → `failed`
 *   (`lease.failed`) and a drop job removes whatever was half-made;
 * - renew confirmed → the lease's expiry moves to the job's `renew_to` (`lease.renewed`);
 * - drop confirmed → `revoked` / `expired` (a failed lease stays failed); a failed drop is retried
 *   with backoff, never given up (a login must not outlive its lease).
 * A drop job is not handed out while another job of its lease is under a live claim, so a drop
 * never overtakes the create it undoes.
 */
import { SikkerKeyError, isSikkerKeyError } from '../../../protocol/errors.js';
import type { LeaseGrant, LeaseJobClaim, LeaseJobClaimBatch, LeaseJobConfirmBatch, LeaseJobFailBody, LeaseJobRefusal, LeaseJobSummary, LeaseReconcileResponse } from '../../../protocol/api-types.js';
import type { Caller } from '../../http/authenticate.js';
import { afterCommit, writeTx } from '../../context.js';
import type { AuditFn } from '../secrets/secrets-service.js';
import type { Tx, VaultContext } from '../../context.js';
import type { Row } from '../../store/database.js';
import { machineLabels, rotationEvents } from '../rotations/rotations-engine.js';
import type { WorkEvent } from '../rotations/rotations-engine.js';
import { adminAndTarget, isRoleAgent } from './lease-roles-service.js';
import { leaseLookups } from './lease-lookups.js';
import { jobRowForUpdate, leaseRowIn, markJobClaimed, markJobDone, projectForClaim } from './lease-statements.js';
import type { LeaseLookups } from './lease-lookups.js';
import { emitLease, leaseEvents, leasePassword, moveLease, queueLeaseJob } from './leases-service.js';
import { LIVE_LEASE_STATES, dropRetryDelayMs, jobStillWanted, loginPrefix, vaultId6 } from './lease-rules.js';

type JobRow = Row<'lease_jobs'>;

/** A job a machine may claim now: pending and due, or claimed under a lapsed claim. */
function claimableNow(job: Pick<JobRow, 'state' | 'not_before' | 'lease_until'>, now: number): boolean {
  return (job.state === 'pending' && (job.not_before === null || Number(job.not_before) <= now))
    || (job.state === 'claimed' && Number(job.lease_until ?? 0) < now);
}

/** The lease jobs this machine may claim now (its roles' jobs; create/renew not in locked projects). */
export async function listClaimableLeaseJobs(ctx: VaultContext, machine: Pick<Caller, 'id'>, labels: readonly string[]): Promise<LeaseJobSummary[]> {
  const now = ctx.now();
  const rows = await ctx.store.db.selectFrom('lease_jobs')
    .innerJoin('leases', 'leases.id', 'lease_jobs.lease_id')
    .innerJoin('lease_roles', 'lease_roles.id', 'leases.role_id')
    .innerJoin('projects', 'projects.id', 'leases.project_id')
    .select(['lease_jobs.id as id', 'lease_jobs.kind as kind', 'lease_jobs.lease_id as leaseId', 'projects.name as project', 'lease_roles.name as role'])
    .where((eb) => eb.or([eb('lease_roles.agent_machine_id', '=', machine.id), ...(labels.length > 0 ? [eb('lease_roles.agent_label', 'in', [...labels])] : [])]))
    .where((eb) => eb.or([
      eb.and([eb('lease_jobs.state', '=', 'pending'), eb.or([eb('lease_jobs.not_before', 'is', null), eb('lease_jobs.not_before', '<=', now)])]),
      eb.and([eb('lease_jobs.state', '=', 'claimed'), eb('lease_jobs.lease_until', '<', now)]),
    ]))
    // Revocation runs in a locked project; new logins do not.
    .where((eb) => eb.or([eb('lease_jobs.kind', '=', 'drop'), eb('projects.locked_at', 'is', null)]))
    // A create only while its lease is creating, a renew only while active (a claim that lapsed on a revoked lease is not handed out again).
    .where((eb) => jobStillWanted(eb))
    .where((eb) => eb.or([
      eb('lease_jobs.kind', '!=', 'drop'),
      eb.not(eb.exists(eb.selectFrom('lease_jobs as other').select('other.id')
        .whereRef('other.lease_id', '=', 'lease_jobs.lease_id').whereRef('other.id', '!=', 'lease_jobs.id')
        .where('other.state', '=', 'claimed').where('other.lease_until', '>=', now))),
    ]))
    .orderBy('lease_jobs.created_at').limit(100).execute();
  return rows.map((r) => ({ id: r.id, kind: r.kind, leaseId: r.leaseId, project: r.project, role: r.role }));
}

async function lockJob(ctx: VaultContext, trx: Tx, id: string): Promise<JobRow> {
  const row = await jobRowForUpdate(ctx, trx, id);
  if (!row) throw new SikkerKeyError('SK_ERR_LEASE_NOT_FOUND', 'no such lease job');
  return row;
}

async function leaseOf(trx: Tx, job: JobRow): Promise<Row<'leases'>> {
  const lease = await leaseRowIn(trx, job.lease_id);
  if (lease === undefined) throw new SikkerKeyError('SK_ERR_LEASE_NOT_FOUND', 'the lease of this job is gone');
  return lease;
}

async function jobContext(trx: Tx, look: LeaseLookups, job: JobRow) {
  const lease = await leaseOf(trx, job);
  const role = await look.roleById(lease.role_id);
  if (role === undefined) throw new SikkerKeyError('SK_ERR_LEASE_NOT_FOUND', 'the lease role of this job is gone');
  return { lease, role };
}

type AdminFields = Awaited<ReturnType<typeof adminAndTarget>>;

/** What the claims of one transaction share: its lookups, and the admin fields read so far, by role (one read of an admin secret serves every job of its role). */
interface ClaimBatch { look: LeaseLookups; admins: Map<string, AdminFields> }


/**
 * One job's claim inside the caller's transaction: every refusal is thrown before the first write,
 * so a batch can skip it and go on.
 */
async function claimInTx(ctx: VaultContext, trx: Tx, machine: Caller, id: string, batch: ClaimBatch): Promise<{ claim: LeaseJobClaim; fields: AdminFields }> {
  const job = await lockJob(ctx, trx, id);
  const { lease, role } = await jobContext(trx, batch.look, job);
  if (!await isRoleAgent(trx, machine.id, role, await batch.look.labels(machine.id))) throw new SikkerKeyError('SK_ERR_ROTATION_NOT_CLAIMABLE', 'this machine is not the agent of that lease role');
  const now = ctx.now();
  if ((job.kind === 'create' && lease.state !== 'creating') || (job.kind === 'renew' && lease.state !== 'active')) {
    throw new SikkerKeyError('SK_ERR_LEASE_STATE', `the lease is ${lease.state}: its ${job.kind} job is no longer wanted`);
  }
  if (!claimableNow(job, now)) throw new SikkerKeyError('SK_ERR_LEASE_STATE', `the lease job is ${job.state}${job.state === 'claimed' ? ' under a live claim' : ''}; it cannot be claimed now`);
  const project = await projectForClaim(ctx, trx, lease.project_id);
  if (job.kind !== 'drop' && project.locked_at !== null) throw new SikkerKeyError('SK_ERR_PROJECT_LOCKED', `project ${project.name} is locked; no new logins until an operator unlocks it`);
  if (job.kind === 'drop') {
    const busy = await trx.selectFrom('lease_jobs').select('id').where('lease_id', '=', job.lease_id).where('id', '!=', job.id)
      .where('state', '=', 'claimed').where('lease_until', '>=', now).executeTakeFirst();
    if (busy) throw new SikkerKeyError('SK_ERR_LEASE_STATE', 'another job of this lease is under a live claim; the drop follows it');
  }
  let fields = batch.admins.get(role.id);
  if (fields === undefined) {
    fields = await adminAndTarget(ctx, trx, machine, role);
    batch.admins.set(role.id, fields);
  }
  const fence = job.fence + 1;
  await markJobClaimed(trx, id, { fence, claimedBy: machine.id, leaseUntil: now + ctx.rotationLeaseSeconds * 1000, attempts: job.attempts + 1 });
  return {
    fields,
    claim: {
      id, kind: job.kind, fence, leaseId: lease.id, engine: role.engine, admin: fields.admin, target: fields.target, username: lease.username,
      ...(job.kind === 'create' ? { password: await leasePassword(ctx, trx, lease, project) } : {}),
      grant: JSON.parse(role.grant_spec) as LeaseGrant,
      validUntil: job.kind === 'renew' && job.renew_to !== null ? Number(job.renew_to) : Number(lease.expires_at),
    },
  };
}

/**
 * The claims' reads of admin secrets, audited: one `secret.read` per admin secret read in the
 * transaction, naming every job it was handed out for (`via: lease.claim`).
 */
async function auditClaims(audit: AuditFn, machine: Caller, claimed: ReadonlyArray<{ claim: LeaseJobClaim; fields: AdminFields }>): Promise<void> {
  const bySecret = new Map<string, { fields: AdminFields; jobs: Array<{ id: string; kind: string }> }>();
  for (const { claim, fields } of claimed) {
    const key = `${fields.adminName}\0${fields.version}`;
    const entry = bySecret.get(key) ?? { fields, jobs: [] };
    entry.jobs.push({ id: claim.id, kind: claim.kind });
    bySecret.set(key, entry);
  }
  for (const { fields, jobs } of bySecret.values()) {
    await audit({
      action: 'secret.read', projectId: fields.projectId, target: `secret:${fields.adminName}`, outcome: 'success',
      details: { version: fields.version, fields: Object.keys(fields.admin).sort(), via: 'lease.claim', leaseJobs: jobs },
    }, machine);
  }
}

/** `POST /v1/agent/lease-jobs/{id}/claim`: a new fence, the job the agent's for --rotation-lease (30 s by default); a create carries the password. */
export async function claimLeaseJob(ctx: VaultContext, machine: Caller, id: string): Promise<LeaseJobClaim> {
  return writeTx(ctx, async (trx, audit) => {
    const claimed = await claimInTx(ctx, trx, machine, id, { look: await leaseLookups(ctx, trx), admins: new Map() });
    await auditClaims(audit, machine, [claimed]);
    return claimed.claim;
  });
}

/**
 * `POST /v1/agent/lease-jobs/claim`: several jobs of one poll answer in one transaction (one
 * signed request, one audit event per admin secret instead of one round trip and one event per
 * job). A job refused — claimed by another agent meanwhile, no longer wanted, a locked project —
 * is listed in `refused` with its code; the others are claimed. Any other error fails the batch.
 */
export async function claimLeaseJobs(ctx: VaultContext, machine: Caller, ids: readonly string[]): Promise<LeaseJobClaimBatch> {
  return writeTx(ctx, async (trx, audit) => {
    const batch: ClaimBatch = { look: await leaseLookups(ctx, trx), admins: new Map() };
    const claimed: Array<{ claim: LeaseJobClaim; fields: AdminFields }> = [];
    const refused: LeaseJobRefusal[] = [];
    for (const id of new Set(ids)) {
      try {
        claimed.push(await claimInTx(ctx, trx, machine, id, batch));
      } catch (err) {
        if (!isSikkerKeyError(err)) throw err;
        refused.push({ id, code: err.code, message: err.message });
      }
    }
    await auditClaims(audit, machine, claimed);
    return { claims: claimed.map((c) => c.claim), refused };
  });
}

/** The job, checked to be this machine's under `fence` (SK_ERR_ROTATION_FENCED: the fence code rotations use). */
async function ownedJob(ctx: VaultContext, trx: Tx, machine: Caller, id: string, fence: number): Promise<JobRow> {
  const job = await lockJob(ctx, trx, id);
  if (job.fence !== fence) throw new SikkerKeyError('SK_ERR_ROTATION_FENCED', `fence ${fence} is stale: the lease job was claimed again (fence ${job.fence}); stop touching the database`);
  if (job.state !== 'claimed' || job.claimed_by !== machine.id) throw new SikkerKeyError('SK_ERR_LEASE_STATE', `the lease job is ${job.state}; nothing to report`);
  return job;
}

/**
 * A confirmed renew's new expiry, only while the lease is active and only forward: of two renews
 * confirmed out of order, the earlier expiry never replaces the later one.
 */
async function renewTo(trx: Tx, leaseId: string, to: number): Promise<boolean> {
  const moved = await trx.updateTable('leases').set({ expires_at: to }).where('id', '=', leaseId).where('state', '=', 'active').where('expires_at', '<', to).executeTakeFirst();
  return Number(moved.numUpdatedRows) > 0;
}

const emitJob = (trx: Tx, jobId: string): void => afterCommit(trx, () => leaseEvents.emit('job', jobId));

/** One job's confirm inside the caller's transaction: every refusal is thrown before the first write. */
async function confirmInTx(ctx: VaultContext, trx: Tx, audit: AuditFn, machine: Caller, id: string, fence: number): Promise<void> {
  const job = await ownedJob(ctx, trx, machine, id, fence);
  const lease = await leaseOf(trx, job);
  const now = ctx.now();
  await markJobDone(trx, id, now);
  const target = `lease:${lease.id}`;
  if (job.kind === 'create' && await moveLease(trx, lease.id, 'creating', { state: 'active', active_at: now })) {
    await audit({ action: 'lease.created', projectId: lease.project_id, target, outcome: 'success', details: { leaseId: lease.id, username: lease.username, machineId: lease.machine_id, expiresAt: lease.expires_at } }, machine);
  } else if (job.kind === 'renew' && job.renew_to !== null && await renewTo(trx, lease.id, Number(job.renew_to))) {
    await audit({ action: 'lease.renewed', projectId: lease.project_id, target, outcome: 'success', details: { leaseId: lease.id, from: lease.expires_at, to: job.renew_to } }, machine);
  } else if (job.kind === 'drop') {
    const ended = lease.state === 'revoking' ? (lease.end_reason === 'expired' ? 'expired' as const : 'revoked' as const) : lease.state;
    await moveLease(trx, lease.id, lease.state, { state: ended, ended_at: now });
    // A create or renew whose claim lapsed while the lease was revoked is never handed out again
    // (jobStillWanted); with the login dropped it ends here, instead of staying claimed for good.
    await trx.updateTable('lease_jobs').set({ state: 'cancelled', finished_at: now, lease_until: null, error: 'cancelled: the lease ended and its login was dropped' })
      .where('lease_id', '=', lease.id).where('kind', 'in', ['create', 'renew']).where('state', 'in', ['pending', 'claimed']).execute();
    await audit({
      action: ended === 'expired' ? 'lease.expired' : ended === 'revoked' ? 'lease.revoked' : 'lease.failed', projectId: lease.project_id, target, outcome: 'success',
      details: { leaseId: lease.id, username: lease.username, phase: 'dropped', reason: lease.end_reason },
    }, machine);
  }
  // A create confirmed after the lease was revoked changes nothing: its drop job follows.
  emitLease(trx, lease.id);
  emitJob(trx, id);
}

/** `POST /v1/agent/lease-jobs/{id}/confirm`. */
export async function confirmLeaseJob(ctx: VaultContext, machine: Caller, id: string, fence: number): Promise<{ ok: true }> {
  return writeTx(ctx, async (trx, audit) => {
    await confirmInTx(ctx, trx, audit, machine, id, fence);
    return { ok: true as const };
  });
}

/**
 * `POST /v1/agent/lease-jobs/confirm`: several jobs' confirms in one transaction (the agent sends
 * those that finished while its previous confirm was in flight). A refused one (a stale fence, a
 * job no longer claimed by this machine) is listed in `refused`; the others are confirmed.
 */
export async function confirmLeaseJobs(ctx: VaultContext, machine: Caller, jobs: ReadonlyArray<{ id: string; fence: number }>): Promise<LeaseJobConfirmBatch> {
  return writeTx(ctx, async (trx, audit) => {
    const confirmed: string[] = [];
    const refused: LeaseJobRefusal[] = [];
    const seen = new Set<string>();
    for (const { id, fence } of jobs) {
      if (seen.has(id)) continue;
      seen.add(id);
      try {
        await confirmInTx(ctx, trx, audit, machine, id, fence);
        confirmed.push(id);
      } catch (err) {
        if (!isSikkerKeyError(err)) throw err;
        refused.push({ id, code: err.code, message: err.message });
      }
    }
    return { confirmed, refused };
  });
}

/** `POST /v1/agent/lease-jobs/{id}/fail`. */
export async function failLeaseJob(ctx: VaultContext, machine: Caller, id: string, body: LeaseJobFailBody): Promise<{ ok: true }> {
  return writeTx(ctx, async (trx, audit) => {
    const job = await ownedJob(ctx, trx, machine, id, body.fence);
    const lease = await leaseOf(trx, job);
    const now = ctx.now();
    const error = { error_code: body.code, error: body.message.slice(0, 2000) };
    if (job.kind === 'drop') {
      // Never given up: retried with backoff until the login is gone.
      const notBefore = now + dropRetryDelayMs(job.attempts);
      await trx.updateTable('lease_jobs').set({ state: 'pending', lease_until: null, claimed_by: null, not_before: notBefore, ...error }).where('id', '=', id).execute();
      ctx.log.warn({ leaseId: lease.id, leaseJobId: id, code: body.code, attempts: job.attempts }, 'a lease drop failed; retrying with backoff');
      const role = await trx.selectFrom('lease_roles').select(['agent_machine_id', 'agent_label']).where('id', '=', lease.role_id).executeTakeFirstOrThrow();
      const work: WorkEvent = { rotationId: id, agentMachineId: role.agent_machine_id, agentLabel: role.agent_label, notBefore };
      afterCommit(trx, () => rotationEvents.emit('work', work));
      return { ok: true as const };
    }
    await trx.updateTable('lease_jobs').set({ state: 'done', finished_at: now, lease_until: null, ...error }).where('id', '=', id).execute();
    if (job.kind === 'create' && await moveLease(trx, lease.id, 'creating', { state: 'failed', end_reason: 'create_failed', ended_at: now })) {
      await queueLeaseJob(ctx, trx, lease, 'drop');
      await audit({ action: 'lease.failed', projectId: lease.project_id, target: `lease:${lease.id}`, outcome: 'failure', details: { leaseId: lease.id, username: lease.username, code: body.code, message: error.error } }, machine);
    }
    emitLease(trx, lease.id);
    emitJob(trx, id);
    return { ok: true as const };
  });
}

/**
 * `POST /v1/agent/lease-roles/{roleId}/reconcile`: of the `sk`-prefixed logins the agent found,
 * `drop` those with this vault's prefix whose lease is not live (no row, or not creating/active,
 * at this moment — a login whose intent is committed but not yet confirmed is kept); `foreign`
 * the other `sk` ones, each audited once as `lease.foreign_login` and never dropped.
 */
export async function reconcileRole(ctx: VaultContext, machine: Caller, roleId: string, logins: readonly string[]): Promise<LeaseReconcileResponse> {
  return writeTx(ctx, async (trx, audit) => {
    const role = await trx.selectFrom('lease_roles').selectAll().where('id', '=', roleId).executeTakeFirst();
    if (!role || !await isRoleAgent(trx, machine.id, role)) throw new SikkerKeyError('SK_ERR_LEASE_NOT_FOUND', 'no such lease role for this agent');
    const prefix = loginPrefix(await vaultId6(ctx, trx));
    const ours = [...new Set(logins.filter((l) => l.startsWith(prefix)))];
    const foreign = [...new Set(logins.filter((l) => l.startsWith('sk') && !l.startsWith(prefix)))];
    const live = new Set<string>();
    for (let i = 0; i < ours.length; i += 500) {
      const rows = await trx.selectFrom('leases').select('username').where('username', 'in', ours.slice(i, i + 500)).where('state', 'in', [...LIVE_LEASE_STATES]).execute();
      for (const r of rows) live.add(r.username);
    }
    for (const login of foreign) {
      const target = `login:${role.id}/${login}`;
      const seen = await trx.selectFrom('audit_events').select('seq').where('action', '=', 'lease.foreign_login').where('target', '=', target).limit(1).executeTakeFirst();
      if (!seen) await audit({ action: 'lease.foreign_login', projectId: role.project_id, target, outcome: 'success', details: { roleId: role.id, login, engine: role.engine } }, machine);
    }
    return { drop: ours.filter((l) => !live.has(l)), foreign };
  });
}

/** The labels of a machine, for the agent poll (re-exported for the routes). */
export { machineLabels };
