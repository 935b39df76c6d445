/**
 * `rotation.overdue`: a scheduled policy has not promoted since the fire time that followed its
 * last success, plus a grace of max(1 h, 10 % of the schedule's interval). Paused policies are
 * left out. Computed from the store alone (the schedule, the last promotion, the policy's own
 * `overdue_for` marker), so it holds across restarts and replicas and fires once per overdue
 * period: the marker records the missed fire time it was raised for, re-checked under the
 * policy's row lock.
 *
 * @example
 *   await checkOverdue(ctx); // { overdue: 1, raised: 1 } — the scheduler runs it every minute
 */
import { writeTx } from '../../context.js';
import type { VaultContext } from '../../context.js';
import { forUpdate } from '../../store/locks.js';
import { nextRun } from './rotations-service.js';

export const OVERDUE_MIN_GRACE_MS = 3_600_000;

/** When a policy whose last success (or creation) was at `since` is overdue, and for which fire time; null when it never is. */
export function overdueAt(schedule: string | null, timezone: string | null, since: number): { missedFireAt: number; overdueAt: number } | null {
  const missedFireAt = nextRun(schedule, timezone, since);
  if (missedFireAt === null) return null;
  const following = nextRun(schedule, timezone, missedFireAt);
  const interval = following === null ? 0 : following - missedFireAt;
  return { missedFireAt, overdueAt: missedFireAt + Math.max(OVERDUE_MIN_GRACE_MS, Math.round(interval / 10)) };
}

export async function checkOverdue(ctx: VaultContext): Promise<{ overdue: number; raised: number }> {
  const now = ctx.now();
  const policies = await ctx.store.db.selectFrom('rotation_policies')
    .innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id')
    .innerJoin('projects', 'projects.id', 'secrets.project_id')
    .select(['rotation_policies.id as id', 'rotation_policies.schedule as schedule', 'rotation_policies.timezone as timezone',
      'rotation_policies.created_at as createdAt', 'rotation_policies.overdue_for as overdueFor', 'projects.id as projectId',
      'projects.name as project', 'secrets.name as secret'])
    .select((eb) => eb.selectFrom('rotations').select((e) => e.fn.max('rotations.finished_at').as('at'))
      .whereRef('rotations.policy_id', '=', 'rotation_policies.id').where('rotations.state', '=', 'promoted').as('lastSuccessAt'))
    .where('rotation_policies.enabled', '=', 1).where('rotation_policies.schedule', 'is not', null).execute();
  let overdue = 0;
  let raised = 0;
  for (const p of policies) {
    const since = Math.max(Number(p.createdAt), p.lastSuccessAt === null ? 0 : Number(p.lastSuccessAt));
    let when: ReturnType<typeof overdueAt>;
    try {
      when = overdueAt(p.schedule, p.timezone, since);
    } catch {
      continue; // an unparseable schedule is refused at `rotation set`; a stored one is reported there
    }
    if (!when || now < when.overdueAt) continue;
    overdue += 1;
    if (p.overdueFor !== null && Number(p.overdueFor) === when.missedFireAt) continue;
    const fired = await writeTx(ctx, async (trx, audit) => {
      const row = await forUpdate(ctx.store.dialect, trx.selectFrom('rotation_policies').select(['overdue_for', 'enabled']).where('id', '=', p.id)).executeTakeFirst();
      if (!row || row.enabled !== 1 || (row.overdue_for !== null && Number(row.overdue_for) === when.missedFireAt)) return false;
      await trx.updateTable('rotation_policies').set({ overdue_for: when.missedFireAt }).where('id', '=', p.id).execute();
      await audit({
        action: 'rotation.overdue', actorKind: 'system', actorId: null, projectId: p.projectId, target: `secret:${p.project}/${p.secret}`, outcome: 'failure',
        details: { policyId: p.id, missedFireAt: when.missedFireAt, overdueSince: when.overdueAt, lastSuccessAt: p.lastSuccessAt === null ? null : Number(p.lastSuccessAt) },
      });
      return true;
    });
    if (fired) {
      raised += 1;
      ctx.log.warn({ secret: `${p.project}/${p.secret}`, missedFireAt: new Date(when.missedFireAt).toISOString() }, 'rotation.overdue: no promotion since a scheduled rotation was due');
    }
  }
  return { overdue, raised };
}
