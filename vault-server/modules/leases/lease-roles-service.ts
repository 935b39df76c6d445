/**
 * Lease roles (docs/leases.md): what a leased login of (project, name) gets — the engine, the
 * agent that mints it, the admin secret it connects with, its TTL and cap, an optional maximum of
 * live leases, and the engine's grant. Operators (admin+) only; AI agents never reach these.
 * Also what the agent's reconcile asks for: the roles an agent machine serves.
 */
import { randomUUID } from 'node:crypto';
import { SikkerKeyError, isSikkerKeyError } from '../../../protocol/errors.js';
import type { AgentLeaseRole, Engine, LeaseGrant, LeaseRoleBody, LeaseRoleView } from '../../../protocol/api-types.js';
import { isEngine } from '../../../protocol/engines.js';
import type { Caller } from '../../http/authenticate.js';
import { writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import type { Row } from '../../store/database.js';
import { requireProject } from '../projects/projects-service.js';
import { requireMachine } from '../machines/machines-service.js';
import { adminGrantOf, machineLabels, secretById, secretFields } from '../rotations/rotations-engine.js';
import { assertDatabaseFields } from '../rotations/rotation-rules.js';
import { LIVE_LEASE_STATES, jobStillWanted, loginPrefix, parseLeaseGrant, parseTtls, vaultId6, DEFAULT_MACHINE_LEASES_PER_ROLE } from './lease-rules.js';

export type LeaseRoleRow = Row<'lease_roles'>;

export const roleNotFound = (project: string, name: string): SikkerKeyError =>
  new SikkerKeyError('SK_ERR_LEASE_NOT_FOUND', `no lease role ${JSON.stringify(name)} in project ${JSON.stringify(project)}`);

/** The role's row by project and name (SK_ERR_LEASE_NOT_FOUND). */
export async function requireRole(trx: Tx, projectName: string, name: string): Promise<{ role: LeaseRoleRow; project: Awaited<ReturnType<typeof requireProject>> }> {
  const project = await requireProject(trx, projectName);
  const role = await trx.selectFrom('lease_roles').selectAll().where('project_id', '=', project.id).where('name', '=', name).executeTakeFirst();
  if (!role) throw roleNotFound(projectName, name);
  return { role, project };
}

async function viewOf(trx: Tx, projectName: string, r: LeaseRoleRow): Promise<LeaseRoleView> {
  const agent = r.agent_machine_id ? await trx.selectFrom('machines').select('name').where('id', '=', r.agent_machine_id).executeTakeFirst() : undefined;
  const admin = await trx.selectFrom('secrets').select('name').where('id', '=', r.admin_secret_id).executeTakeFirst();
  return {
    id: r.id, project: projectName, name: r.name, engine: r.engine,
    ...(agent ? { agentMachine: agent.name } : {}), ...(r.agent_label !== null ? { agentLabel: r.agent_label } : {}),
    adminSecret: admin?.name ?? r.admin_secret_id, ttlMs: Number(r.ttl_ms), maxTtlMs: Number(r.max_ttl_ms),
    ...(r.max_leases !== null ? { maxLeases: r.max_leases } : {}), maxLeasesPerMachine: r.max_leases_per_machine ?? DEFAULT_MACHINE_LEASES_PER_ROLE, grant: JSON.parse(r.grant_spec) as LeaseGrant,
    createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
  };
}

/**
 * `PUT /v1/projects/{p}/lease-roles/{name}` (`lease-role create`): creates or replaces a role.
 * Refused (SK_ERR_VALIDATION) for a grant that does not fit the engine (an ACL rule that sets a
 * password or state), ttl > max-ttl, not exactly one agent, an admin secret without host, port,
 * username and password.
 */
export async function putLeaseRole(ctx: VaultContext, caller: Caller, projectName: string, name: string, input: LeaseRoleBody): Promise<LeaseRoleView> {
  if (!isEngine(input.engine)) throw new SikkerKeyError('SK_ERR_VALIDATION', '--provider must be one of postgres, supabase, mysql, redis, mongodb');
  const engine: Engine = input.engine;
  const grant = parseLeaseGrant(engine, input.grant);
  const { ttlMs, maxTtlMs } = parseTtls(input.ttl, input.maxTtl);
  if (Boolean(input.agentMachine) === Boolean(input.agentLabel)) throw new SikkerKeyError('SK_ERR_VALIDATION', 'name the agent: exactly one of --agent MACHINE or --agent-label L');
  if (input.maxLeases !== undefined && (!Number.isInteger(input.maxLeases) || input.maxLeases < 1)) throw new SikkerKeyError('SK_ERR_VALIDATION', '--max-leases must be a positive integer');
  if (input.maxLeasesPerMachine !== undefined && (!Number.isInteger(input.maxLeasesPerMachine) || input.maxLeasesPerMachine < 1)) throw new SikkerKeyError('SK_ERR_VALIDATION', '--max-leases-per-machine must be a positive integer');
  return writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, projectName);
    const admin = await trx.selectFrom('secrets').select('id').where('project_id', '=', project.id).where('name', '=', input.adminSecret).where('deleted_at', 'is', null).executeTakeFirst();
    if (!admin) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(input.adminSecret)} in project ${JSON.stringify(projectName)}`);
    try {
      assertDatabaseFields((await secretFields(ctx, trx, await secretById(trx, admin.id))).fields, `admin secret ${input.adminSecret}`);
    } catch (err) {
      if (isSikkerKeyError(err, 'SK_ERR_ROTATION_POLICY') || isSikkerKeyError(err, 'SK_ERR_ROTATION_STATE')) throw new SikkerKeyError('SK_ERR_VALIDATION', err.message);
      throw err;
    }
    const agentId = input.agentMachine ? (await requireMachine(trx, input.agentMachine)).id : null;
    const now = ctx.now();
    const existing = await trx.selectFrom('lease_roles').select('id').where('project_id', '=', project.id).where('name', '=', name).executeTakeFirst();
    const values = {
      engine, agent_machine_id: agentId, agent_label: input.agentLabel ?? null, admin_secret_id: admin.id,
      ttl_ms: ttlMs, max_ttl_ms: maxTtlMs, max_leases: input.maxLeases ?? null, max_leases_per_machine: input.maxLeasesPerMachine ?? null, grant_spec: JSON.stringify(grant), updated_at: now,
    };
    const id = existing?.id ?? randomUUID();
    if (existing) await trx.updateTable('lease_roles').set(values).where('id', '=', id).execute();
    else await trx.insertInto('lease_roles').values({ id, project_id: project.id, name, created_at: now, created_by: `${caller.kind}:${caller.id}`, ...values }).execute();
    await audit({
      action: existing ? 'lease_role.updated' : 'lease_role.created', projectId: project.id, target: `lease_role:${projectName}/${name}`, outcome: 'success',
      details: { engine, agent: input.agentMachine ?? null, agentLabel: input.agentLabel ?? null, adminSecret: input.adminSecret, ttlMs, maxTtlMs, maxLeases: input.maxLeases ?? null, maxLeasesPerMachine: input.maxLeasesPerMachine ?? DEFAULT_MACHINE_LEASES_PER_ROLE, grant },
    }, caller);
    return viewOf(trx, projectName, await trx.selectFrom('lease_roles').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
  });
}

export async function getLeaseRole(ctx: VaultContext, projectName: string, name: string): Promise<LeaseRoleView> {
  const { role } = await requireRole(ctx.store.db, projectName, name);
  return viewOf(ctx.store.db, projectName, role);
}

export async function listLeaseRoles(ctx: VaultContext, projectName: string): Promise<LeaseRoleView[]> {
  const project = await requireProject(ctx.store.db, projectName);
  const rows = await ctx.store.db.selectFrom('lease_roles').selectAll().where('project_id', '=', project.id).orderBy('name').execute();
  return Promise.all(rows.map((r) => viewOf(ctx.store.db, projectName, r)));
}

/**
 * `DELETE /v1/projects/{p}/lease-roles/{name}`: refused (SK_ERR_LEASE_STATE) while a lease of it
 * is live or a job of it unfinished — revoke them first, so no login outlives the role that
 * names its admin secret; then the role, its grants and its ended leases go.
 */
export async function deleteLeaseRole(ctx: VaultContext, caller: Caller, projectName: string, name: string): Promise<{ deleted: true }> {
  return writeTx(ctx, async (trx, audit) => {
    const { role, project } = await requireRole(trx, projectName, name);
    const live = await trx.selectFrom('leases').select('id').where('role_id', '=', role.id).where('state', 'in', [...LIVE_LEASE_STATES, 'revoking']).executeTakeFirst();
    // Jobs the lease's state still wants: a create or renew left claimed on an ended lease does not count.
    const job = await trx.selectFrom('lease_jobs').innerJoin('leases', 'leases.id', 'lease_jobs.lease_id').select('lease_jobs.id')
      .where('leases.role_id', '=', role.id).where('lease_jobs.state', 'in', ['pending', 'claimed']).where((eb) => jobStillWanted(eb)).executeTakeFirst();
    if (live || job) {
      throw new SikkerKeyError('SK_ERR_LEASE_STATE', `lease role ${projectName}/${name} still has live leases or unfinished jobs: revoke them (sikkerkey lease revoke ID) and let the agent drop the logins first`);
    }
    await trx.deleteFrom('lease_roles').where('id', '=', role.id).execute();
    await audit({ action: 'lease_role.deleted', projectId: project.id, target: `lease_role:${projectName}/${name}`, outcome: 'success', details: { roleId: role.id, engine: role.engine } }, caller);
    return { deleted: true as const };
  });
}

/** The admin secret's fields this agent machine may have, and its endpoint fields (no credential). */
export async function adminAndTarget(ctx: VaultContext, trx: Tx, machine: Caller, role: LeaseRoleRow): Promise<{ admin: Record<string, string>; target: Record<string, string>; adminName: string; version: number; projectId: string }> {
  const adminSecret = await secretById(trx, role.admin_secret_id);
  const access = await adminGrantOf(trx, machine.id, adminSecret);
  if (access === 'none') {
    throw new SikkerKeyError('SK_ERR_NO_GRANT', `the agent holds no grant on the admin secret ${adminSecret.project.name}/${adminSecret.name}: sikkerkey grant add ${machine.name} --project ${adminSecret.project.name} --secret ${adminSecret.name}`);
  }
  const read = await secretFields(ctx, trx, adminSecret);
  const admin = access === 'all' ? read.fields : Object.fromEntries(Object.entries(read.fields).filter(([k]) => access.has(k)));
  const { username: _u, password: _p, ...target } = admin;
  return { admin, target, adminName: `${adminSecret.project.name}/${adminSecret.name}`, version: read.version, projectId: adminSecret.project.id };
}

/** Whether `machine` is the agent of `role` (its machine, or a carrier of its label). */
export async function isRoleAgent(trx: Tx, machineId: string, role: Pick<LeaseRoleRow, 'agent_machine_id' | 'agent_label'>, labels?: readonly string[]): Promise<boolean> {
  if (role.agent_machine_id === machineId) return true;
  return role.agent_label !== null && (labels ?? await machineLabels(trx, machineId)).includes(role.agent_label);
}

/**
 * `POST /v1/agent/lease-roles`: the roles this agent machine serves, each with the admin secret's
 * fields (the agent lists logins with them) — a read of the admin secret, audited as one — and
 * the role's grant (a reconcile drop reassigns what a PostgreSQL login owned to its `memberOf`).
 */
export async function agentLeaseRoles(ctx: VaultContext, machine: Caller): Promise<{ roles: AgentLeaseRole[] }> {
  return writeTx(ctx, async (trx, audit) => {
    const labels = await machineLabels(trx, machine.id);
    const rows = await trx.selectFrom('lease_roles').innerJoin('projects', 'projects.id', 'lease_roles.project_id')
      .selectAll('lease_roles').select('projects.name as projectName')
      .where('projects.deleted_at', 'is', null)
      .where((eb) => eb.or([eb('lease_roles.agent_machine_id', '=', machine.id), ...(labels.length > 0 ? [eb('lease_roles.agent_label', 'in', labels)] : [])]))
      .orderBy('lease_roles.created_at').execute();
    const prefix = loginPrefix(await vaultId6(ctx, trx));
    const roles: AgentLeaseRole[] = [];
    for (const r of rows) {
      let fields;
      try {
        fields = await adminAndTarget(ctx, trx, machine, r);
      } catch (err) {
        // A role whose admin secret this agent may not read is left out (its claims say why).
        if (isSikkerKeyError(err, 'SK_ERR_NO_GRANT')) continue;
        throw err;
      }
      await audit({
        action: 'secret.read', projectId: fields.projectId, target: `secret:${fields.adminName}`, outcome: 'success',
        details: { version: fields.version, fields: Object.keys(fields.admin).sort(), via: 'lease.reconcile', roleId: r.id },
      }, machine);
      // the grant (a role name, ACL rules, a role list; no secret): a reconcile drop reassigns to its memberOf
      roles.push({ roleId: r.id, project: r.projectName, role: r.name, engine: r.engine, admin: fields.admin, target: fields.target, prefix, grant: JSON.parse(r.grant_spec) as LeaseGrant });
    }
    return { roles };
  });
}
