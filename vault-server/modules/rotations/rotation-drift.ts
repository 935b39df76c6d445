/**
 * `rotation.drift`: the agent's periodic probe of the live credential. An application reads the
 * live value from the vault; if someone changed the password in the database behind the vault's
 * back (a DBA, a restore, another tool), every application that starts from then on fails to log
 * in, and nothing told anyone. The agent of each policy therefore logs in with the live credential
 * every `drift_interval_ms` (default 15 min; `rotation set --drift-interval`) and reports.
 *
 * - A claim (`POST /v1/agent/drift-probes`) hands out the probes due for this machine's policies:
 *   the live credential and the admin credential its provider connects with (audited like a
 *   rotation claim), and moves each probe's due time forward by a lease so two agents of one
 *   label do not probe at once. Policies that are paused, in a locked or deleted project, or whose
 *   secret has an unfinished job (the credential may be changing) are skipped.
 * - A result (`POST /v1/agent/drift-probes/{policyId}`) names the live version it probed; one
 *   about a version rotated in the meantime is ignored (`stale`). The database refusing the login
 *   (SK_ERR_PROVIDER_AUTH_FAILED) is drift: the first such result of a streak raises
 *   `rotation.drift` (an audit event, a webhook event, critical); the streak ends with a probe
 *   that logs in, or with a promotion (a fresh login proved the new credential), either of which
 *   raises `rotation.drift_recovered`. Any other failure (database unreachable, …) is recorded in
 *   the status but proves nothing about the credential, so it raises nothing.
 *
 * @example
 *   const { probes } = await claimDriftProbes(ctx, machine);
 *   await reportDriftProbe(ctx, machine, probes[0].policyId, { version: probes[0].version, ok: false, code: 'SK_ERR_PROVIDER_AUTH_FAILED' });
 */
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { DriftProbe, DriftProbeList, DriftResultBody, DriftResultResponse, DriftStatus, Engine } from '../../../protocol/api-types.js';
import type { Caller } from '../../http/authenticate.js';
import { writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import type { Row } from '../../store/database.js';
import { UNFINISHED_ROTATION_STATES } from '../../store/database.js';
import { forUpdate } from '../../store/locks.js';
import { adminGrantOf, machineLabels, missingConnectionFields, secretById, secretFields } from './rotations-engine.js';

/** How long a claimed probe is the claimer's before another agent of the policy may take it. */
export const DRIFT_PROBE_LEASE_MS = 120_000;
/** Probes handed out per claim; the rest wait for the next one. */
export const DRIFT_PROBES_PER_CLAIM = 10;
/** The shortest interval `rotation set --drift-interval` accepts. */
export const MIN_DRIFT_INTERVAL_MS = 5_000;

type PolicyRow = Row<'rotation_policies'>;
type AuditFn = Parameters<Parameters<typeof writeTx>[1]>[1];

/** The status view of a policy's drift columns. */
export function driftStatus(p: Pick<PolicyRow, 'drift_interval_ms' | 'drift_due_at' | 'drift_checked_at' | 'drift_ok' | 'drift_code' | 'drift_message' | 'drift_failing_since' | 'enabled'>, now: number): DriftStatus {
  const interval = Number(p.drift_interval_ms);
  return {
    intervalSeconds: Math.round(interval / 1000),
    nextProbeAt: interval > 0 && p.enabled === 1 ? Math.max(now, p.drift_due_at === null ? now : Number(p.drift_due_at)) : null,
    lastProbe: p.drift_checked_at === null ? null : { at: Number(p.drift_checked_at), ok: p.drift_ok === 1, code: p.drift_code, message: p.drift_message },
    failingSince: p.drift_failing_since === null ? null : Number(p.drift_failing_since),
  };
}

/** The probes due now for the policies this machine runs (by name or label); each is leased to it. */
export async function claimDriftProbes(ctx: VaultContext, machine: Caller): Promise<DriftProbeList> {
  const now = ctx.now();
  const labels = await machineLabels(ctx.store.db, machine.id);
  const due = await ctx.store.db.selectFrom('rotation_policies')
    .innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id')
    .innerJoin('projects', 'projects.id', 'secrets.project_id')
    .select(['rotation_policies.id as id'])
    .where('rotation_policies.enabled', '=', 1)
    .where('rotation_policies.drift_interval_ms', '>', 0)
    .where((eb) => eb.or([eb('rotation_policies.drift_due_at', 'is', null), eb('rotation_policies.drift_due_at', '<=', now)]))
    .where((eb) => eb.or([
      eb('rotation_policies.agent_machine_id', '=', machine.id),
      ...(labels.length > 0 ? [eb('rotation_policies.agent_label', 'in', labels)] : []),
    ]))
    .where('projects.locked_at', 'is', null).where('projects.deleted_at', 'is', null).where('secrets.deleted_at', 'is', null)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('rotations').select('rotations.id')
      .whereRef('rotations.secret_id', '=', 'rotation_policies.secret_id').where('rotations.state', 'in', [...UNFINISHED_ROTATION_STATES]))))
    .orderBy('rotation_policies.drift_due_at').limit(DRIFT_PROBES_PER_CLAIM).execute();
  if (due.length === 0) return { probes: [], leaseSeconds: DRIFT_PROBE_LEASE_MS / 1000 };

  const probes = await writeTx(ctx, async (trx, audit) => {
    const out: DriftProbe[] = [];
    for (const { id } of due) {
      const probe = await leaseProbe(ctx, trx, audit, machine, id, now);
      if (probe) out.push(probe);
    }
    return out;
  });
  return { probes, leaseSeconds: DRIFT_PROBE_LEASE_MS / 1000 };
}

