import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { isErrorCode } from '../../../protocol/errors.js';
import type { ClaimResponse, Engine, FailBody, RotationKind, RotationStepResponse, Strategy } from '../../../protocol/api-types.js';
import type { Caller } from '../../http/authenticate.js';
import { afterCommit, writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import type { Row, SecretVersionState } from '../../store/database.js';
import { UNFINISHED_ROTATION_STATES } from '../../store/database.js';
import { forShare, forUpdate, isUniqueViolation } from '../../store/locks.js';
import { decodeSecretPlaintext, decryptVersion, demoteLive, insertVersion, lockSecret } from '../secrets/secrets-service.js';
import type { ProjectRow } from '../projects/projects-service.js';
import { generatePassword, parsePasswordPolicy } from './password-generator.js';
import { MAX_UNPROVEN_ATTEMPTS, assertDatabaseFields, retryDelayMs } from './rotation-rules.js';

/**
 * The vault's half of the rotation state machine (DESIGN §6):
 *
 *   pending ─claim─► claimed ─applied─► applied ─confirm─► promoted
 *      ▲                │                  │
 *      └── unproven failure / lease lost: back to pending (maybe_applied stays true)
 *   failed ◄── fail with liveVerified (pending kept as `discarded`)
 *   stuck  ◄── neither credential works; an operator resolves it
 *
 * Every transition is one transaction with its audit event. The vault never discards a claimed
 * pending value on its own: only an agent's proof that live works, or an operator, ends it.
 */

/** Wakes long-polls in this process when work appears (other replicas re-check every second). */
export const rotationEvents = new EventEmitter();
rotationEvents.setMaxListeners(0);

const UNFINISHED = [...UNFINISHED_ROTATION_STATES];

type PolicyRow = Row<'rotation_policies'>;
type RotationRow = Row<'rotations'>;

interface SecretRef { id: string; name: string; kind: string; project: ProjectRow }

async function secretById(trx: Tx, id: string): Promise<SecretRef> {
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
  policy: PolicyRow; trigger: 'manual' | 'schedule' | 'retry' | 'promotion'; actor?: Caller; kind?: RotationKind; notBefore?: number | null;
  details?: Record<string, unknown>;
}, audit: (e: { action: string; projectId?: string | null; target: string; outcome: 'success' | 'failure' | 'denied'; details?: Record<string, unknown> }, caller?: Caller) => Promise<void>): Promise<{ id: string }> {
  const kind = req.kind ?? 'rotate';
  const secret = await secretById(trx, req.policy.secret_id);
  // Checked first: on PostgreSQL a unique violation aborts the whole transaction, so the index is
  // the safety net for a race, not the way to find the running job.
  const running = await trx.selectFrom('rotations').select(['id', 'state', 'kind']).where('secret_id', '=', secret.id)
    .where('state', 'in', UNFINISHED).executeTakeFirst();
  if (running && running.kind === 'preflight' && running.state === 'pending' && kind === 'rotate') {
    // An unclaimed preflight is superseded: the rotation exercises the same privileges and fails
    // with the same actionable error if they are missing.
    await trx.updateTable('rotations').set({ state: 'cancelled', finished_at: ctx.now(), error: 'superseded by a rotation' }).where('id', '=', running.id).execute();
  } else if (running) {
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
  afterCommit(trx, () => rotationEvents.emit('work'));
  return { id };
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

async function machineLabels(trx: Tx, machineId: string): Promise<string[]> {
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
 */
export async function claimRotation(ctx: VaultContext, machine: Caller, id: string): Promise<ClaimResponse> {
  return writeTx(ctx, async (trx, audit) => {
    const row = await lockRotation(ctx, trx, id);
    const policy = await policyOf(trx, row);
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
    // Shared lock on the project row, in the same order as reads take it (project before audit head).
    const project = await forShare(ctx.store.dialect, trx.selectFrom('projects').select(['locked_at']).where('id', '=', secret.project.id)).executeTakeFirstOrThrow();
    if (project.locked_at !== null) throw new SikkerKeyError('SK_ERR_PROJECT_LOCKED', `project ${secret.project.name} is locked; no new rotation claims until an operator unlocks it`);

    const adminSecret = await secretById(trx, policy.admin_secret_id);
    const adminGrant = await trx.selectFrom('grants').select('id').where('machine_id', '=', machine.id).where('project_id', '=', adminSecret.project.id)
      .where((eb) => eb.or([eb('secret_id', 'is', null), eb('secret_id', '=', adminSecret.id)])).executeTakeFirst();
    if (!adminGrant) {
      throw new SikkerKeyError('SK_ERR_NO_GRANT', `the agent holds no grant on the admin secret ${adminSecret.project.name}/${adminSecret.name}: sikkerkey grant add ${machine.name} --project ${adminSecret.project.name} --secret ${adminSecret.name}`);
    }
    const admin = await secretFields(ctx, trx, adminSecret);
    const live = await secretFields(ctx, trx, secret);
    const pending = row.pending_version_id ? await secretFields(ctx, trx, secret, { id: row.pending_version_id }) : null;

    const fence = row.fence + 1;
    const wasMaybeApplied = row.maybe_applied === 1;
    await trx.updateTable('rotations').set({
      state: 'claimed', fence, attempt: row.attempt + 1, claimed_by: machine.id, claimed_at: now,
      lease_until: now + ctx.rotationLeaseSeconds * 1000, maybe_applied: row.kind === 'rotate' ? 1 : row.maybe_applied,
    }).where('id', '=', id).execute();
    await audit({ action: 'rotation.claimed', projectId: secret.project.id, target: `secret:${secret.project.name}/${secret.name}`, outcome: 'success', details: { rotationId: id, fence, attempt: row.attempt + 1, reclaimed: wasMaybeApplied } }, machine);

    const retirePassword = row.kind === 'retire' ? (JSON.parse(row.details ?? '{}') as { retireVersionId?: string }).retireVersionId ?? null : null;
    return {
      id, kind: row.kind, project: secret.project.name, secret: secret.name,
      engine: policy.provider as Engine, strategy: policy.strategy as Strategy,
      fence, leaseSeconds: ctx.rotationLeaseSeconds, attempt: row.attempt + 1, maybeApplied: wasMaybeApplied,
      username: (pending?.fields ?? live.fields).username ?? '',
      pendingPassword: pending?.fields.password ?? null,
      livePassword: live.fields.password ?? '',
      target: live.fields, admin: admin.fields,
      usernames: [...new Set([live.fields.username ?? '', ...(policy.strategy === 'alternating' ? [policy.primary_username ?? '', policy.alternate_username ?? ''] : [])])].filter(Boolean),
      retirePassword: retirePassword ? (await secretFields(ctx, trx, secret, { id: retirePassword })).fields.password ?? null : null,
    };
  });
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
    const secret = await secretById(trx, row.secret_id);
    await audit({ action: 'rotation.applied', projectId: secret.project.id, target: `secret:${secret.project.name}/${secret.name}`, outcome: 'success', details: { rotationId: id, fence } }, machine);
    return { id, state: 'applied' };
  });
}

/**
 * Promotes in one transaction: pending → live, old live → previous, rotation → promoted, audit
 * event. Idempotent: a retried confirm with the same fence is answered the same. Recorded even
 * when the project is locked, so no credential the database already holds is stranded.
 */
export async function confirmRotation(ctx: VaultContext, machine: Caller, id: string, fence: number): Promise<RotationStepResponse> {
  return writeTx(ctx, async (trx, audit) => {
    const row = await lockRotation(ctx, trx, id);
    if (row.state === 'promoted' && row.fence === fence) {
      const v = await trx.selectFrom('secret_versions').select('version').where('id', '=', row.pending_version_id ?? '').executeTakeFirst();
      return { id, state: 'promoted', ...(v ? { version: v.version } : {}) };
    }
    assertFence(row, fence);
    if (row.claimed_by !== machine.id) throw new SikkerKeyError('SK_ERR_ROTATION_FENCED', 'another machine holds this rotation');
    if (row.state !== 'claimed' && row.state !== 'applied') throw new SikkerKeyError('SK_ERR_ROTATION_STATE', `rotation is ${row.state}; it cannot be confirmed`);
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
    await trx.updateTable('rotations').set({ state: 'promoted', finished_at: now, lease_until: null, error: null, error_code: null }).where('id', '=', id).execute();
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
      if (policy.failing === 1) {
        await audit({ action: 'policy.recovered', projectId: secret.project.id, target: `secret:${secret.project.name}/${secret.name}`, outcome: 'success', details: { policyId: policy.id } }, machine);
      }
    }
    await audit({
      action: row.kind === 'rotate' ? 'rotation.succeeded' : `rotation.${row.kind}_succeeded`, projectId: secret.project.id,
      target: `secret:${secret.project.name}/${secret.name}`, outcome: 'success',
      details: { rotationId: id, fence, ...(version !== undefined ? { version } : {}), latencyMs: now - row.created_at },
    }, machine);
    ctx.metrics.rotations.inc({ kind: row.kind, result: 'promoted' });
    afterCommit(trx, () => rotationEvents.emit('finished', id));
    return { id, state: 'promoted', ...(version !== undefined ? { version } : {}) };
  });
}

