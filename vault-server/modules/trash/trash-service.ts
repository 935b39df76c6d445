/**
 * The trash: a deleted secret or project is hidden at once — reads answer 404 (the read lookups
 * skip rows with `deleted_at`), grants on it no longer apply, its rotation policies pause — but
 * nothing is gone until it is purged: by an owner (`trash purge`), or by the sweeper once it has
 * been in the trash longer than `serve --trash-days` (default 30).
 *
 * Purge deletes the rows for good: versions (ciphertexts and wrapped data keys), grants, policies,
 * rotations. On SQLite it runs with `secure_delete` on and then checkpoints the WAL, so the freed
 * pages are zeroed in the database file too. Backups taken before a purge still hold the wrapped
 * keys (README "Deleting things").
 *
 * A rotation already running when its secret is deleted (`--force`) finishes: its claims, reports
 * and confirm are recorded as usual, so the database and the vault agree on the credential when the
 * secret is restored. Its policy starts no new rotation while paused.
 *
 * @example
 *   await deleteSecret(ctx, caller, { project: 'shop', name: 'db', force: false });
 *   await restoreSecret(ctx, caller, { project: 'shop', name: 'db' });
 *   await purgeTrash(ctx, caller, { project: 'shop', name: 'db' });
 */
import { sql } from 'kysely';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Caller } from '../../http/authenticate.js';
import { writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import { UNFINISHED_ROTATION_STATES } from '../../store/database.js';
import { revokeLeasesWhere } from '../leases/leases-service.js';

export const DEFAULT_TRASH_DAYS = 30;
const DAY_MS = 24 * 3600_000;

export interface TrashItem {
  kind: 'project' | 'secret';
  project: string;
  /** The secret's name; null for a project. */
  name: string | null;
  isCanary: boolean;
  deletedAt: number;
  deletedBy: string | null;
  /** When the sweeper purges it. */
  purgeAt: number;
  /** A secret inside a deleted project: restoring the project brings it back with it. */
  inDeletedProject: boolean;
}

type AuditFn = Parameters<Parameters<typeof writeTx>[1]>[1];

async function projectRow(trx: Tx, name: string) {
  return trx.selectFrom('projects').select(['id', 'name', 'deleted_at']).where('name', '=', name).executeTakeFirst();
}

async function liveProject(trx: Tx, name: string): Promise<{ id: string; name: string }> {
  const p = await projectRow(trx, name);
  if (!p || p.deleted_at !== null) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no project named ${JSON.stringify(name)}${p ? ' (it is in the trash: trash list)' : ''}`);
  return p;
}

async function unfinishedRotation(trx: Tx, secretIds: readonly string[]): Promise<{ id: string; state: string; secret_id: string } | undefined> {
  if (secretIds.length === 0) return undefined;
  return trx.selectFrom('rotations').select(['id', 'state', 'secret_id']).where('secret_id', 'in', [...secretIds])
    .where('state', 'in', [...UNFINISHED_ROTATION_STATES]).executeTakeFirst();
}

/** Pauses the enabled policies of `secretIds` (and those using them as admin secret), marking why. */
async function pausePolicies(trx: Tx, audit: AuditFn, caller: Caller, secretIds: readonly string[], reason: 'secret_deleted' | 'project_deleted', projectId: string): Promise<number> {
  if (secretIds.length === 0) return 0;
  const policies = await trx.selectFrom('rotation_policies').select(['id', 'secret_id'])
    .where('enabled', '=', 1)
    .where((eb) => eb.or([eb('secret_id', 'in', [...secretIds]), eb('admin_secret_id', 'in', [...secretIds])])).execute();
  for (const p of policies) {
    await trx.updateTable('rotation_policies').set({ enabled: 0, paused_reason: reason }).where('id', '=', p.id).execute();
    await audit({ action: 'rotation.pause', projectId, target: `policy:${p.id}`, outcome: 'success', details: { policyId: p.id, reason } }, caller);
  }
  return policies.length;
}

/** Resumes exactly the policies a deletion paused, once neither their secret nor their admin secret is in the trash. */
async function resumePolicies(trx: Tx, audit: AuditFn, caller: Caller, reason: 'secret_deleted' | 'project_deleted', projectId: string): Promise<number> {
  const paused = await trx.selectFrom('rotation_policies').select(['id', 'secret_id', 'admin_secret_id']).where('paused_reason', '=', reason).execute();
  let resumed = 0;
  for (const p of paused) {
    const hidden = await trx.selectFrom('secrets').innerJoin('projects', 'projects.id', 'secrets.project_id').select('secrets.id')
      .where('secrets.id', 'in', [p.secret_id, p.admin_secret_id])
      .where((eb) => eb.or([eb('secrets.deleted_at', 'is not', null), eb('projects.deleted_at', 'is not', null)])).executeTakeFirst();
    if (hidden) continue;
    await trx.updateTable('rotation_policies').set({ enabled: 1, paused_reason: null }).where('id', '=', p.id).execute();
    await audit({ action: 'rotation.resume', projectId, target: `policy:${p.id}`, outcome: 'success', details: { policyId: p.id, reason } }, caller);
    resumed += 1;
  }
  return resumed;
}

/**
 * Moves a secret to the trash. Refused without `force` while a rotation of it is unfinished, or
 * while it is the admin secret of another secret's rotation policy or of a lease role; with
 * `force` those policies pause and those roles' live leases are revoked (their drops still run
 * with it) — a role whose admin secret is in the trash hands out no new lease until it is restored.
 */
export async function deleteSecret(ctx: VaultContext, caller: Caller, req: { project: string; name: string; force?: boolean; canary?: boolean }): Promise<{ project: string; name: string; deletedAt: number; pausedPolicies: number; revokedLeases: number }> {
  return writeTx(ctx, async (trx, audit) => {
    const project = await liveProject(trx, req.project);
    const secret = await trx.selectFrom('secrets').select(['id', 'is_canary', 'deleted_at']).where('project_id', '=', project.id).where('name', '=', req.name).executeTakeFirst();
    if (!secret || secret.deleted_at !== null) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(req.name)} in project ${JSON.stringify(req.project)}`);
    if (secret.is_canary === 1 && !req.canary) throw new SikkerKeyError('SK_ERR_FORBIDDEN', `${req.project}/${req.name} is a canary: an owner deletes it with \`sikkerkey canary delete\``);
    if (secret.is_canary !== 1 && req.canary) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no canary ${JSON.stringify(req.name)} in project ${JSON.stringify(req.project)}`);
    const running = await unfinishedRotation(trx, [secret.id]);
    if (running && !req.force) {
      throw new SikkerKeyError('SK_ERR_ROTATION_IN_PROGRESS', `a rotation of ${req.project}/${req.name} is unfinished (${running.id}, ${running.state}); wait for it, or --force (it still completes)`, { details: { rotationId: running.id } });
    }
    const usedBy = await trx.selectFrom('rotation_policies').innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id').select(['secrets.name as name'])
      .where('rotation_policies.admin_secret_id', '=', secret.id).where('rotation_policies.secret_id', '!=', secret.id).execute();
    if (usedBy.length > 0 && !req.force) {
      throw new SikkerKeyError('SK_ERR_IN_USE', `${req.project}/${req.name} is the admin secret of the rotation of ${usedBy.map((u) => u.name).join(', ')}; --force pauses those policies`,
        { details: { secrets: usedBy.map((u) => u.name) } });
    }
    const leaseRoles = await trx.selectFrom('lease_roles').select(['id', 'name']).where('admin_secret_id', '=', secret.id).execute();
    if (leaseRoles.length > 0 && !req.force) {
      throw new SikkerKeyError('SK_ERR_IN_USE', `${req.project}/${req.name} is the admin secret of lease ${leaseRoles.length === 1 ? 'role' : 'roles'} ${leaseRoles.map((r) => r.name).join(', ')}; --force revokes their leases and stops new ones until it is restored`,
        { details: { leaseRoles: leaseRoles.map((r) => r.name) } });
    }
    const now = ctx.now();
    await trx.updateTable('secrets').set({ deleted_at: now, deleted_by: `${caller.kind}:${caller.id}` }).where('id', '=', secret.id).execute();
    const pausedPolicies = await pausePolicies(trx, audit, caller, [secret.id], 'secret_deleted', project.id);
    let revokedLeases = 0;
    for (const role of leaseRoles) revokedLeases += await revokeLeasesWhere(ctx, trx, audit, { roleId: role.id }, 'admin_secret_deleted', caller);
    await audit({
      action: req.canary ? 'canary.delete' : 'secret.delete', projectId: project.id, target: `secret:${req.project}/${req.name}`, outcome: 'success',
      details: { secretId: secret.id, force: Boolean(req.force), pausedPolicies, revokedLeases, runningRotation: running?.id ?? null },
    }, caller);
    return { project: req.project, name: req.name, deletedAt: now, pausedPolicies, revokedLeases };
  });
}

export async function restoreSecret(ctx: VaultContext, caller: Caller, req: { project: string; name: string }): Promise<{ project: string; name: string; resumedPolicies: number }> {
  return writeTx(ctx, async (trx, audit) => {
    const project = await liveProject(trx, req.project);
    const secret = await trx.selectFrom('secrets').select(['id', 'is_canary', 'deleted_at']).where('project_id', '=', project.id).where('name', '=', req.name).executeTakeFirst();
    if (!secret || secret.deleted_at === null) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(req.name)} of project ${JSON.stringify(req.project)} is in the trash`);
    if (secret.is_canary === 1 && caller.role !== 'owner') throw new SikkerKeyError('SK_ERR_FORBIDDEN', 'only an owner restores a canary');
    await trx.updateTable('secrets').set({ deleted_at: null, deleted_by: null }).where('id', '=', secret.id).execute();
    const resumedPolicies = await resumePolicies(trx, audit, caller, 'secret_deleted', project.id);
    await audit({ action: 'secret.restore', projectId: project.id, target: `secret:${req.project}/${req.name}`, outcome: 'success', details: { secretId: secret.id, resumedPolicies } }, caller);
    return { project: req.project, name: req.name, resumedPolicies };
  });
}

