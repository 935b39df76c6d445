import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Caller } from '../../http/authenticate.js';
import { writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import { requireProject } from '../projects/projects-service.js';
import { requireMachine } from '../machines/machines-service.js';
import { requireRole } from '../leases/lease-roles-service.js';
import { revokeLeasesWhere } from '../leases/leases-service.js';

export interface GrantView {
  id: string;
  /** The machine's name; null for a label grant. */
  machine: string | null;
  /** A label grant: every active machine with this label holds it. */
  label?: string;
  project: string;
  secret: string | null;
  fields: string[] | null;
  /** A grant on a lease role (docs/leases.md): the machine may lease logins of it. */
  leaseRole?: string;
  createdAt: number;
}

/**
 * Grants a machine a project, one secret of it, or chosen fields of one structured secret.
 * Granting the same scope again replaces its field list (audited like any change).
 */
export async function addGrant(ctx: VaultContext, caller: Caller, req: { machine?: string; label?: string; project: string; secret?: string; fields?: string[]; leaseRole?: string }): Promise<GrantView> {
  if (req.leaseRole !== undefined) return addLeaseGrant(ctx, caller, req);
  if (req.fields && !req.secret) throw new SikkerKeyError('SK_ERR_VALIDATION', '--fields needs --secret: field grants belong to one structured secret');
  if ((req.machine === undefined) === (req.label === undefined)) throw new SikkerKeyError('SK_ERR_VALIDATION', 'a grant names either a machine or a label (--label), not both');
  if (req.label !== undefined) return addLabelGrant(ctx, caller, { ...req, label: req.label });
  const machineName = req.machine as string;
  return writeTx(ctx, async (trx, audit) => {
    const machine = await requireMachine(trx, machineName);
    const project = await requireProject(trx, req.project);
    let secretId: string | null = null;
    if (req.secret) {
      const s = await trx.selectFrom('secrets').select(['id', 'kind']).where('project_id', '=', project.id).where('name', '=', req.secret).where('deleted_at', 'is', null).executeTakeFirst();
      if (!s) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(req.secret)} in project ${JSON.stringify(req.project)}`);
      if (req.fields && s.kind === 'plain') throw new SikkerKeyError('SK_ERR_VALIDATION', `secret ${req.secret} is plain: it has no fields to grant`);
      secretId = s.id;
    }
    const fields = req.fields ? JSON.stringify([...new Set(req.fields)].sort()) : null;
    const existing = await trx.selectFrom('grants').select('id').where('machine_id', '=', machine.id).where('project_id', '=', project.id)
      .where((eb) => (secretId === null ? eb('secret_id', 'is', null) : eb('secret_id', '=', secretId))).executeTakeFirst();
    const id = existing?.id ?? randomUUID();
    const now = ctx.now();
    if (existing) {
      await trx.updateTable('grants').set({ fields }).where('id', '=', id).execute();
    } else {
      await trx.insertInto('grants').values({ id, machine_id: machine.id, project_id: project.id, secret_id: secretId, fields, created_at: now, created_by: `${caller.kind}:${caller.id}` }).execute();
    }
    await audit({
      action: existing ? 'grant.update' : 'grant.add', projectId: project.id, target: `machine:${machine.name}`, outcome: 'success',
      details: { machineId: machine.id, project: req.project, secret: req.secret ?? null, fields: req.fields ?? null },
    }, caller);
    return { id, machine: machine.name, project: req.project, secret: req.secret ?? null, fields: req.fields ?? null, createdAt: now };
  });
}

/** `grant add MACHINE --project P --lease-role R`: audited `grant.add` (target `machine:M`, details.leaseRole). */
async function addLeaseGrant(ctx: VaultContext, caller: Caller, req: { machine?: string; label?: string; project: string; secret?: string; fields?: string[]; leaseRole?: string }): Promise<GrantView> {
  if (req.machine === undefined || req.label !== undefined || req.secret !== undefined || req.fields !== undefined) {
    throw new SikkerKeyError('SK_ERR_VALIDATION', '--lease-role grants one machine (not a label) a lease role; it takes no --secret or --fields');
  }
  // Lease roles are operators' alone (docs/leases.md): an AI agent may not hand a machine database logins.
  if (caller.kind === 'ai_agent') throw new SikkerKeyError('SK_ERR_FORBIDDEN', 'AI agents may not grant lease roles; an operator (admin+) does');
  const machineName = req.machine;
  const roleName = req.leaseRole as string;
  return writeTx(ctx, async (trx, audit) => {
    const machine = await requireMachine(trx, machineName);
    const { role, project } = await requireRole(trx, req.project, roleName);
    const existing = await trx.selectFrom('lease_grants').select(['id', 'created_at']).where('machine_id', '=', machine.id).where('lease_role_id', '=', role.id).executeTakeFirst();
    const id = existing?.id ?? randomUUID();
    const now = ctx.now();
    if (!existing) {
      await trx.insertInto('lease_grants').values({ id, machine_id: machine.id, lease_role_id: role.id, created_at: now, created_by: `${caller.kind}:${caller.id}` }).execute();
      await audit({
        action: 'grant.add', projectId: project.id, target: `machine:${machine.name}`, outcome: 'success',
        details: { machineId: machine.id, project: req.project, leaseRole: roleName },
      }, caller);
    }
    return { id, machine: machine.name, project: req.project, secret: null, fields: null, leaseRole: roleName, createdAt: existing ? Number(existing.created_at) : now };
  });
}

/** The lease-role grants (machines only), filtered like machine grants. */
async function listLeaseGrants(ctx: VaultContext, filter: { machine?: string; project?: string }): Promise<GrantView[]> {
  let q = ctx.store.db.selectFrom('lease_grants')
    .innerJoin('machines', 'machines.id', 'lease_grants.machine_id')
    .innerJoin('lease_roles', 'lease_roles.id', 'lease_grants.lease_role_id')
    .innerJoin('projects', 'projects.id', 'lease_roles.project_id')
    .select(['lease_grants.id as id', 'machines.name as machine', 'projects.name as project', 'lease_roles.name as leaseRole', 'lease_grants.created_at as createdAt']);
  if (filter.machine) q = q.where((eb) => eb.or([eb('machines.name', '=', filter.machine!), eb('machines.id', '=', filter.machine!)]));
  if (filter.project) q = q.where('projects.name', '=', filter.project);
  const rows = await q.orderBy('machines.name').execute();
  return rows.map((r) => ({ ...r, secret: null, fields: null, createdAt: Number(r.createdAt) }));
}

/** The secret a grant names, checked as for a machine grant (fields only on a structured secret). */
async function grantedSecret(trx: Tx, project: { id: string }, req: { project: string; secret?: string; fields?: string[] }): Promise<string | null> {
  if (!req.secret) return null;
  const s = await trx.selectFrom('secrets').select(['id', 'kind']).where('project_id', '=', project.id).where('name', '=', req.secret).where('deleted_at', 'is', null).executeTakeFirst();
  if (!s) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(req.secret)} in project ${JSON.stringify(req.project)}`);
  if (req.fields && s.kind === 'plain') throw new SikkerKeyError('SK_ERR_VALIDATION', `secret ${req.secret} is plain: it has no fields to grant`);
  return s.id;
}

/** `grant add --label L`: audited `grant.add` / `grant.update` like a machine grant, target `label:L`. */
async function addLabelGrant(ctx: VaultContext, caller: Caller, req: { label: string; project: string; secret?: string; fields?: string[] }): Promise<GrantView> {
  return writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, req.project);
    const secretId = await grantedSecret(trx, project, req);
    const fields = req.fields ? JSON.stringify([...new Set(req.fields)].sort()) : null;
    const existing = await trx.selectFrom('label_grants').select('id').where('label', '=', req.label).where('project_id', '=', project.id)
      .where((eb) => (secretId === null ? eb('secret_id', 'is', null) : eb('secret_id', '=', secretId))).executeTakeFirst();
    const id = existing?.id ?? randomUUID();
    const now = ctx.now();
    if (existing) await trx.updateTable('label_grants').set({ fields }).where('id', '=', id).execute();
    else await trx.insertInto('label_grants').values({ id, label: req.label, project_id: project.id, secret_id: secretId, fields, created_at: now, created_by: `${caller.kind}:${caller.id}` }).execute();
    await audit({
      action: existing ? 'grant.update' : 'grant.add', projectId: project.id, target: `label:${req.label}`, outcome: 'success',
      details: { label: req.label, project: req.project, secret: req.secret ?? null, fields: req.fields ?? null },
    }, caller);
    return { id, machine: null, label: req.label, project: req.project, secret: req.secret ?? null, fields: req.fields ?? null, createdAt: now };
  });
}