/**
 * An agent's failure report. Only proof that the live credential works (`liveVerified`) lets the
 * vault give up on the pending value (kept as `discarded`). Without that proof the rotation goes
 * back to pending with backoff, and after a bounded number of attempts — or when the agent found
 * that neither credential logs in — it is `stuck` for an operator to resolve.
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
    let state: 'failed' | 'pending' | 'stuck';
    if ((body.liveVerified && row.kind === 'rotate') || row.kind === 'preflight') {
      state = 'failed';
      if (row.pending_version_id) await trx.updateTable('secret_versions').set({ state: 'discarded' }).where('id', '=', row.pending_version_id).execute();
      await trx.updateTable('rotations').set({ state, finished_at: now, lease_until: null, error: message, error_code: code }).where('id', '=', id).execute();
      if (row.policy_id && row.kind === 'rotate') await afterFailure(ctx, trx, audit, await policyOf(trx, row), target, secret.project.id, now);
    } else if (body.neitherWorks || row.attempt >= MAX_UNPROVEN_ATTEMPTS) {
      state = 'stuck';
      await trx.updateTable('rotations').set({ state, lease_until: null, error: message, error_code: code }).where('id', '=', id).execute();
    } else {
      state = 'pending';
      await trx.updateTable('rotations').set({ state, lease_until: null, claimed_by: null, error: message, error_code: code, not_before: now + retryDelayMs(row.attempt) }).where('id', '=', id).execute();
    }
    await audit({
      action: state === 'failed' ? 'rotation.failed' : state === 'stuck' ? 'rotation.stuck' : 'rotation.retry',
      projectId: secret.project.id, target, outcome: 'failure',
      details: { rotationId: id, fence: body.fence, code, message, liveVerified: body.liveVerified, attempt: row.attempt },
    }, machine);
    ctx.metrics.rotations.inc({ kind: row.kind, result: state });
    if (state === 'stuck') ctx.log.error({ rotationId: id, secret: target, code }, 'rotation stuck: neither credential proven; resolve with `sikkerkey rotation resolve`');
    afterCommit(trx, () => rotationEvents.emit(state === 'pending' ? 'work' : 'finished', id));
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
      await trx.updateTable('rotations').set({ state: 'failed', finished_at: now, lease_until: null, error: open.error ?? 'resolved by an operator: live kept', error_code: open.error_code ?? 'SK_ERR_ROTATION_STATE' }).where('id', '=', open.id).execute();
    }
    await audit({ action: 'rotation.resolved', projectId: secret.project.id, target: `secret:${secret.project.name}/${secret.name}`, outcome: 'success', details: { rotationId: open.id, use, from: open.state } }, caller);
    afterCommit(trx, () => rotationEvents.emit('finished', open.id));
    return { id: open.id, state: use === 'pending' && open.pending_version_id ? 'promoted' : 'failed', ...(version !== undefined ? { version } : {}) };
  });
}

/** Consecutive proven failures after which a policy is marked failing and stops retrying early. */
export const MAX_CONSECUTIVE_FAILURES = 3;