/**
 * Moves a project to the trash: its reads answer 404 at once, its rotation policies pause (only
 * with `force`), and its live leases are revoked in the same transaction (`project_deleted`; the
 * agent drops the logins) — a restored project hands out new leases, never the old ones.
 */
export async function deleteProject(ctx: VaultContext, caller: Caller, req: { name: string; force?: boolean }): Promise<{ project: string; deletedAt: number; pausedPolicies: number; revokedLeases: number }> {
  return writeTx(ctx, async (trx, audit) => {
    const project = await liveProject(trx, req.name);
    const secretIds = (await trx.selectFrom('secrets').select('id').where('project_id', '=', project.id).execute()).map((s) => s.id);
    const policies = secretIds.length === 0 ? [] : await trx.selectFrom('rotation_policies').select('id')
      .where((eb) => eb.or([eb('secret_id', 'in', secretIds), eb('admin_secret_id', 'in', secretIds)])).execute();
    if (policies.length > 0 && !req.force) {
      throw new SikkerKeyError('SK_ERR_IN_USE', `project ${req.name} has ${policies.length} rotation ${policies.length === 1 ? 'policy' : 'policies'}; --force pauses them and deletes the project`,
        { details: { policies: policies.map((p) => p.id) } });
    }
    const running = await unfinishedRotation(trx, secretIds);
    if (running && !req.force) {
      throw new SikkerKeyError('SK_ERR_ROTATION_IN_PROGRESS', `a rotation in project ${req.name} is unfinished (${running.id}, ${running.state}); wait for it, or --force`, { details: { rotationId: running.id } });
    }
    const now = ctx.now();
    await trx.updateTable('projects').set({ deleted_at: now, deleted_by: `${caller.kind}:${caller.id}` }).where('id', '=', project.id).execute();
    const pausedPolicies = await pausePolicies(trx, audit, caller, secretIds, 'project_deleted', project.id);
    const revokedLeases = await revokeLeasesWhere(ctx, trx, audit, { projectId: project.id }, 'project_deleted', caller);
    await audit({ action: 'project.delete', projectId: project.id, target: `project:${req.name}`, outcome: 'success', details: { force: Boolean(req.force), secrets: secretIds.length, pausedPolicies, revokedLeases } }, caller);
    return { project: req.name, deletedAt: now, pausedPolicies, revokedLeases };
  });
}