export async function listGrants(ctx: VaultContext, filter: { machine?: string; project?: string; label?: string } = {}): Promise<GrantView[]> {
  const machineGrants = filter.label !== undefined ? [] : [...await listMachineGrants(ctx, filter), ...await listLeaseGrants(ctx, filter)];
  // A machine filter lists the label grants of that machine's labels too (it holds them while active).
  let labels: string[] | undefined;
  if (filter.label !== undefined) labels = [filter.label];
  else if (filter.machine !== undefined) {
    const m = await ctx.store.db.selectFrom('machines').select('labels').where((eb) => eb.or([eb('name', '=', filter.machine!), eb('id', '=', filter.machine!)])).executeTakeFirst();
    labels = m ? (JSON.parse(m.labels) as string[]) : [];
  }
  let q = ctx.store.db.selectFrom('label_grants').innerJoin('projects', 'projects.id', 'label_grants.project_id').leftJoin('secrets', 'secrets.id', 'label_grants.secret_id')
    .select(['label_grants.id as id', 'label_grants.label as label', 'projects.name as project', 'secrets.name as secret', 'label_grants.fields as fields', 'label_grants.created_at as createdAt']);
  if (labels !== undefined) {
    if (labels.length === 0) return machineGrants;
    q = q.where('label_grants.label', 'in', labels);
  }
  if (filter.project) q = q.where('projects.name', '=', filter.project);
  const rows = await q.orderBy('label_grants.label').execute();
  return [...machineGrants, ...rows.map((r) => ({ ...r, machine: null, secret: r.secret ?? null, fields: r.fields ? (JSON.parse(r.fields) as string[]) : null }))];
}