type AuditFn = Parameters<Parameters<typeof writeTx>[1]>[1];

/**
 * After a proven failure (live still works): count it; below the limit, schedule a retry with
 * exponential backoff and jitter; at the limit, mark the policy failing once (`policy.failing`)
 * and leave the next attempt to the schedule (or an operator's `rotation run`).
 */
async function afterFailure(ctx: VaultContext, trx: Tx, audit: AuditFn, policy: PolicyRow, target: string, projectId: string, now: number): Promise<void> {
  const failures = policy.consecutive_failures + 1;
  await trx.updateTable('rotation_policies').set({ consecutive_failures: failures, updated_at: now }).where('id', '=', policy.id).execute();
  if (failures >= MAX_CONSECUTIVE_FAILURES) {
    if (policy.failing === 0) {
      await trx.updateTable('rotation_policies').set({ failing: 1 }).where('id', '=', policy.id).execute();
      await audit({ action: 'policy.failing', actorKind: 'system', actorId: null, projectId, target, outcome: 'failure', details: { policyId: policy.id, consecutiveFailures: failures } });
      ctx.metrics.rotations.inc({ kind: 'policy', result: 'failing' });
      ctx.log.error({ secret: target, consecutiveFailures: failures }, 'policy.failing: rotations keep failing; the live credential stays in use');
    }
    return;
  }
  if (policy.enabled === 1) {
    await createRotation(ctx, trx, { policy, trigger: 'retry', notBefore: now + retryDelayMs(failures) }, audit);
  }
}