export async function restoreProject(ctx: VaultContext, caller: Caller, name: string): Promise<{ project: string; resumedPolicies: number }> {
  return writeTx(ctx, async (trx, audit) => {
    const project = await projectRow(trx, name);
    if (!project || project.deleted_at === null) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no project named ${JSON.stringify(name)} is in the trash`);
    await trx.updateTable('projects').set({ deleted_at: null, deleted_by: null }).where('id', '=', project.id).execute();
    const resumedPolicies = await resumePolicies(trx, audit, caller, 'project_deleted', project.id);
    await audit({ action: 'project.restore', projectId: project.id, target: `project:${name}`, outcome: 'success', details: { resumedPolicies } }, caller);
    return { project: name, resumedPolicies };
  });
}

export async function listTrash(ctx: VaultContext, trashDays: number): Promise<TrashItem[]> {
  const keepMs = trashDays * DAY_MS;
  const projects = await ctx.store.db.selectFrom('projects').select(['name', 'deleted_at', 'deleted_by']).where('deleted_at', 'is not', null).execute();
  const secrets = await ctx.store.db.selectFrom('secrets').innerJoin('projects', 'projects.id', 'secrets.project_id')
    .select(['projects.name as project', 'projects.deleted_at as projectDeletedAt', 'secrets.name as name', 'secrets.is_canary as isCanary', 'secrets.deleted_at as deletedAt', 'secrets.deleted_by as deletedBy'])
    .where('secrets.deleted_at', 'is not', null).execute();
  const items: TrashItem[] = [
    ...projects.map((p) => ({ kind: 'project' as const, project: p.name, name: null, isCanary: false, deletedAt: Number(p.deleted_at), deletedBy: p.deleted_by, purgeAt: Number(p.deleted_at) + keepMs, inDeletedProject: false })),
    ...secrets.map((s) => ({ kind: 'secret' as const, project: s.project, name: s.name, isCanary: s.isCanary === 1, deletedAt: Number(s.deletedAt), deletedBy: s.deletedBy, purgeAt: Number(s.deletedAt) + keepMs, inDeletedProject: s.projectDeletedAt !== null })),
  ];
  return items.sort((a, b) => a.deletedAt - b.deletedAt);
}

/** What one purge removed. */
export interface PurgeResult {
  projects: string[];
  secrets: string[];
  /** Secret versions deleted (each with its wrapped data key). */
  versions: number;
  /** SQLite: the WAL was checkpointed into the database file and truncated afterwards. */
  checkpointed: boolean | null;
}

/**
 * Purges from the trash: one secret (`project` and `name`), one project (`project`), or
 * everything in it (neither). Owners only (the route says so). Refused while a rotation of a
 * purged secret is unfinished, or while a policy outside the purge uses one of them as its admin
 * secret.
 */
export async function purgeTrash(ctx: VaultContext, caller: Caller | undefined, req: { project?: string; name?: string; olderThan?: number }): Promise<PurgeResult> {
  const result = await writeTx(ctx, async (trx, audit) => {
    const targets = await purgeTargets(trx, req);
    return purgeRows(ctx, trx, audit, caller, targets);
  });
  return { ...result, checkpointed: result.versions > 0 || result.projects.length > 0 || result.secrets.length > 0 ? await checkpointAfterPurge(ctx) : null };
}

interface PurgeTargets {
  projects: Array<{ id: string; name: string }>;
  secrets: Array<{ id: string; name: string; projectId: string; project: string }>;
}

async function purgeTargets(trx: Tx, req: { project?: string; name?: string; olderThan?: number }): Promise<PurgeTargets> {
  if (req.name !== undefined && req.project === undefined) throw new SikkerKeyError('SK_ERR_VALIDATION', 'a secret to purge needs its project');
  let projects = trx.selectFrom('projects').select(['id', 'name']).where('deleted_at', 'is not', null);
  let secrets = trx.selectFrom('secrets').innerJoin('projects', 'projects.id', 'secrets.project_id')
    .select(['secrets.id as id', 'secrets.name as name', 'projects.id as projectId', 'projects.name as project']).where('secrets.deleted_at', 'is not', null);
  if (req.olderThan !== undefined) {
    projects = projects.where('deleted_at', '<=', req.olderThan);
    secrets = secrets.where('secrets.deleted_at', '<=', req.olderThan);
  }
  if (req.project !== undefined) {
    projects = projects.where('name', '=', req.project);
    secrets = secrets.where('projects.name', '=', req.project);
  }
  if (req.name !== undefined) {
    const one = await secrets.where('secrets.name', '=', req.name).execute();
    if (one.length === 0) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(req.name)} of project ${JSON.stringify(req.project)} is in the trash`);
    return { projects: [], secrets: one };
  }
  const t = { projects: await projects.execute(), secrets: await secrets.execute() };
  if (req.project !== undefined && t.projects.length === 0 && t.secrets.length === 0) {
    throw new SikkerKeyError('SK_ERR_NOT_FOUND', `nothing of project ${JSON.stringify(req.project)} is in the trash`);
  }
  return t;
}

