import { writeTx } from '../../context.js';
import type { VaultContext } from '../../context.js';
import { isSikkerKeyError } from '../../../protocol/errors.js';
import { forUpdate } from '../../store/locks.js';
import { createRotation } from './rotations-engine.js';
import { nextRun } from './rotations-service.js';
import { checkOverdue } from './rotation-overdue.js';

/** An agent unseen this long is not alive (agents long-poll every 30 s and are seen each time). */
export const NO_AGENT_AFTER_MS = 3 * 60_000;

export interface TickResult {
  created: number;
  /** Due runs that found an unfinished rotation (or a grace period) and waited for the next one. */
  skipped: number;
  /**
   * Due runs whose rotation could not be created (the secret no longer holds a database credential,
   * an alternating policy's live user is neither of its users…): logged, and skipped until the
   * schedule's next run, so one broken policy never holds up the others.
   */
  failed: number;
}

/**
 * One scheduler pass: every enabled policy whose `next_run_at` has come. Each is taken with
 * `FOR UPDATE SKIP LOCKED` and re-checked, its next run computed and stored, and the rotation
 * created — all in one transaction — so with several vault processes on one PostgreSQL each due
 * run becomes exactly one rotation (the one-unfinished-per-secret index backs this up).
 */
export async function runSchedulerTick(ctx: VaultContext): Promise<TickResult> {
  const now = ctx.now();
  const due = await ctx.store.db.selectFrom('rotation_policies').select('id')
    .where('enabled', '=', 1).where('awaiting_approval_by', 'is', null).where('next_run_at', '<=', now).orderBy('next_run_at').limit(500).execute();
  const result: TickResult = { created: 0, skipped: 0, failed: 0 };
  for (const { id } of due) {
    try {
      await schedulePolicy(ctx, id, now, result);
    } catch (err) {
      // One policy's failure must not end the pass: every policy due after it would wait forever.
      result.failed += 1;
      ctx.log.error({ policyId: id, code: isSikkerKeyError(err) ? err.code : undefined, err: err instanceof Error ? err.message : String(err) },
        'scheduled rotation not created: the policy or its secret needs an operator');
      // A refusal (SikkerKeyError) comes back at every pass: this run is skipped, and the next is the
      // schedule's. Anything else (the store) is tried again at the next pass.
      if (isSikkerKeyError(err)) await skipRun(ctx, id, now).catch(() => undefined);
    }
  }
  return result;
}

/** Moves a due policy's next run on (conditionally: another replica may have done so already). */
async function skipRun(ctx: VaultContext, id: string, now: number): Promise<void> {
  await writeTx(ctx, async (trx) => {
    const policy = await forUpdate(ctx.store.dialect, trx.selectFrom('rotation_policies').select(['schedule', 'timezone'])
      .where('id', '=', id).where('next_run_at', '<=', now), { skipLocked: true }).executeTakeFirst();
    if (!policy) return;
    await trx.updateTable('rotation_policies').set({ next_run_at: nextRun(policy.schedule, policy.timezone, now), updated_at: now })
      .where('id', '=', id).where('next_run_at', '<=', now).execute();
  });
}

/** One due policy: its next run stored and its rotation created, in one transaction. */
async function schedulePolicy(ctx: VaultContext, id: string, now: number, result: TickResult): Promise<void> {
  await writeTx(ctx, async (trx, audit) => {
    const policy = await forUpdate(ctx.store.dialect, trx.selectFrom('rotation_policies').selectAll()
      .where('id', '=', id).where('enabled', '=', 1).where('awaiting_approval_by', 'is', null).where('next_run_at', '<=', now), { skipLocked: true }).executeTakeFirst();
    if (!policy) return; // another replica holds it, or it is no longer due
    await trx.updateTable('rotation_policies').set({ next_run_at: nextRun(policy.schedule, policy.timezone, now), updated_at: now })
      .where('id', '=', id).execute();
    try {
      await createRotation(ctx, trx, { policy, trigger: 'schedule' }, audit);
      result.created += 1;
    } catch (err) {
      if (!isSikkerKeyError(err, 'SK_ERR_ROTATION_IN_PROGRESS')) throw err;
      // The next run is already stored; this one waits for the unfinished job (or its grace).
      result.skipped += 1;
      ctx.log.info({ policyId: id, waitingFor: err.details?.['rotationId'] }, 'scheduled rotation skipped: an earlier job is unfinished');
    }
  });
}

/**
 * Raises `rotation.no_agent` once when no machine that may run a policy has been seen for
 * NO_AGENT_AFTER_MS, and `rotation.agent_back` when one returns.
 */
export async function checkAgentLiveness(ctx: VaultContext): Promise<{ missing: number }> {
  const now = ctx.now();
  const policies = await ctx.store.db.selectFrom('rotation_policies')
    .innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id')
    .innerJoin('projects', 'projects.id', 'secrets.project_id')
    .select(['rotation_policies.id as id', 'rotation_policies.agent_machine_id as agentId', 'rotation_policies.agent_label as label',
      'rotation_policies.no_agent_since as since', 'projects.id as projectId', 'projects.name as project', 'secrets.name as secret'])
    .where('rotation_policies.enabled', '=', 1).execute();
  if (policies.length === 0) return { missing: 0 };
  const machines = await ctx.store.db.selectFrom('machines').select(['id', 'labels', 'last_seen_at']).where('status', '=', 'active').execute();
  let missing = 0;
  for (const p of policies) {
    const candidates = machines.filter((m) => m.id === p.agentId || (p.label !== null && (JSON.parse(m.labels) as string[]).includes(p.label)));
    const lastSeen = Math.max(0, ...candidates.map((m) => m.last_seen_at ?? 0));
    const alive = now - lastSeen < NO_AGENT_AFTER_MS;
    if (!alive) missing += 1;
    if (alive === (p.since === null)) continue;
    await writeTx(ctx, async (trx, audit) => {
      await trx.updateTable('rotation_policies').set({ no_agent_since: alive ? null : now }).where('id', '=', p.id).execute();
      await audit({
        action: alive ? 'rotation.agent_back' : 'rotation.no_agent', actorKind: 'system', actorId: null, projectId: p.projectId,
        target: `secret:${p.project}/${p.secret}`, outcome: alive ? 'success' : 'failure',
        details: { agent: p.agentId, label: p.label, lastSeenAt: lastSeen || null },
      });
    });
    if (!alive) ctx.log.error({ secret: `${p.project}/${p.secret}`, label: p.label }, 'rotation.no_agent: no agent that may run this policy has been seen recently');
  }
  return { missing };
}

/** Runs the scheduler every `intervalMs` (liveness every 30 s, overdue policies every minute) until stopped. */
export function startScheduler(ctx: VaultContext, intervalMs = 1000): () => void {
  let stopped = false;
  let lastLiveness = 0;
  let lastOverdue = 0;
  let running = false;
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = true;
    // Fire and forget from the timer: the pass catches and logs its own errors.
    void (async () => {
      try {
        await runSchedulerTick(ctx);
        if (ctx.now() - lastLiveness >= 30_000) {
          lastLiveness = ctx.now();
          await checkAgentLiveness(ctx);
        }
        if (ctx.now() - lastOverdue >= 60_000) {
          lastOverdue = ctx.now();
          await checkOverdue(ctx);
        }
      } catch (err) {
        ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'scheduler pass failed; will retry');
      } finally {
        running = false;
      }
    })();
  }, intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