/** The agent's answer to a preflight job: passed, or the problems in words an operator can act on. */
export async function preflightResult(ctx: VaultContext, machine: Caller, id: string, body: { fence: number; ok: boolean; problems: string[] }): Promise<RotationStepResponse> {
  return writeTx(ctx, async (trx, audit) => {
    const row = await ownedRow(ctx, trx, machine, id, body.fence);
    if (row.kind !== 'preflight') throw new SikkerKeyError('SK_ERR_ROTATION_STATE', 'this job is not a preflight');
    if (row.state !== 'claimed') throw new SikkerKeyError('SK_ERR_ROTATION_STATE', `preflight is ${row.state}`);
    const secret = await secretById(trx, row.secret_id);
    const state = body.ok ? 'promoted' : 'failed';
    const message = body.problems.join('; ').slice(0, 2000);
    await trx.updateTable('rotations').set({
      state, finished_at: ctx.now(), lease_until: null, error: body.ok ? null : message, error_code: body.ok ? null : 'SK_ERR_PROVIDER_PRIVILEGE',
    }).where('id', '=', id).execute();
    await audit({
      action: body.ok ? 'rotation.preflight_passed' : 'rotation.preflight_failed', projectId: secret.project.id,
      target: `secret:${secret.project.name}/${secret.name}`, outcome: body.ok ? 'success' : 'failure', details: { rotationId: id, problems: body.problems },
    }, machine);
    ctx.metrics.rotations.inc({ kind: 'preflight', result: state });
    afterCommit(trx, () => rotationEvents.emit('finished', id));
    return { id, state };
  });
}

export interface JobView {
  id: string; kind: RotationKind; state: string; project: string; secret: string; attempt: number;
  error: string | null; errorCode: string | null; createdAt: number; finishedAt: number | null; latencyMs: number | null;
}

export async function jobStatus(ctx: VaultContext, id: string): Promise<JobView> {
  const r = await ctx.store.db.selectFrom('rotations').innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
    .innerJoin('projects', 'projects.id', 'secrets.project_id')
    .select(['rotations.id as id', 'rotations.kind as kind', 'rotations.state as state', 'projects.name as project', 'secrets.name as secret',
      'rotations.attempt as attempt', 'rotations.error as error', 'rotations.error_code as errorCode', 'rotations.created_at as createdAt',
      'rotations.finished_at as finishedAt'])
    .where('rotations.id', '=', id).executeTakeFirst();
  if (!r) throw new SikkerKeyError('SK_ERR_NOT_FOUND', 'no such rotation job');
  return { ...r, latencyMs: r.state === 'promoted' && r.finishedAt ? r.finishedAt - r.createdAt : null };
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
