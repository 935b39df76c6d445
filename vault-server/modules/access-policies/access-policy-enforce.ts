/**
 * An access policy enforced inside the read's own transaction (its group-commit savepoint), after
 * the grant check and before the audit event and the decryption: a refusal throws before any
 * value is touched, and what a served read counts commits with its audit event or not at all.
 *
 * Counted axes take the secret's `access_policy_state` row first (`FOR UPDATE` on PostgreSQL;
 * SQLite's batch holds the one writer), so reads of one secret — from any worker or replica —
 * count one after another: 100 parallel reads against `maxReads: 10` serve exactly 10.
 *
 * - ttl: `expiresAt` passed, or `maxReads` served → 410 SK_ERR_SECRET_EXPIRED.
 * - coSign: an unused co-sign for this reader, this secret, not yet expired, is used up.
 * - rateCap: served reads in the last 60 s / 24 h (`access_policy_reads`, pruned here) → 429
 *   SK_ERR_POLICY_RATE with Retry-After until the read that must leave the window has left.
 * - rotateAfterReads: every N served reads, one rotation is queued (if none is unfinished and the
 *   secret has an enabled rotation policy; otherwise an audit note says why not).
 *
 * @example
 *   await enforcePolicy(ctx, trx, audit, caller, { secretId, target, projectId }, policy);
 */
import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Caller } from '../../http/authenticate.js';
import type { Tx, VaultContext } from '../../context.js';
import { forUpdate } from '../../store/locks.js';
import { UNFINISHED_ROTATION_STATES } from '../../store/database.js';
import { DAY_MS, MINUTE_MS, policyRefusal, secondsUntilRoom, staticRefusal } from './access-policy-rules.js';
import type { ParsedPolicy } from './access-policy-rules.js';

type AuditFn = (e: { action: string; projectId?: string | null; target: string; outcome: 'success' | 'denied' | 'failure'; details?: Record<string, unknown> }, caller?: Caller) => Promise<void>;

export interface PolicyTarget {
  secretId: string;
  projectId: string;
  /** `secret:<project>/<name>`, for audit notes. */
  target: string;
}

/** What the read's audit event records about the policy that let it through. */
export interface PolicyPass {
  policy: string;
  cosignId?: string;
}

/** Makes sure the counter row of a bound secret exists (bind creates it; this covers a hand-made binding). */
export async function ensureState(trx: Tx, secretId: string, now: number): Promise<void> {
  await trx.insertInto('access_policy_state').values({ secret_id: secretId, bound_at: now })
    .onConflict((oc) => oc.column('secret_id').doNothing()).execute();
}

async function countSince(trx: Tx, secretId: string, since: number): Promise<number> {
  const row = await trx.selectFrom('access_policy_reads').select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('secret_id', '=', secretId).where('at', '>', since).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Refuses with 429 when the window already holds `cap` served reads. */
async function checkCap(trx: Tx, secretId: string, cap: number, windowMs: number, now: number, policy: ParsedPolicy, label: string): Promise<void> {
  const since = now - windowMs;
  const n = await countSince(trx, secretId, since);
  if (n < cap) return;
  // Only the reads that must leave before one more fits are fetched (never the whole day).
  const rows = await trx.selectFrom('access_policy_reads').select('at').where('secret_id', '=', secretId).where('at', '>', since)
    .orderBy('at', 'asc').offset(n - cap).limit(1).execute();
  const retryAfter = secondsUntilRoom(rows.map((r) => r.at), 1, windowMs, now);
  throw policyRefusal('rateCap', `access policy ${policy.name} allows ${cap} reads per ${label}; retry in ${retryAfter} s`, { retryAfter, cap, window: label });
}

/**
 * Passes `policy` for one read of `t` by `caller`, or throws the refusal of the axis that refused.
 * Runs inside the read's transaction; what it counts is rolled back with it.
 */
export async function enforcePolicy(ctx: VaultContext, trx: Tx, audit: AuditFn, caller: Caller, t: PolicyTarget, policy: ParsedPolicy): Promise<PolicyPass> {
  const now = ctx.now();
  const refusal = staticRefusal(policy, { ip: caller.sourceIp, nowMs: now });
  if (refusal) throw refusal;
  if (!policy.counted) return { policy: policy.name };

  await ensureState(trx, t.secretId, now);
  const state = await forUpdate(ctx.store.dialect, trx.selectFrom('access_policy_state').select(['reads_served', 'reads_since_rotation'])
    .where('secret_id', '=', t.secretId)).executeTakeFirstOrThrow();
  if (policy.maxReads !== undefined && state.reads_served >= policy.maxReads) {
    throw policyRefusal('ttl', `this secret has served its ${policy.maxReads} reads (access policy ${policy.name})`);
  }

  let cosignId: string | undefined;
  if (policy.coSign) {
    let q = trx.selectFrom('access_policy_cosigns').select('id').where('secret_id', '=', t.secretId).where('requester_machine_id', '=', caller.id)
      .where('used_at', 'is', null).where('expires_at', '>', now);
    if (policy.coSign.machineId !== null) q = q.where('cosigner_machine_id', '=', policy.coSign.machineId);
    const cosign = await q.orderBy('created_at', 'asc').limit(1).executeTakeFirst();
    if (!cosign) {
      throw policyRefusal('coSign', `access policy ${policy.name} needs a second machine's co-sign for this read (POST /v1/projects/{project}/secrets/{name}/cosign naming this machine, within ${Math.round(policy.coSign.windowMs / 1000)} s)`);
    }
    cosignId = cosign.id;
  }

  if (policy.perMinute !== undefined) await checkCap(trx, t.secretId, policy.perMinute, MINUTE_MS, now, policy, 'minute');
  if (policy.perDay !== undefined) await checkCap(trx, t.secretId, policy.perDay, DAY_MS, now, policy, 'day');

  // Every check passed: the read is served, so it counts.
  if (cosignId !== undefined) {
    const used = await trx.updateTable('access_policy_cosigns').set({ used_at: now }).where('id', '=', cosignId).where('used_at', 'is', null).executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) throw policyRefusal('coSign', `access policy ${policy.name}: that co-sign was used meanwhile`);
  }
  if (policy.perMinute !== undefined || policy.perDay !== undefined) {
    await trx.deleteFrom('access_policy_reads').where('secret_id', '=', t.secretId).where('at', '<=', now - (policy.perDay !== undefined ? DAY_MS : MINUTE_MS)).execute();
    await trx.insertInto('access_policy_reads').values({ id: randomUUID(), secret_id: t.secretId, at: now }).execute();
  }
  let sinceRotation = state.reads_since_rotation + 1;
  if (policy.rotateAfterReads !== undefined && sinceRotation >= policy.rotateAfterReads) {
    await queueRotation(ctx, trx, audit, t, policy);
    sinceRotation = 0;
  }
  await trx.updateTable('access_policy_state').set({ reads_served: state.reads_served + 1, reads_since_rotation: sinceRotation })
    .where('secret_id', '=', t.secretId).execute();
  return { policy: policy.name, ...(cosignId !== undefined ? { cosignId } : {}) };
}

