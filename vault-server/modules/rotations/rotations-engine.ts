import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { isErrorCode } from '../../../protocol/errors.js';
import { SUCCEEDED_STATE } from '../../../protocol/api-types.js';
import type { AgentStepTiming, ClaimResponse, Engine, FailBody, PreflightResultBody, RotationKind, RotationStepResponse, TimelineEntry } from '../../../protocol/api-types.js';
import { connectionFieldsOf, flavourSpec, isFlavour, refusal } from '../../../protocol/engines.js';
import type { Flavour } from '../../../protocol/engines.js';
import type { Caller } from '../../http/authenticate.js';
import { afterCommit, writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import type { Row, SecretVersionState } from '../../store/database.js';
import { UNFINISHED_ROTATION_STATES } from '../../store/database.js';
import { forShare, forUpdate, isUniqueViolation } from '../../store/locks.js';
import { decodeSecretPlaintext, decryptVersion, demoteLive, insertVersion, lockSecret } from '../secrets/secrets-service.js';
import type { ProjectRow } from '../projects/projects-service.js';
import { assertNotExpired } from '../access-policies/access-policy-enforce.js';
import { generatePassword, parsePasswordPolicy } from './password-generator.js';
import { MAX_UNPROVEN_ATTEMPTS, assertDatabaseFields, failOutcome, retryDelayMs } from './rotation-rules.js';
// A cycle of functions only (rotation-drift uses this module's helpers at call time, not at load).
import { driftAfterPromotion } from './rotation-drift.js';
import { appendReport, buildTimeline } from './rotation-timeline.js';

/**
 * The vault's half of the rotation state machine (DESIGN §6; every state, for operators, in
 * docs/rotation-states.md):
 *
 *   pending ─claim─► claimed ─applied─► applied ─confirm─► promoted   (rotate)
 *      ▲                │                  │               retired    (retire)
 *      │                │                  │               preflight_passed (preflight: its own report)
 *      └── unproven failure / lease lost: back to pending (maybe_applied stays true)
 *   failed ◄── fail with liveVerified (pending kept as `discarded`); a preflight with problems;
 *              a rotate claim the stored flavour refuses (nothing applied yet)
 *   stuck  ◄── neither credential works, or the database refused to undo a dual apply
 *              (`undoRefused`: the policy is marked failing too); an operator resolves it
 *
 * Which of failed / pending / stuck a failure report leads to is `failOutcome` (rotation-rules.ts).
 * Every transition is one transaction with its audit event. The vault never discards a claimed
 * pending value on its own: only an agent's proof that live works, or an operator, ends it.
 */

/**
 * Wakes long-polls in this process, after commit: `'work'` (a WorkEvent) when a job becomes
 * claimable or will at its `notBefore`, `'finished'` (rotation id, FinishedEvent) when one ends,
 * `'state'` (rotation id) when one is claimed or reported applied (operators' job polls, job-waiters.ts).
 * Listeners must accept a missing payload (an event relayed from another process may carry none)
 * and then wake everybody who might care (vault-server/http/long-poll.ts).
 */
export const rotationEvents = new EventEmitter();
rotationEvents.setMaxListeners(0);

/** Whom a new or re-queued job is for, and from when (null: now). */
export interface WorkEvent { rotationId: string; agentMachineId: string | null; agentLabel: string | null; notBefore: number | null }
/** The secret of a rotation that ended: watches on it wake. */
export interface FinishedEvent { project: string; secret: string }

const finished = (secret: SecretRef): FinishedEvent => ({ project: secret.project.name, secret: secret.name });

const UNFINISHED = [...UNFINISHED_ROTATION_STATES];

type PolicyRow = Row<'rotation_policies'>;
type RotationRow = Row<'rotations'>;

interface SecretRef { id: string; name: string; kind: string; project: ProjectRow }

export async function secretById(trx: Tx, id: string): Promise<SecretRef> {
  const s = await trx.selectFrom('secrets').innerJoin('projects', 'projects.id', 'secrets.project_id')
    .select(['secrets.id as id', 'secrets.name as name', 'secrets.kind as kind', 'projects.id as pid', 'projects.name as pname',
      'projects.master_key_wrapped as pkey', 'projects.key_version as pkv', 'projects.locked_at as plocked', 'projects.locked_reason as preason'])
    .where('secrets.id', '=', id).executeTakeFirstOrThrow();
  return {
    id: s.id, name: s.name, kind: s.kind,
    project: { id: s.pid, name: s.pname, master_key_wrapped: s.pkey, key_version: s.pkv, locked_at: s.plocked, locked_reason: s.preason },
  };
}

/** The decrypted fields of a secret's version in `state` (live by default). */
export async function secretFields(ctx: VaultContext, trx: Tx, secret: SecretRef, where: { state?: SecretVersionState; id?: string } = { state: 'live' }): Promise<{ fields: Record<string, string>; version: number; versionId: string }> {
  let q = trx.selectFrom('secret_versions').select(['id', 'version', 'ciphertext', 'wrapped_data_key', 'project_key_version']).where('secret_id', '=', secret.id);
  q = where.id ? q.where('id', '=', where.id) : q.where('state', '=', where.state ?? 'live');
  const row = await q.executeTakeFirst();
  if (!row) throw new SikkerKeyError('SK_ERR_ROTATION_STATE', `secret ${secret.name} has no ${where.state ?? 'matching'} version`);
  const decoded = decodeSecretPlaintext(secret.kind, await decryptVersion(ctx, trx, secret.project, secret.id, row));
  if (!('fields' in decoded)) throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', `secret ${secret.name} is plain; a rotated secret is structured (host, port, username, password)`);
  return { fields: decoded.fields, version: row.version, versionId: row.id };
}

/**
 * Creates a rotation (kind `rotate`) with a freshly generated pending version. The partial unique
 * index refuses a second unfinished rotation of the same secret, which is also what makes
 * scheduling exactly-once across replicas.
 */
export async function createRotation(ctx: VaultContext, trx: Tx, req: {
  policy: PolicyRow; trigger: 'manual' | 'schedule' | 'retry' | 'promotion' | 'reads'; actor?: Caller; kind?: RotationKind; notBefore?: number | null;
  details?: Record<string, unknown>;
}, audit: (e: { action: string; projectId?: string | null; target: string; outcome: 'success' | 'failure' | 'denied'; details?: Record<string, unknown> }, caller?: Caller) => Promise<void>): Promise<{ id: string }> {
  const kind = req.kind ?? 'rotate';
  const secret = await secretById(trx, req.policy.secret_id);
  // Checked first: on PostgreSQL a unique violation aborts the whole transaction, so the index is
  // the safety net for a race, not the way to find the running job. Not locked (the scheduler holds
  // the policy row, and a job's report locks the job row, then the policy's: a lock here could
  // deadlock with it).
  const running = await trx.selectFrom('rotations').select(['id', 'state', 'kind']).where('secret_id', '=', secret.id)
    .where('state', 'in', UNFINISHED).executeTakeFirst();
  // An unclaimed preflight is superseded: the rotation exercises the same privileges and fails
  // with the same actionable error if they are missing. Only while it is still unclaimed: the
  // update is conditional, and on PostgreSQL it waits for an agent's claim committing in another
  // process and then sees it (0 rows): a claimed preflight is the agent's, and its result is awaited.
  const superseded = running && running.kind === 'preflight' && running.state === 'pending' && kind === 'rotate'
    && Number((await trx.updateTable('rotations').set({ state: 'cancelled', finished_at: ctx.now(), error: 'superseded by a rotation' })
      .where('id', '=', running.id).where('state', '=', 'pending').executeTakeFirst()).numUpdatedRows) === 1;
  if (running && !superseded) {
    throw new SikkerKeyError('SK_ERR_ROTATION_IN_PROGRESS', `secret ${secret.project.name}/${secret.name} has an unfinished ${running.kind} job (${running.id}, ${running.state})`, { details: { rotationId: running.id } });
  }
  const id = randomUUID();
  let pendingVersionId: string | null = null;
  let notBefore = req.notBefore ?? null;
  if (kind === 'rotate') {
    const live = await secretFields(ctx, trx, secret);
    assertDatabaseFields(live.fields, `secret ${secret.name}`);
    notBefore = Math.max(notBefore ?? 0, await graceEndsAt(trx, req.policy)) || null;
    const password = generatePassword(parsePasswordPolicy(req.policy.password_policy));
    const pendingFields = { ...live.fields, username: nextUsername(req.policy, live.fields.username ?? ''), password };
    const inserted = await insertVersion(ctx, trx, {
      project: secret.project, secretId: secret.id, plaintext: Buffer.from(JSON.stringify(pendingFields), 'utf8'),
      state: 'pending', createdBy: `rotation:${id}`,
    });
    pendingVersionId = inserted.id;
  }
  try {
    await trx.insertInto('rotations').values({
      id, secret_id: secret.id, policy_id: req.policy.id, kind, state: 'pending', pending_version_id: pendingVersionId,
      claimed_by: null, lease_until: null, maybe_applied: 0, error: null, error_code: null, created_at: ctx.now(),
      claimed_at: null, applied_at: null, finished_at: null, not_before: notBefore,
      details: JSON.stringify({ trigger: req.trigger, ...req.details }),
    }).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new SikkerKeyError('SK_ERR_ROTATION_IN_PROGRESS', `secret ${secret.project.name}/${secret.name} got another unfinished job at the same moment`);
    throw err;
  }
  await audit({ action: `rotation.created`, projectId: secret.project.id, target: `secret:${secret.project.name}/${secret.name}`, outcome: 'success', details: { rotationId: id, kind, trigger: req.trigger } }, req.actor);
  const work: WorkEvent = { rotationId: id, agentMachineId: req.policy.agent_machine_id, agentLabel: req.policy.agent_label, notBefore };
  afterCommit(trx, () => rotationEvents.emit('work', work));
  return { id };
}

/** The refusal for a policy an AI agent set or changed that no operator has approved yet. */
export function awaitingApproval(project: string, secret: string): SikkerKeyError {
  return new SikkerKeyError('SK_ERR_ROTATION_AWAITING_APPROVAL',
    `the rotation policy of ${project}/${secret} was set or changed by an AI agent and waits for an operator: sikkerkey rotation approve ${project} ${secret}`);
}

/** The jobs this machine may claim now: due pending ones, and claimed ones whose lease lapsed. */
export async function listClaimable(ctx: VaultContext, machine: Caller, labels: string[]): Promise<Array<{ id: string; kind: RotationKind; project: string; secret: string }>> {
  const now = ctx.now();
  const rows = await ctx.store.db.selectFrom('rotations')
    .innerJoin('rotation_policies', 'rotation_policies.id', 'rotations.policy_id')
    .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
    .innerJoin('projects', 'projects.id', 'secrets.project_id')
    .select(['rotations.id as id', 'rotations.kind as kind', 'projects.name as project', 'secrets.name as secret', 'rotation_policies.agent_machine_id as agentId', 'rotation_policies.agent_label as agentLabel'])
    .where('projects.locked_at', 'is', null)
    // A policy an AI agent set or changed hands out nothing until an operator approves it.
    .where('rotation_policies.awaiting_approval_by', 'is', null)
    // This machine's jobs only, before the limit: with thousands of agents, 100 jobs of others
    // must not hide this one's.
    .where((eb) => eb.or([
      eb('rotation_policies.agent_machine_id', '=', machine.id),
      ...(labels.length > 0 ? [eb('rotation_policies.agent_label', 'in', labels)] : []),
    ]))
    .where((eb) => eb.or([
      eb.and([eb('rotations.state', '=', 'pending'), eb.or([eb('rotations.not_before', 'is', null), eb('rotations.not_before', '<=', now)])]),
      eb.and([eb('rotations.state', 'in', ['claimed', 'applied']), eb('rotations.lease_until', '<', now)]),
    ]))
    .orderBy('rotations.created_at').limit(100).execute();
  return rows.filter((r) => r.agentId === machine.id || (r.agentLabel !== null && labels.includes(r.agentLabel)))
    .map((r) => ({ id: r.id, kind: r.kind, project: r.project, secret: r.secret }));
}

async function lockRotation(ctx: VaultContext, trx: Tx, id: string): Promise<RotationRow> {
  const row = await forUpdate(ctx.store.dialect, trx.selectFrom('rotations').selectAll().where('id', '=', id)).executeTakeFirst();
  if (!row) throw new SikkerKeyError('SK_ERR_NOT_FOUND', 'no such rotation');
  return row;
}

async function policyOf(trx: Tx, row: RotationRow): Promise<PolicyRow> {
  if (!row.policy_id) throw new SikkerKeyError('SK_ERR_ROTATION_STATE', 'this rotation has no policy');
  return trx.selectFrom('rotation_policies').selectAll().where('id', '=', row.policy_id).executeTakeFirstOrThrow();
}

export async function machineLabels(trx: Tx, machineId: string): Promise<string[]> {
  const m = await trx.selectFrom('machines').select('labels').where('id', '=', machineId).executeTakeFirst();
  return m ? (JSON.parse(m.labels) as string[]) : [];
}

function assertFence(row: RotationRow, fence: number): void {
  if (row.fence !== fence) {
    throw new SikkerKeyError('SK_ERR_ROTATION_FENCED', `fence ${fence} is stale: the rotation was claimed again (fence ${row.fence}); stop touching the database`);
  }
}

/**
 * Claims a job: increments the fence, takes a lease, and from this moment assumes the database
 * may hold the pending credential (`maybe_applied`). The answer tells the agent whether an
 * earlier claim may already have applied it, so it reconciles before doing anything else.
 *
 * Each kind carries only what it needs (protocol/api-types.ts): a rotate job the pending and the
 * live password, a retire job the live and the old one to remove, a preflight no user password at
 * all (its target without `password`).
 *
 * A rotate job whose policy's stored flavour refuses the strategy (say `dual` was set before the
 * first preflight reported MariaDB) is not handed out. The transaction that found it does not throw
 * — a throw would roll the ending back — but ends the rotation and *returns* the refusal; it is
 * thrown only after that transaction committed, so the claim answers
 * SK_ERR_ROTATION_STRATEGY_UNSUPPORTED and the rotation stays ended (see `refuseClaim`).
 */
export async function claimRotation(ctx: VaultContext, machine: Caller, id: string): Promise<ClaimResponse> {
  const outcome = await writeTx(ctx, async (trx, audit): Promise<{ job: ClaimResponse } | { refused: SikkerKeyError }> => {
    const row = await lockRotation(ctx, trx, id);
    const policy = await policyOf(trx, row);
    // The policy (its admin secret, its agent) may be an AI agent's unapproved change: nothing is
    // handed out, nothing is written; the job waits for an operator's `rotation approve`.
    if (policy.awaiting_approval_by !== null) {
      const s = await secretById(trx, row.secret_id);
      throw awaitingApproval(s.project.name, s.name);
    }
    const labels = await machineLabels(trx, machine.id);
    if (policy.agent_machine_id !== machine.id && !(policy.agent_label !== null && labels.includes(policy.agent_label))) {
      throw new SikkerKeyError('SK_ERR_ROTATION_NOT_CLAIMABLE', 'this machine is not the agent of that rotation\'s policy');
    }
    const now = ctx.now();
    const claimable = (row.state === 'pending' && (row.not_before === null || row.not_before <= now))
      || ((row.state === 'claimed' || row.state === 'applied') && (row.lease_until ?? 0) < now);
    if (!claimable) {
      throw new SikkerKeyError('SK_ERR_ROTATION_STATE', `rotation is ${row.state}${row.state === 'claimed' || row.state === 'applied' ? ' under a live lease' : ''}; it cannot be claimed now`);
    }
    const secret = await secretById(trx, row.secret_id);
    const engine = policy.provider as Engine;
    const strategy = policy.strategy;
    if (row.kind === 'rotate') {
      const why = refusal({ engine, flavour: policy.flavour, version: policy.server_version }, strategy);
      if (why !== undefined) return { refused: await refuseClaim(ctx, trx, audit, machine, row, secret, why) };
    }
    // Shared lock on the project row, in the same order as reads take it (project before audit head).
    const project = await forShare(ctx.store.dialect, trx.selectFrom('projects').select(['locked_at']).where('id', '=', secret.project.id)).executeTakeFirstOrThrow();
    if (project.locked_at !== null) throw new SikkerKeyError('SK_ERR_PROJECT_LOCKED', `project ${secret.project.name} is locked; no new rotation claims until an operator unlocks it`);
    await assertNotExpired(ctx, trx, secret.id);

    const adminSecret = await secretById(trx, policy.admin_secret_id);
    const access = await adminGrantOf(trx, machine.id, adminSecret);
    if (access === 'none') {
      throw new SikkerKeyError('SK_ERR_NO_GRANT', `the agent holds no grant on the admin secret ${adminSecret.project.name}/${adminSecret.name}: sikkerkey grant add ${machine.name} --project ${adminSecret.project.name} --secret ${adminSecret.name}`);
    }
    const admin = await secretFields(ctx, trx, adminSecret);
    // A grant limited to fields that leaves out a connection field: refused before anything is
    // written (no fence, no maybe_applied), the rotation ended and committed (see refuseClaim).
    const missing = missingConnectionFields(engine, admin.fields, access);
    if (missing.length > 0) {
      return { refused: await refuseClaim(ctx, trx, audit, machine, row, secret, noFieldGrantMessage(machine.name, adminSecret, missing), { code: 'SK_ERR_NO_GRANT', provenFailure: true }) };
    }
    const adminHanded = access === 'all' ? admin.fields : Object.fromEntries(Object.entries(admin.fields).filter(([k]) => access.has(k)));
    const live = await secretFields(ctx, trx, secret);

    const fence = row.fence + 1;
    const attempt = row.attempt + 1;
    const base = {
      id, project: secret.project.name, secret: secret.name, engine, strategy, flavour: policy.flavour,
      fence, leaseSeconds: ctx.rotationLeaseSeconds, attempt, admin: adminHanded,
    };
    // Built (and checked) before anything is written: a job that cannot be described is refused
    // with nothing changed.
    let job: ClaimResponse;
    if (row.kind === 'rotate') {
      if (!row.pending_version_id) throw new SikkerKeyError('SK_ERR_ROTATION_STATE', 'this rotation has no pending version to apply');
      const pending = await secretFields(ctx, trx, secret, { id: row.pending_version_id });
      job = {
        ...base, kind: 'rotate', maybeApplied: row.maybe_applied === 1,
        username: pending.fields.username ?? '', pendingPassword: pending.fields.password ?? '',
        livePassword: live.fields.password ?? '', target: live.fields,
      };
    } else if (row.kind === 'retire') {
      const retireVersionId = (JSON.parse(row.details ?? '{}') as { retireVersionId?: string }).retireVersionId;
      if (!retireVersionId) throw new SikkerKeyError('SK_ERR_ROTATION_STATE', 'this retire job names no old version to remove');
      const retirePassword = (await secretFields(ctx, trx, secret, { id: retireVersionId })).fields.password;
      if (!retirePassword) throw new SikkerKeyError('SK_ERR_ROTATION_STATE', 'the old version this retire job removes holds no password');
      job = {
        ...base, kind: 'retire', username: live.fields.username ?? '', livePassword: live.fields.password ?? '', retirePassword, target: live.fields,
      };
    } else {
      const { password: _password, ...where } = live.fields;
      job = {
        ...base, kind: 'preflight',
        usernames: [...new Set([live.fields.username ?? '', ...(strategy === 'alternating' ? [policy.primary_username ?? '', policy.alternate_username ?? ''] : [])])].filter(Boolean),
        target: where,
      };
    }

    await trx.updateTable('rotations').set({
      state: 'claimed', fence, attempt, claimed_by: machine.id, claimed_at: now,
      lease_until: now + ctx.rotationLeaseSeconds * 1000, maybe_applied: row.kind === 'rotate' ? 1 : row.maybe_applied,
    }).where('id', '=', id).execute();
    await audit({ action: 'rotation.claimed', projectId: secret.project.id, target: `secret:${secret.project.name}/${secret.name}`, outcome: 'success', details: { rotationId: id, fence, attempt, reclaimed: row.maybe_applied === 1 } }, machine);
    // The agent now holds the admin credential: a read of the admin secret, like any other.
    await audit({
      action: 'secret.read', projectId: adminSecret.project.id, target: `secret:${adminSecret.project.name}/${adminSecret.name}`, outcome: 'success',
      details: { version: admin.version, fields: Object.keys(adminHanded).sort(), rotationId: id, via: 'rotation.claim' },
    }, machine);
    afterCommit(trx, () => rotationEvents.emit('state', id));
    return { job };
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.job;
}

/**
 * Ends a rotate job whose strategy the policy's stored flavour refuses, inside the claim's
 * transaction, and returns the error for the claim to answer once that transaction committed.
 * Nothing was handed out by this claim. If no earlier claim did either (`maybe_applied` 0), nothing
 * can have been applied: the rotation is `failed` with SK_ERR_ROTATION_STRATEGY_UNSUPPORTED and
 * its pending version discarded. If an earlier claim may have applied it, the vault does not
 * discard the pending value on its own: the rotation is `stuck` for an operator to resolve. No
 * retry is scheduled — it would be refused the same way until the strategy changes.
 *
 * The same ending serves a claim whose agent's grant on the admin secret leaves out a connection
 * field (SK_ERR_NO_GRANT, `provenFailure`): nothing was handed out and the live credential is
 * untouched, so a `failed` rotate job counts as a proven failure of the policy (afterFailure: the
 * failure count, a retry with backoff, `policy.failing` at the limit) — a grant can be widened
 * without touching the policy.
 */
async function refuseClaim(ctx: VaultContext, trx: Tx, audit: AuditFn, machine: Caller, row: RotationRow, secret: SecretRef, why: string,
  opts: { code: 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED' | 'SK_ERR_NO_GRANT'; provenFailure?: boolean } = { code: 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED' }): Promise<SikkerKeyError> {
  const now = ctx.now();
  const code = opts.code;
  const target = `secret:${secret.project.name}/${secret.name}`;
  const state = row.maybe_applied === 1 ? 'stuck' as const : 'failed' as const;
  // The refused claim was this job's next attempt; not retried (the same refusal would follow)
  // unless it is a proven failure of a rotate job, which counts against the policy's budget.
  const attempt = row.attempt + 1;
  if (state === 'failed') {
    if (row.pending_version_id) await trx.updateTable('secret_versions').set({ state: 'discarded' }).where('id', '=', row.pending_version_id).execute();
    await trx.updateTable('rotations').set({ state, finished_at: now, lease_until: null, claimed_by: null, error: why, error_code: code, ...failureColumns(now, { attempt, maxAttempts: attempt }) }).where('id', '=', row.id).execute();
    if (opts.provenFailure && row.policy_id && row.kind === 'rotate') {
      const budget = await afterFailure(ctx, trx, audit, await policyOf(trx, row), target, secret.project.id, now);
      await trx.updateTable('rotations').set(failureColumns(now, budget)).where('id', '=', row.id).execute();
    }
  } else {
    await trx.updateTable('rotations').set({ state, lease_until: null, error: why, error_code: code, ...failureColumns(now, { attempt, maxAttempts: attempt }) }).where('id', '=', row.id).execute();
  }
  await audit({
    action: state === 'failed' ? 'rotation.failed' : 'rotation.stuck', projectId: secret.project.id, target, outcome: 'failure',
    details: { rotationId: row.id, code, message: why, refusedAtClaim: true, attempt: row.attempt },
  }, machine);
  ctx.metrics.rotations.inc({ kind: row.kind, result: state });
  ctx.log.warn({ rotationId: row.id, secret: target, code }, `rotation ${state} at claim: ${why}`);
  afterCommit(trx, () => rotationEvents.emit('finished', row.id, finished(secret)));
  return new SikkerKeyError(code, `${why} (rotation ${row.id} is ${state})`, { details: { rotationId: row.id, state } });
}

export async function heartbeatRotation(ctx: VaultContext, machine: Caller, id: string, fence: number): Promise<{ leaseSeconds: number }> {
  return writeTx(ctx, async (trx) => {
    const row = await lockRotation(ctx, trx, id);
    assertFence(row, fence);
    if (row.state !== 'claimed' && row.state !== 'applied') throw new SikkerKeyError('SK_ERR_ROTATION_STATE', `rotation is ${row.state}`);
    if (row.claimed_by !== machine.id) throw new SikkerKeyError('SK_ERR_ROTATION_FENCED', 'another machine holds this rotation');
    await trx.updateTable('rotations').set({ lease_until: ctx.now() + ctx.rotationLeaseSeconds * 1000 }).where('id', '=', id).execute();
    return { leaseSeconds: ctx.rotationLeaseSeconds };
  });
}

async function ownedRow(ctx: VaultContext, trx: Tx, machine: Caller, id: string, fence: number): Promise<RotationRow> {
  const row = await lockRotation(ctx, trx, id);
  assertFence(row, fence);
  if (row.claimed_by !== machine.id) throw new SikkerKeyError('SK_ERR_ROTATION_FENCED', 'another machine holds this rotation');
  return row;
}

export async function reportApplied(ctx: VaultContext, machine: Caller, id: string, fence: number): Promise<RotationStepResponse> {
  return writeTx(ctx, async (trx, audit) => {
    const row = await ownedRow(ctx, trx, machine, id, fence);
    if (row.state === 'applied') return { id, state: 'applied' };
    if (row.state !== 'claimed') throw new SikkerKeyError('SK_ERR_ROTATION_STATE', `rotation is ${row.state}; applied is reported only while claimed`);
    await trx.updateTable('rotations').set({ state: 'applied', applied_at: ctx.now() }).where('id', '=', id).execute();
    afterCommit(trx, () => rotationEvents.emit('state', id));
    const secret = await secretById(trx, row.secret_id);
    await audit({ action: 'rotation.applied', projectId: secret.project.id, target: `secret:${secret.project.name}/${secret.name}`, outcome: 'success', details: { rotationId: id, fence } }, machine);
    return { id, state: 'applied' };
  });
}

/**
 * Promotes in one transaction: pending → live, old live → previous, rotation → promoted, audit
 * event. A retire job's confirm ends it `retired` (the old password is gone). Idempotent: a retried confirm with the same fence is answered the same. Recorded even
 * when the project is locked, so no credential the database already holds is stranded.
 */
export async function confirmRotation(ctx: VaultContext, machine: Caller, id: string, fence: number, steps?: readonly AgentStepTiming[]): Promise<RotationStepResponse> {
  return writeTx(ctx, async (trx, audit) => {
    const row = await lockRotation(ctx, trx, id);
    const succeeded = SUCCEEDED_STATE[row.kind];
    if (row.state === succeeded && row.fence === fence) {
      const v = await trx.selectFrom('secret_versions').select('version').where('id', '=', row.pending_version_id ?? '').executeTakeFirst();
      return { id, state: succeeded, ...(v ? { version: v.version } : {}) };
    }
    assertFence(row, fence);
    if (row.claimed_by !== machine.id) throw new SikkerKeyError('SK_ERR_ROTATION_FENCED', 'another machine holds this rotation');
    if (row.state !== 'claimed' && row.state !== 'applied') throw new SikkerKeyError('SK_ERR_ROTATION_STATE', `rotation is ${row.state}; it cannot be confirmed`);
    if (row.kind === 'preflight') throw new SikkerKeyError('SK_ERR_ROTATION_STATE', 'a preflight reports its result (POST …/preflight), it is not confirmed');
    const secret = await secretById(trx, row.secret_id);
    const now = ctx.now();
    let version: number | undefined;
    if (row.kind === 'rotate') {
      await lockSecret(ctx, trx, secret.id);
      const pending = await trx.selectFrom('secret_versions').select(['id', 'version', 'state']).where('id', '=', row.pending_version_id ?? '').executeTakeFirstOrThrow();
      await demoteLive(trx, secret.id);
      await trx.updateTable('secret_versions').set({ state: 'live', promoted_at: now }).where('id', '=', pending.id).execute();
      await trx.updateTable('secrets').set({ current_version: pending.version }).where('id', '=', secret.id).execute();
      version = pending.version;
    }
    await trx.updateTable('rotations').set({
      state: succeeded, finished_at: now, lease_until: null, error: null, error_code: null, ...failureColumns(null),
      step_reports: appendReport(row, { result: succeeded, reportedAt: now, steps }),
    }).where('id', '=', id).execute();
    if (row.policy_id && row.kind === 'rotate') {
      const policy = await policyOf(trx, row);
      if (policy.strategy === 'dual') {
        // The old password still works beside the new one; it is removed once the grace period
        // has passed, by a job created here, in the promotion's own transaction.
        const previous = await trx.selectFrom('secret_versions').select('id').where('secret_id', '=', secret.id).where('state', '=', 'previous').executeTakeFirst();
        if (previous) {
          await createRotation(ctx, trx, { policy, trigger: 'promotion', kind: 'retire', notBefore: now + policy.grace_ms, details: { retireVersionId: previous.id, after: id } }, audit);
        }
      }
      await trx.updateTable('rotation_policies').set({ consecutive_failures: 0, failing: 0, updated_at: now }).where('id', '=', row.policy_id).execute();
      await driftAfterPromotion(trx, audit, machine, policy, secret, id, now);
      if (policy.failing === 1) {
        await audit({ action: 'policy.recovered', projectId: secret.project.id, target: `secret:${secret.project.name}/${secret.name}`, outcome: 'success', details: { policyId: policy.id } }, machine);
      }
    }
    await audit({
      action: row.kind === 'rotate' ? 'rotation.succeeded' : `rotation.${row.kind}_succeeded`, projectId: secret.project.id,
      target: `secret:${secret.project.name}/${secret.name}`, outcome: 'success',
      details: { rotationId: id, fence, ...(version !== undefined ? { version } : {}), latencyMs: now - row.created_at },
    }, machine);
    ctx.metrics.rotations.inc({ kind: row.kind, result: succeeded });
    afterCommit(trx, () => rotationEvents.emit('finished', id, finished(secret)));
    return { id, state: succeeded, ...(version !== undefined ? { version } : {}) };
  });
}

/**
 * An agent's failure report. Only proof that the live credential works (`liveVerified`) lets the
 * vault give up on the pending value (kept as `discarded`). Without that proof the rotation goes
 * back to pending with backoff, and after a bounded number of attempts — or when the agent found
 * that neither credential logs in — it is `stuck` for an operator to resolve. `undoRefused` (the
 * database refused to undo a dual apply) is `stuck` too, and marks the policy failing: the live
 * password survives only as the retained one, and another dual apply would drop it. The decision
 * itself is `failOutcome` (rotation-rules.ts).
 */
export async function failRotation(ctx: VaultContext, machine: Caller, id: string, body: FailBody): Promise<RotationStepResponse> {
  return writeTx(ctx, async (trx, audit) => {
    const row = await ownedRow(ctx, trx, machine, id, body.fence);
    if (row.state !== 'claimed' && row.state !== 'applied') throw new SikkerKeyError('SK_ERR_ROTATION_STATE', `rotation is ${row.state}; it cannot fail now`);
    const secret = await secretById(trx, row.secret_id);
    const now = ctx.now();
    const code = isErrorCode(body.code) ? body.code : 'SK_ERR_PROVIDER_FAILED';
    const message = body.message.slice(0, 1000);
    const target = `secret:${secret.project.name}/${secret.name}`;
    const state = failOutcome(row, body);
    const step_reports = appendReport(row, { result: state === 'pending' ? 'retry' : state, reportedAt: now, steps: body.steps });
    let notBefore: number | null = null;
    if (state === 'failed') {
      if (row.pending_version_id) await trx.updateTable('secret_versions').set({ state: 'discarded' }).where('id', '=', row.pending_version_id).execute();
      // A proven failure ends this job; the policy's budget of consecutive failures decides whether
      // another job retries it. Any other job that fails here is not retried.
      await trx.updateTable('rotations').set({ state, finished_at: now, lease_until: null, error: message, error_code: code, step_reports, ...failureColumns(now, { attempt: row.attempt, maxAttempts: row.attempt }) }).where('id', '=', id).execute();
      if (row.policy_id && row.kind === 'rotate') {
        const budget = await afterFailure(ctx, trx, audit, await policyOf(trx, row), target, secret.project.id, now);
        await trx.updateTable('rotations').set(failureColumns(now, budget)).where('id', '=', id).execute();
      }
    } else if (state === 'stuck') {
      // No agent retries a stuck job: its budget ends with this attempt.
      await trx.updateTable('rotations').set({ state, lease_until: null, error: message, error_code: code, step_reports, ...failureColumns(now, { attempt: row.attempt, maxAttempts: row.attempt }) }).where('id', '=', id).execute();
    } else {
      notBefore = now + retryDelayMs(row.attempt);
      await trx.updateTable('rotations').set({
        state, lease_until: null, claimed_by: null, error: message, error_code: code, not_before: notBefore, step_reports,
        ...failureColumns(now, { attempt: row.attempt, maxAttempts: MAX_UNPROVEN_ATTEMPTS }),
      }).where('id', '=', id).execute();
    }
    await audit({
      action: state === 'failed' ? 'rotation.failed' : state === 'stuck' ? 'rotation.stuck' : 'rotation.retry',
      projectId: secret.project.id, target, outcome: 'failure',
      details: { rotationId: id, fence: body.fence, code, message, liveVerified: body.liveVerified, attempt: row.attempt, ...(body.undoRefused ? { undoRefused: true } : {}), ...(body.untouched ? { untouched: true } : {}) },
    }, machine);
    if (state === 'stuck' && body.undoRefused === true && row.policy_id) {
      await markFailing(ctx, trx, audit, await policyOf(trx, row), target, secret.project.id, now, { reason: 'undo refused', rotationId: id, code });
    }
    ctx.metrics.rotations.inc({ kind: row.kind, result: state });
    if (state === 'stuck') {
      ctx.log.error({ rotationId: id, secret: target, code }, body.undoRefused
        ? 'rotation stuck: the database refused to undo a dual apply (the live password works only as the retained one); the policy is failing; resolve with `sikkerkey rotation resolve`'
        : 'rotation stuck: neither credential proven; resolve with `sikkerkey rotation resolve`');
    }
    if (state === 'pending') {
      const policy = row.policy_id ? await policyOf(trx, row) : null;
      const work: WorkEvent = { rotationId: id, agentMachineId: policy?.agent_machine_id ?? null, agentLabel: policy?.agent_label ?? null, notBefore };
      afterCommit(trx, () => rotationEvents.emit('work', work));
    } else {
      afterCommit(trx, () => rotationEvents.emit('finished', id, finished(secret)));
    }
    return { id, state };
  });
}

/**
 * An operator ends a stuck (or otherwise unfinished) rotation after looking at the database:
 * `pending` promotes the pending credential, `live` keeps the live one and discards the pending.
 */
export async function resolveRotation(ctx: VaultContext, caller: Caller, secretId: string, use: 'pending' | 'live'): Promise<RotationStepResponse> {
  return writeTx(ctx, async (trx, audit) => {
    const open = await forUpdate(ctx.store.dialect, trx.selectFrom('rotations').selectAll().where('secret_id', '=', secretId).where('state', 'in', UNFINISHED)).executeTakeFirst();
    if (!open) throw new SikkerKeyError('SK_ERR_NOT_FOUND', 'that secret has no unfinished rotation to resolve');
    const secret = await secretById(trx, secretId);
    const now = ctx.now();
    let version: number | undefined;
    await lockSecret(ctx, trx, secretId);
    if (use === 'pending' && open.pending_version_id) {
      const pending = await trx.selectFrom('secret_versions').select(['id', 'version']).where('id', '=', open.pending_version_id).executeTakeFirstOrThrow();
      await demoteLive(trx, secretId);
      await trx.updateTable('secret_versions').set({ state: 'live', promoted_at: now }).where('id', '=', pending.id).execute();
      await trx.updateTable('secrets').set({ current_version: pending.version }).where('id', '=', secretId).execute();
      version = pending.version;
      await trx.updateTable('rotations').set({ state: 'promoted', finished_at: now, lease_until: null }).where('id', '=', open.id).execute();
    } else {
      if (open.pending_version_id) await trx.updateTable('secret_versions').set({ state: 'discarded' }).where('id', '=', open.pending_version_id).execute();
      const attempt = open.error_attempt ?? open.attempt;
      await trx.updateTable('rotations').set({
        state: 'failed', finished_at: now, lease_until: null, error: open.error ?? 'resolved by an operator: live kept', error_code: open.error_code ?? 'SK_ERR_ROTATION_STATE',
        ...failureColumns(open.error_at ?? now, { attempt, maxAttempts: attempt }),
      }).where('id', '=', open.id).execute();
    }
    await audit({ action: 'rotation.resolved', projectId: secret.project.id, target: `secret:${secret.project.name}/${secret.name}`, outcome: 'success', details: { rotationId: open.id, use, from: open.state } }, caller);
    afterCommit(trx, () => rotationEvents.emit('finished', open.id, finished(secret)));
    return { id: open.id, state: use === 'pending' && open.pending_version_id ? 'promoted' : 'failed', ...(version !== undefined ? { version } : {}) };
  });
}

/**
 * Ends a secret's unfinished job for `rotation delete --force`, the way `createRotation` ends a
 * superseded preflight: `cancelled`. Only a job no agent ever claimed (`pending`, `maybe_applied`
 * 0) can end so: nothing was handed out, so no database can hold its pending password, which is
 * kept as `discarded`. Anything else is refused with SK_ERR_ROTATION_IN_PROGRESS, force or not: a
 * claimed job may have changed the database and only the agent's report or an operator's
 * `rotation resolve` may end it; a retire job, cancelled, would leave the old password working.
 * Returns undefined when the secret has no unfinished job.
 */
export async function cancelUnclaimed(ctx: VaultContext, trx: Tx, secretId: string, why: string): Promise<{ id: string; kind: RotationKind } | undefined> {
  const open = await forUpdate(ctx.store.dialect, trx.selectFrom('rotations').selectAll().where('secret_id', '=', secretId).where('state', 'in', UNFINISHED)).executeTakeFirst();
  if (!open) return undefined;
  if (open.state !== 'pending' || open.maybe_applied === 1 || open.kind === 'retire') {
    const reason = open.kind === 'retire'
      ? 'a retire job removes the old password: let it finish, or end it with `rotation resolve`'
      : 'an agent claimed it, so the database may hold its pending password: let it finish, or end it with `rotation resolve`';
    throw new SikkerKeyError('SK_ERR_ROTATION_IN_PROGRESS', `the unfinished ${open.kind} job ${open.id} (${open.state}) cannot be cancelled: ${reason}`,
      { details: { rotationId: open.id, state: open.state, kind: open.kind } });
  }
  const secret = await secretById(trx, secretId);
  if (open.pending_version_id) await trx.updateTable('secret_versions').set({ state: 'discarded' }).where('id', '=', open.pending_version_id).execute();
  await trx.updateTable('rotations').set({ state: 'cancelled', finished_at: ctx.now(), lease_until: null, error: why }).where('id', '=', open.id).execute();
  ctx.metrics.rotations.inc({ kind: open.kind, result: 'cancelled' });
  afterCommit(trx, () => rotationEvents.emit('finished', open.id, finished(secret)));
  return { id: open.id, kind: open.kind };
}

/**
 * What a machine's grants let it read of an admin secret: nothing, all of it (a project or
 * whole-secret grant), or the union of its field grants' fields.
 */
export async function adminGrantOf(trx: Tx, machineId: string, adminSecret: { id: string; project: { id: string } }): Promise<'none' | 'all' | Set<string>> {
  const grants = await trx.selectFrom('grants').select('fields').where('machine_id', '=', machineId).where('project_id', '=', adminSecret.project.id)
    .where((eb) => eb.or([eb('secret_id', 'is', null), eb('secret_id', '=', adminSecret.id)])).execute();
  if (grants.length === 0) return 'none';
  const out = new Set<string>();
  for (const g of grants) {
    if (g.fields === null) return 'all';
    for (const f of JSON.parse(g.fields) as string[]) out.add(f);
  }
  return out;
}

/** The connection fields (protocol/engines.ts) the admin secret holds that `allowed` leaves out. */
export function missingConnectionFields(engine: Engine, adminFields: Record<string, string>, allowed: 'all' | Set<string>): string[] {
  if (allowed === 'all') return [];
  return connectionFieldsOf(engine).filter((f) => Object.hasOwn(adminFields, f) && !allowed.has(f));
}

export function noFieldGrantMessage(machine: string, adminSecret: { name: string; project: { name: string } }, missing: readonly string[]): string {
  return `the agent ${machine}'s grant on the admin secret ${adminSecret.project.name}/${adminSecret.name} leaves out the connection field${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: `
    + `grant them (sikkerkey grant add ${machine} --project ${adminSecret.project.name} --secret ${adminSecret.name} --fields …) or grant the whole secret`;
}

/** Consecutive proven failures after which a policy is marked failing and stops retrying early. */
export const MAX_CONSECUTIVE_FAILURES = 3;

type AuditFn = Parameters<Parameters<typeof writeTx>[1]>[1];

/**
 * After a proven failure (live still works): count it; below the limit, schedule a retry with
 * exponential backoff and jitter; at the limit, mark the policy failing once (`policy.failing`)
 * and leave the next attempt to the schedule (or an operator's `rotation run`).
 */
async function afterFailure(ctx: VaultContext, trx: Tx, audit: AuditFn, policy: PolicyRow, target: string, projectId: string, now: number): Promise<FailureBudget> {
  const failures = policy.consecutive_failures + 1;
  const budget = { attempt: failures, maxAttempts: MAX_CONSECUTIVE_FAILURES };
  await trx.updateTable('rotation_policies').set({ consecutive_failures: failures, updated_at: now }).where('id', '=', policy.id).execute();
  if (failures >= MAX_CONSECUTIVE_FAILURES) {
    await markFailing(ctx, trx, audit, policy, target, projectId, now, { consecutiveFailures: failures });
    return budget;
  }
  if (policy.enabled === 1) {
    await createRotation(ctx, trx, { policy, trigger: 'retry', notBefore: now + retryDelayMs(failures) }, audit);
  }
  return budget;
}

/**
 * Which attempt a failure was and the retry budget then in force (`rotation status` → `lastError`):
 * for a proven failure of a rotate job the policy's consecutive failures out of
 * `MAX_CONSECUTIVE_FAILURES`; for an unproven one the job's own attempts out of
 * `MAX_UNPROVEN_ATTEMPTS`; `attempt === maxAttempts` when nothing retries it.
 */
interface FailureBudget { attempt: number; maxAttempts: number }

/** The `error_at` / `error_attempt` / `error_max_attempts` columns of a failure (or cleared, `at` null). */
function failureColumns(at: number | null, budget?: FailureBudget): { error_at: number | null; error_attempt: number | null; error_max_attempts: number | null } {
  if (at === null || budget === undefined) return { error_at: null, error_attempt: null, error_max_attempts: null };
  return { error_at: at, error_attempt: budget.attempt, error_max_attempts: budget.maxAttempts };
}

/**
 * Marks a policy failing, with one `policy.failing` event when it was not failing already. A
 * successful rotation (`confirm`) clears it again (`policy.recovered`).
 */
async function markFailing(ctx: VaultContext, trx: Tx, audit: AuditFn, policy: PolicyRow, target: string, projectId: string, now: number, details: Record<string, unknown>): Promise<void> {
  if (policy.failing === 1) return;
  await trx.updateTable('rotation_policies').set({ failing: 1, updated_at: now }).where('id', '=', policy.id).execute();
  await audit({ action: 'policy.failing', actorKind: 'system', actorId: null, projectId, target, outcome: 'failure', details: { policyId: policy.id, ...details } });
  ctx.metrics.rotations.inc({ kind: 'policy', result: 'failing' });
  ctx.log.error({ secret: target, ...details }, 'policy.failing: rotations of this secret keep failing or need an operator; the live credential stays in use');
}

/**
 * The agent's answer to a preflight job: passed, or the problems in words an operator can act on.
 * What the server turned out to be (`flavour`, `serverVersion`) is stored on the policy, and
 * protocol/engines.ts decides whether that flavour runs the policy's strategy: if not, the
 * preflight fails with the table's refusal among its problems (SK_ERR_ROTATION_STRATEGY_UNSUPPORTED
 * when that is its only problem, SK_ERR_PROVIDER_PRIVILEGE when the agent found others too).
 * A report without a flavour (the admin could not even connect) leaves the stored one as it was.
 */
export async function preflightResult(ctx: VaultContext, machine: Caller, id: string, body: PreflightResultBody): Promise<RotationStepResponse> {
  return writeTx(ctx, async (trx, audit) => {
    const row = await ownedRow(ctx, trx, machine, id, body.fence);
    if (row.kind !== 'preflight') throw new SikkerKeyError('SK_ERR_ROTATION_STATE', 'this job is not a preflight');
    if (row.state !== 'claimed') throw new SikkerKeyError('SK_ERR_ROTATION_STATE', `preflight is ${row.state}`);
    const secret = await secretById(trx, row.secret_id);
    const now = ctx.now();
    const agentProblems = body.ok ? [] : body.problems;
    const vaultProblems: string[] = [];
    let strategyRefusal: string | undefined;
    if (row.policy_id) {
      const policy = await policyOf(trx, row);
      const engine = policy.provider as Engine;
      const flavour: Flavour | null = body.flavour !== undefined && isFlavour(body.flavour) ? body.flavour : null;
      if (flavour !== null && flavourSpec(flavour).engine !== engine) {
        vaultProblems.push(`the agent found a ${flavourSpec(flavour).label} server, which provider ${engine} does not speak to: check the secret's host and port, or --provider`);
      } else if (flavour !== null) {
        const version = body.serverVersion ?? null;
        await trx.updateTable('rotation_policies').set({ flavour, server_version: version, updated_at: now }).where('id', '=', policy.id).execute();
        const why = refusal({ engine, flavour, version }, policy.strategy);
        strategyRefusal = why;
        // The agent reads the same table and may have said so already (perhaps prefixed with the
        // server version): a problem that contains the refusal is that refusal, listed once.
        if (why !== undefined && !agentProblems.some((p) => p.includes(why))) vaultProblems.push(why);
      }
    }
    const problems = [...agentProblems, ...vaultProblems];
    const ok = body.ok && problems.length === 0;
    const refused = strategyRefusal;
    const onlyStrategy = refused !== undefined && problems.every((p) => p.includes(refused));
    const state = ok ? SUCCEEDED_STATE.preflight : 'failed';
    const message = problems.join('; ').slice(0, 2000);
    await trx.updateTable('rotations').set({
      state, finished_at: now, lease_until: null, error: ok ? null : message, step_reports: appendReport(row, { result: state, reportedAt: now }),
      error_code: ok ? null : onlyStrategy ? 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED' : 'SK_ERR_PROVIDER_PRIVILEGE',
      // a preflight is not retried: the next `rotation set` creates another
      ...failureColumns(ok ? null : now, { attempt: row.attempt, maxAttempts: row.attempt }),
    }).where('id', '=', id).execute();
    await audit({
      action: ok ? 'rotation.preflight_passed' : 'rotation.preflight_failed', projectId: secret.project.id,
      target: `secret:${secret.project.name}/${secret.name}`, outcome: ok ? 'success' : 'failure',
      details: { rotationId: id, problems, ...(body.flavour !== undefined ? { flavour: body.flavour } : {}), ...(body.serverVersion !== undefined ? { serverVersion: body.serverVersion } : {}) },
    }, machine);
    ctx.metrics.rotations.inc({ kind: 'preflight', result: state });
    afterCommit(trx, () => rotationEvents.emit('finished', id, finished(secret)));
    return { id, state };
  });
}

export interface JobView {
  id: string; kind: RotationKind; state: string; project: string; secret: string; attempt: number;
  error: string | null; errorCode: string | null; createdAt: number; finishedAt: number | null; latencyMs: number | null;
  /** The job's steps, vault and agent (rotation-timeline.ts; TimelineEntry in protocol/api-types.ts). */
  timeline: TimelineEntry[];
}

export async function jobStatus(ctx: VaultContext, id: string): Promise<JobView> {
  const r = await ctx.store.db.selectFrom('rotations').innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
    .innerJoin('projects', 'projects.id', 'secrets.project_id')
    .select(['rotations.id as id', 'rotations.kind as kind', 'rotations.state as state', 'projects.name as project', 'secrets.name as secret',
      'rotations.attempt as attempt', 'rotations.error as error', 'rotations.error_code as errorCode', 'rotations.created_at as createdAt',
      'rotations.finished_at as finishedAt', 'rotations.claimed_at as claimed_at', 'rotations.applied_at as applied_at', 'rotations.step_reports as step_reports'])
    .where('rotations.id', '=', id).executeTakeFirst();
  if (!r) throw new SikkerKeyError('SK_ERR_NOT_FOUND', 'no such rotation job');
  const { claimed_at, applied_at, step_reports, ...view } = r;
  return {
    ...view, latencyMs: r.state === SUCCEEDED_STATE[r.kind] && r.finishedAt ? r.finishedAt - r.createdAt : null,
    timeline: buildTimeline({ state: r.state, attempt: r.attempt, created_at: r.createdAt, claimed_at, applied_at, finished_at: r.finishedAt, step_reports }),
  };
}

/**
 * `dual` and `alternating` overlap two credentials for the policy's grace period after each
 * promotion; the next rotation of the secret waits until that period has passed, so an
 * application still switching never sees its credential change twice.
 */
async function graceEndsAt(trx: Tx, policy: PolicyRow): Promise<number> {
  if (policy.strategy === 'single' || policy.grace_ms <= 0) return 0;
  const last = await trx.selectFrom('rotations').select('finished_at').where('secret_id', '=', policy.secret_id)
    .where('kind', '=', 'rotate').where('state', '=', 'promoted').orderBy('finished_at', 'desc').limit(1).executeTakeFirst();
  return last?.finished_at ? last.finished_at + policy.grace_ms : 0;
}

/** The user a rotation changes: under `alternating` the one that is not live, else the same. */
export function nextUsername(policy: Pick<PolicyRow, 'strategy' | 'primary_username' | 'alternate_username'>, liveUsername: string): string {
  if (policy.strategy !== 'alternating') return liveUsername;
  const primary = policy.primary_username;
  const alternate = policy.alternate_username;
  if (!primary || !alternate) throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', 'an alternating policy needs both users (--alternate-username)');
  if (liveUsername === primary) return alternate;
  if (liveUsername === alternate) return primary;
  throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', `the live username ${JSON.stringify(liveUsername)} is neither of the policy's two users`);
}