async function listMachineGrants(ctx: VaultContext, filter: { machine?: string; project?: string }): Promise<GrantView[]> {
  let q = ctx.store.db.selectFrom('grants')
    .innerJoin('machines', 'machines.id', 'grants.machine_id')
    .innerJoin('projects', 'projects.id', 'grants.project_id')
    .leftJoin('secrets', 'secrets.id', 'grants.secret_id')
    .select(['grants.id as id', 'machines.name as machine', 'projects.name as project', 'secrets.name as secret', 'grants.fields as fields', 'grants.created_at as createdAt']);
  if (filter.machine) q = q.where((eb) => eb.or([eb('machines.name', '=', filter.machine!), eb('machines.id', '=', filter.machine!)]));
  if (filter.project) q = q.where('projects.name', '=', filter.project);
  const rows = await q.orderBy('machines.name').execute();
  return rows.map((r) => ({ ...r, secret: r.secret ?? null, fields: r.fields ? (JSON.parse(r.fields) as string[]) : null }));
}

export async function removeGrant(ctx: VaultContext, caller: Caller, id: string): Promise<void> {
  await writeTx(ctx, async (trx, audit) => {
    const g = await trx.selectFrom('grants').select(['id', 'project_id', 'machine_id']).where('id', '=', id).executeTakeFirst();
    if (!g) {
      // A lease-role grant: removing it revokes the machine's leases of that role at once, in this transaction.
      const lease = await trx.selectFrom('lease_grants').innerJoin('lease_roles', 'lease_roles.id', 'lease_grants.lease_role_id')
        .select(['lease_grants.id as id', 'lease_grants.machine_id as machineId', 'lease_roles.id as roleId', 'lease_roles.project_id as projectId', 'lease_roles.name as role'])
        .where('lease_grants.id', '=', id).executeTakeFirst();
      if (lease) {
        await trx.deleteFrom('lease_grants').where('id', '=', id).execute();
        await audit({ action: 'grant.remove', projectId: lease.projectId, target: `grant:${id}`, outcome: 'success', details: { machineId: lease.machineId, leaseRole: lease.role } }, caller);
        await revokeLeasesWhere(ctx, trx, audit, { machineId: lease.machineId, roleId: lease.roleId }, 'grant_removed', caller);
        return;
      }
      const lg = await trx.selectFrom('label_grants').select(['id', 'project_id', 'label']).where('id', '=', id).executeTakeFirst();
      if (!lg) throw new SikkerKeyError('SK_ERR_NOT_FOUND', 'no such grant');
      await trx.deleteFrom('label_grants').where('id', '=', id).execute();
      await audit({ action: 'grant.remove', projectId: lg.project_id, target: `grant:${id}`, outcome: 'success', details: { label: lg.label } }, caller);
      return;
    }
    await trx.deleteFrom('grants').where('id', '=', id).execute();
    await audit({ action: 'grant.remove', projectId: g.project_id, target: `grant:${id}`, outcome: 'success', details: { machineId: g.machine_id } }, caller);
  });
}