/**
 * rotateAfterReads reached: one rotation, unless one is unfinished already (then that one is the
 * queued one) or the secret has no enabled rotation policy (an audit note says so).
 */
async function queueRotation(ctx: VaultContext, trx: Tx, audit: AuditFn, t: PolicyTarget, policy: ParsedPolicy): Promise<void> {
  const rotationPolicy = await trx.selectFrom('rotation_policies').selectAll().where('secret_id', '=', t.secretId).where('enabled', '=', 1).executeTakeFirst();
  const note = (reason: string): Promise<void> => audit({ action: 'policy.rotate_after_reads', projectId: t.projectId, target: t.target, outcome: 'failure', details: { policy: policy.name, reason } });
  if (!rotationPolicy) return note('no enabled rotation policy on this secret');
  const running = await trx.selectFrom('rotations').select(['id', 'kind', 'state']).where('secret_id', '=', t.secretId).where('state', 'in', [...UNFINISHED_ROTATION_STATES]).executeTakeFirst();
  // An unclaimed preflight is superseded by the rotation (createRotation); anything else is the one queued.
  if (running && !(running.kind === 'preflight' && running.state === 'pending')) return note('a rotation is already unfinished');
  // Loaded when first needed: the rotation engine builds on the secrets service, which calls this
  // module, so a static import would be a cycle.
  const { createRotation } = await import('../rotations/rotations-engine.js');
  try {
    await createRotation(ctx, trx, { policy: rotationPolicy, trigger: 'reads', details: { policy: policy.name, afterReads: policy.rotateAfterReads } }, audit);
  } catch (err) {
    // A secret the rotation cannot start from (no database fields): the read is still served.
    if (!(err instanceof SikkerKeyError) || err.statusCode >= 500) throw err;
    await note(`the rotation could not be queued: ${err.code}`);
  }
}

/**
 * Rotation claims are not reads (no cap or TTL counts them) but are refused while the secret's
 * policy has expired it: a secret nobody may read any more is not worth a new credential.
 */
export async function assertNotExpired(ctx: VaultContext, trx: Tx, secretId: string): Promise<void> {
  const row = await trx.selectFrom('secrets').innerJoin('access_policies', 'access_policies.id', 'secrets.policy_id')
    .leftJoin('access_policy_state', 'access_policy_state.secret_id', 'secrets.id')
    .select(['access_policies.name as name', 'access_policies.expires_at as expiresAt', 'access_policies.max_reads as maxReads', 'access_policy_state.reads_served as served'])
    .where('secrets.id', '=', secretId).executeTakeFirst();
  if (!row) return;
  if ((row.expiresAt !== null && ctx.now() >= row.expiresAt) || (row.maxReads !== null && Number(row.served ?? 0) >= row.maxReads)) {
    throw policyRefusal('ttl', `the secret has expired under access policy ${row.name}: no rotation is claimed for it until the policy is extended`);
  }
}