async function purgeRows(ctx: VaultContext, trx: Tx, audit: AuditFn, caller: Caller | undefined, t: PurgeTargets): Promise<Omit<PurgeResult, 'checkpointed'>> {
  // Every secret that goes: those in the trash, and every secret of a purged project.
  const projectIds = t.projects.map((p) => p.id);
  const inProjects = projectIds.length === 0 ? [] : await trx.selectFrom('secrets').select(['id', 'name', 'project_id']).where('project_id', 'in', projectIds).execute();
  const secretIds = [...new Set([...t.secrets.map((s) => s.id), ...inProjects.map((s) => s.id)])];
  const running = await unfinishedRotation(trx, secretIds);
  if (running) {
    throw new SikkerKeyError('SK_ERR_ROTATION_IN_PROGRESS', `a rotation of a secret to purge is unfinished (${running.id}, ${running.state}); purge it once it has finished`, { details: { rotationId: running.id } });
  }
  if (secretIds.length > 0) {
    const outside = await trx.selectFrom('rotation_policies').select(['id', 'secret_id']).where('admin_secret_id', 'in', secretIds).execute();
    const foreign = outside.filter((p) => !secretIds.includes(p.secret_id));
    if (foreign.length > 0) {
      throw new SikkerKeyError('SK_ERR_IN_USE', `a secret to purge is the admin secret of ${foreign.length} other rotation ${foreign.length === 1 ? 'policy' : 'policies'}; change or delete those policies first`,
        { details: { policies: foreign.map((p) => p.id) } });
    }
  }
  if (secretIds.length > 0) {
    // A lease role names its admin secret; its logins are dropped with it, so the role goes first (docs/leases.md).
    const roles = await trx.selectFrom('lease_roles').select(['id', 'name']).where('admin_secret_id', 'in', secretIds).execute();
    if (roles.length > 0) {
      throw new SikkerKeyError('SK_ERR_IN_USE', `a secret to purge is the admin secret of ${roles.length} lease ${roles.length === 1 ? 'role' : 'roles'} (${roles.map((r) => r.name).join(', ')}); delete those lease roles first (sikkerkey lease-role delete)`,
        { details: { leaseRoles: roles.map((r) => r.name) } });
    }
  }
  const sqlite = ctx.store.dialect === 'sqlite';
  // SQLite zeroes the pages these deletes free (a connection setting, switched back off below).
  if (sqlite) await sql`pragma secure_delete = on`.execute(trx);
  let versions = 0;
  try {
    for (let i = 0; i < secretIds.length; i += 500) {
      const chunk = secretIds.slice(i, i + 500);
      await trx.deleteFrom('grants').where('secret_id', 'in', chunk).execute();
      await trx.deleteFrom('label_grants').where('secret_id', 'in', chunk).execute();
      for (const table of ['access_policy_state', 'access_policy_reads', 'access_policy_cosigns'] as const) await trx.deleteFrom(table).where('secret_id', 'in', chunk).execute();
      await trx.deleteFrom('rotations').where('secret_id', 'in', chunk).execute();
      await trx.deleteFrom('rotation_policies').where('secret_id', 'in', chunk).execute();
      const v = await trx.deleteFrom('secret_versions').where('secret_id', 'in', chunk).executeTakeFirst();
      versions += Number(v.numDeletedRows);
      await trx.deleteFrom('secrets').where('id', 'in', chunk).execute();
    }
    for (const p of t.projects) {
      await trx.deleteFrom('grants').where('project_id', '=', p.id).execute();
      await trx.deleteFrom('label_grants').where('project_id', '=', p.id).execute();
      await trx.deleteFrom('access_policies').where('project_id', '=', p.id).execute();
      await trx.deleteFrom('project_keys').where('project_id', '=', p.id).execute();
      await trx.deleteFrom('projects').where('id', '=', p.id).execute();
    }
  } finally {
    if (sqlite) await sql`pragma secure_delete = off`.execute(trx);
  }
  const secretNames = [...t.secrets.map((s) => `${s.project}/${s.name}`),
    ...inProjects.filter((s) => !t.secrets.some((x) => x.id === s.id)).map((s) => `${t.projects.find((p) => p.id === s.project_id)?.name ?? '?'}/${s.name}`)];
  const auditActor = caller ? {} : { actorKind: 'system' as const, actorId: null };
  for (const p of t.projects) {
    await audit({ ...auditActor, action: 'project.purge', projectId: p.id, target: `project:${p.name}`, outcome: 'success', details: { secrets: inProjects.filter((s) => s.project_id === p.id).length } }, caller);
  }
  for (const s of t.secrets) {
    if (projectIds.includes(s.projectId)) continue;
    await audit({ ...auditActor, action: 'secret.purge', projectId: s.projectId, target: `secret:${s.project}/${s.name}`, outcome: 'success', details: { secretId: s.id } }, caller);
  }
  return { projects: t.projects.map((p) => p.name), secrets: secretNames, versions };
}