/** One due probe, re-checked under the policy's row lock and leased; undefined when it is no longer due or cannot run. */
async function leaseProbe(ctx: VaultContext, trx: Tx, audit: AuditFn, machine: Caller, policyId: string, now: number): Promise<DriftProbe | undefined> {
  const policy = await forUpdate(ctx.store.dialect, trx.selectFrom('rotation_policies').selectAll().where('id', '=', policyId)).executeTakeFirst();
  if (!policy || policy.enabled !== 1 || Number(policy.drift_interval_ms) <= 0) return undefined;
  if (policy.drift_due_at !== null && Number(policy.drift_due_at) > now) return undefined;
  const secret = await secretById(trx, policy.secret_id);
  const adminSecret = await secretById(trx, policy.admin_secret_id);
  const engine = policy.provider as Engine;
  const access = await adminGrantOf(trx, machine.id, adminSecret);
  const admin = access === 'none' ? undefined : await secretFields(ctx, trx, adminSecret);
  if (access === 'none' || admin === undefined || missingConnectionFields(engine, admin.fields, access).length > 0) {
    // The rotation claim explains a missing grant; a probe just waits an interval and tries again.
    await trx.updateTable('rotation_policies').set({ drift_due_at: now + Number(policy.drift_interval_ms) }).where('id', '=', policyId).execute();
    return undefined;
  }
  const adminHanded = access === 'all' ? admin.fields : Object.fromEntries(Object.entries(admin.fields).filter(([k]) => access.has(k)));
  const live = await secretFields(ctx, trx, secret);
  await trx.updateTable('rotation_policies').set({ drift_due_at: now + DRIFT_PROBE_LEASE_MS }).where('id', '=', policyId).execute();
  const target = `secret:${secret.project.name}/${secret.name}`;
  await audit({ action: 'rotation.drift_probe', projectId: secret.project.id, target, outcome: 'success', details: { policyId, version: live.version } }, machine);
  // The agent now holds the admin credential: a read of the admin secret, as a rotation claim records it.
  await audit({
    action: 'secret.read', projectId: adminSecret.project.id, target: `secret:${adminSecret.project.name}/${adminSecret.name}`, outcome: 'success',
    details: { version: admin.version, fields: Object.keys(adminHanded).sort(), policyId, via: 'rotation.drift_probe' },
  }, machine);
  return { policyId, project: secret.project.name, secret: secret.name, engine, version: live.version, admin: adminHanded, target: live.fields };
}

