/**
 * Grants by machine label (issue 24, "machine groups"): `grant add --label web --project P` gives
 * every machine labelled `web` what a grant naming it would — but only while the machine is
 * `active`: a machine pending approval (or disabled, or expired) holds no label grant, so a fleet
 * enrolled through a token an AI agent made still waits for an operator before it reads.
 *
 * This file imports nothing from the services, so the read lookups and the watch can use it.
 *
 * @example
 *   const rows = await labelGrantsOf(trx, machineId, projectId); // [{ secret_id, fields }]
 */
import type { Tx } from '../../context.js';

/** The label grants `machineId` holds in `projectId` (none unless the machine is active). */
export async function labelGrantsOf(trx: Tx, machineId: string, projectId: string): Promise<Array<{ secret_id: string | null; fields: string | null }>> {
  const labels = await activeLabels(trx, machineId);
  if (labels.length === 0) return [];
  return trx.selectFrom('label_grants').select(['secret_id', 'fields']).where('project_id', '=', projectId).where('label', 'in', labels).execute();
}

/** Every label grant `machineId` holds, in any project (none unless the machine is active). */
export async function allLabelGrantsOf(trx: Tx, machineId: string): Promise<Array<{ project_id: string; secret_id: string | null }>> {
  const labels = await activeLabels(trx, machineId);
  if (labels.length === 0) return [];
  return trx.selectFrom('label_grants').select(['project_id', 'secret_id']).where('label', 'in', labels).execute();
}

async function activeLabels(trx: Tx, machineId: string): Promise<string[]> {
  const machine = await trx.selectFrom('machines').select(['labels', 'status']).where('id', '=', machineId).executeTakeFirst();
  return machine && machine.status === 'active' ? parseLabels(machine.labels) : [];
}

function parseLabels(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
