/**
 * Rotation policies as seen from the machine that is their agent: `machine remove` asks which
 * policies name the machine, and with `--force` pauses them in its own transaction before the
 * machine row goes. Kept apart from rotations-service.ts, which imports the machines module, so
 * the machines module can use it without an import cycle.
 *
 * @example
 *   const named = await policiesNamingMachine(trx, machine.id);   // [{ project: 'p', secret: 'db', … }]
 *   await pauseForRemovedMachine(trx, audit, caller, machine, named);
 */
import type { Caller } from '../../http/authenticate.js';
import type { Tx, writeTx } from '../../context.js';

type AuditFn = Parameters<Parameters<typeof writeTx>[1]>[1];

/**
 * Why a policy is paused; `operator` when `enabled` is 0 and `paused_reason` is null;
 * `awaiting_approval` while an AI agent's `rotation set` waits for an operator (migration 0012).
 */
export type PausedReason = 'operator' | 'secret_deleted' | 'project_deleted' | 'machine_removed' | 'awaiting_approval';

/** The view's reason for a stored policy row: null while it is enabled. Awaiting approval wins over any other reason. */
export function pausedReasonOf(row: { enabled: number; paused_reason: string | null; awaiting_approval_by?: string | null }): PausedReason | null {
  if (row.awaiting_approval_by) return 'awaiting_approval';
  if (row.enabled === 1) return null;
  return (row.paused_reason as PausedReason | null) ?? 'operator';
}

export interface AgentPolicy {
  policyId: string;
  projectId: string;
  project: string;
  secret: string;
  enabled: boolean;
  pausedReason: PausedReason | null;
}

/** Every rotation policy that names the machine as its agent (a label-only policy does not). */
export async function policiesNamingMachine(trx: Tx, machineId: string): Promise<AgentPolicy[]> {
  const rows = await trx.selectFrom('rotation_policies')
    .innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id')
    .innerJoin('projects', 'projects.id', 'secrets.project_id')
    .select(['rotation_policies.id as id', 'rotation_policies.enabled as enabled', 'rotation_policies.paused_reason as paused_reason',
      'projects.id as projectId', 'projects.name as project', 'secrets.name as secret'])
    .where('rotation_policies.agent_machine_id', '=', machineId)
    .orderBy('projects.name').orderBy('secrets.name').execute();
  return rows.map((r) => ({
    policyId: r.id, projectId: r.projectId, project: r.project, secret: r.secret, enabled: r.enabled === 1, pausedReason: pausedReasonOf(r),
  }));
}

/**
 * Pauses each policy for its machine's removal: `enabled` 0, `paused_reason` `machine_removed`,
 * and the agent reference cleared (the foreign key would clear it too, when the row goes). The
 * reason replaces a deletion's (`secret_deleted`, …) on purpose: a restore of the secret must not
 * resume a policy that has no agent left. One `rotation.pause` per policy.
 */
export async function pauseForRemovedMachine(trx: Tx, audit: AuditFn, caller: Caller, machine: { id: string; name: string }, policies: readonly AgentPolicy[], now: number): Promise<void> {
  for (const p of policies) {
    await trx.updateTable('rotation_policies').set({ enabled: 0, paused_reason: 'machine_removed', agent_machine_id: null, updated_at: now })
      .where('id', '=', p.policyId).execute();
    await audit({
      action: 'rotation.pause', projectId: p.projectId, target: `secret:${p.project}/${p.secret}`, outcome: 'success',
      details: { reason: 'machine_removed', machine: machine.name, machineId: machine.id, wasEnabled: p.enabled, previousReason: p.pausedReason },
    }, caller);
  }
}