const MAX_MESSAGE = 500;

/** Records what a probe found; the first refused login of a streak raises `rotation.drift`. */
export async function reportDriftProbe(ctx: VaultContext, machine: Caller, policyId: string, body: DriftResultBody): Promise<DriftResultResponse> {
  return writeTx(ctx, async (trx, audit) => {
    const policy = await forUpdate(ctx.store.dialect, trx.selectFrom('rotation_policies').selectAll().where('id', '=', policyId)).executeTakeFirst();
    if (!policy) throw new SikkerKeyError('SK_ERR_NOT_FOUND', 'no such rotation policy');
    const labels = await machineLabels(trx, machine.id);
    if (policy.agent_machine_id !== machine.id && !(policy.agent_label !== null && labels.includes(policy.agent_label))) {
      throw new SikkerKeyError('SK_ERR_ROTATION_NOT_CLAIMABLE', 'this machine is not the agent of that rotation policy');
    }
    const now = ctx.now();
    const secret = await secretById(trx, policy.secret_id);
    const live = await trx.selectFrom('secret_versions').select('version').where('secret_id', '=', secret.id).where('state', '=', 'live').executeTakeFirst();
    if (live?.version !== body.version) return { result: 'stale', drift: driftStatus(policy, now) };

    const refused = !body.ok && body.code === 'SK_ERR_PROVIDER_AUTH_FAILED';
    const code = body.ok ? null : (body.code ?? 'SK_ERR_PROVIDER_FAILED');
    const message = body.ok ? null : (body.message ?? '').slice(0, MAX_MESSAGE);
    const failingSince = refused ? (policy.drift_failing_since ?? now) : body.ok ? null : policy.drift_failing_since;
    const columns = {
      drift_checked_at: now, drift_ok: body.ok ? 1 as const : 0 as const, drift_code: code, drift_message: message,
      drift_due_at: now + Number(policy.drift_interval_ms), drift_failing_since: failingSince,
    };
    await trx.updateTable('rotation_policies').set(columns).where('id', '=', policyId).execute();
    const target = `secret:${secret.project.name}/${secret.name}`;
    if (refused && policy.drift_failing_since === null) {
      await audit({ action: 'rotation.drift', projectId: secret.project.id, target, outcome: 'failure', details: { policyId, version: body.version, code, message } }, machine);
      ctx.log.warn({ secret: `${secret.project.name}/${secret.name}`, code }, 'rotation.drift: the database refused the live credential');
    } else if (body.ok && policy.drift_failing_since !== null) {
      await recovered(audit, machine, secret, policyId, Number(policy.drift_failing_since), { by: 'probe' });
    }
    return { result: 'recorded', drift: driftStatus({ ...policy, ...columns }, now) };
  });
}

/**
 * A promotion proved the new live credential with a fresh login: a drift streak ends there, and
 * the next probe is an interval away. Called in the promotion's transaction.
 */
export async function driftAfterPromotion(trx: Tx, audit: AuditFn, machine: Caller, policy: PolicyRow, secret: { project: { id: string; name: string }; name: string }, rotationId: string, now: number): Promise<void> {
  await trx.updateTable('rotation_policies').set({ drift_failing_since: null, drift_due_at: now + Number(policy.drift_interval_ms) }).where('id', '=', policy.id).execute();
  if (policy.drift_failing_since !== null) await recovered(audit, machine, secret, policy.id, Number(policy.drift_failing_since), { by: 'rotation', rotationId });
}

async function recovered(audit: AuditFn, machine: Caller, secret: { project: { id: string; name: string }; name: string }, policyId: string, since: number, how: Record<string, string>): Promise<void> {
  await audit({
    action: 'rotation.drift_recovered', projectId: secret.project.id, target: `secret:${secret.project.name}/${secret.name}`, outcome: 'success',
    details: { policyId, failingSince: since, ...how },
  }, machine);
}