/**
 * SQLite: copies the WAL (where the zeroed pages were written) into the database file and
 * truncates it, so no purged byte stays in either file. Busy readers can hold it off: retried a
 * few times, and reported.
 */
async function checkpointAfterPurge(ctx: VaultContext): Promise<boolean | null> {
  if (ctx.store.dialect !== 'sqlite') return null;
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await sql<{ busy: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(ctx.store.db);
    if (Number(r.rows[0]?.busy ?? 1) === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 50 * (attempt + 1)));
  }
  ctx.log.warn('the WAL checkpoint after a purge was held off by readers; the next checkpoint completes it');
  return false;
}

/** The sweeper's step: purges what has been in the trash longer than `trashDays`, one item at a time (a refusal skips that item). */
export async function purgeExpiredTrash(ctx: VaultContext, trashDays: number): Promise<{ purged: number; skipped: number }> {
  const olderThan = ctx.now() - trashDays * DAY_MS;
  const items = (await listTrash(ctx, trashDays)).filter((i) => i.deletedAt <= olderThan && !i.inDeletedProject);
  let purged = 0;
  let skipped = 0;
  for (const item of items) {
    try {
      await purgeTrash(ctx, undefined, { project: item.project, ...(item.name !== null ? { name: item.name } : {}), olderThan });
      purged += 1;
    } catch (err) {
      skipped += 1;
      ctx.log.warn({ project: item.project, name: item.name, err: err instanceof Error ? err.message : String(err) }, 'trash sweep skipped an item');
    }
  }
  if (purged > 0) ctx.log.info({ purged, skipped }, 'trash sweep');
  return { purged, skipped };
}
