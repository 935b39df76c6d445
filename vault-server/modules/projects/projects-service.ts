import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Caller } from '../../http/authenticate.js';
import { writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import { isUniqueViolation } from '../../store/locks.js';
import { storeCheckValue } from '../../vault-state.js';
import { rewrapLeasePasswords } from '../leases/leases-service.js';

export interface ProjectView {
  id: string;
  name: string;
  keyVersion: number;
  locked: boolean;
  lockedAt: number | null;
  lockedReason: string | null;
  createdAt: number;
  /** This project's own audit retention (`project set-audit-retention`), ms; null: the vault's. */
  auditRetentionMs: number | null;
  /** How long its events are kept now: the longer of its own and the vault's; null: forever (the vault prunes nothing). */
  effectiveAuditRetentionMs: number | null;
}

/** The longer of a project's and the vault's retention; null (forever) while the vault prunes nothing. */
export function effectiveAuditRetention(ctx: Pick<VaultContext, 'auditRetentionMs'>, projectMs: number | null): number | null {
  return ctx.auditRetentionMs === undefined ? null : Math.max(ctx.auditRetentionMs, projectMs ?? 0);
}

export interface ProjectRow {
  id: string;
  name: string;
  master_key_wrapped: Buffer;
  key_version: number;
  locked_at: number | null;
  locked_reason: string | null;
}

/** The project of that name, unless it is in the trash. */
export async function findProject(trx: Tx, name: string): Promise<ProjectRow | undefined> {
  return trx.selectFrom('projects').select(['id', 'name', 'master_key_wrapped', 'key_version', 'locked_at', 'locked_reason'])
    .where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst();
}

/** A unique-name conflict explained: the name may belong to a project in the trash. */
async function nameTaken(db: Tx, name: string): Promise<SikkerKeyError> {
  const trashed = await db.selectFrom('projects').select('id').where('name', '=', name).where('deleted_at', 'is not', null).executeTakeFirst();
  return new SikkerKeyError('SK_ERR_CONFLICT', trashed
    ? `a project named ${JSON.stringify(name)} is in the trash: restore it (project restore) or purge it (trash purge) first`
    : `a project named ${JSON.stringify(name)} exists already`);
}

export async function requireProject(trx: Tx, name: string): Promise<ProjectRow> {
  const p = await findProject(trx, name);
  if (!p) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no project named ${JSON.stringify(name)}`);
  return p;
}

export async function createProject(ctx: VaultContext, caller: Caller, name: string): Promise<ProjectView> {
  const id = randomUUID();
  const now = ctx.now();
  try {
    await writeTx(ctx, async (trx, audit) => {
      const { wrapped } = ctx.keyring.newProjectKey({ projectId: id, keyVersion: 1, storeCheck: await storeCheckValue(trx) });
      await trx.insertInto('projects').values({
        id, name, master_key_wrapped: wrapped, key_version: 1, locked_at: null, locked_reason: null, created_at: now,
      }).execute();
      await trx.insertInto('project_keys').values({ project_id: id, key_version: 1, wrapped, created_at: now }).execute();
      await audit({ action: 'project.create', projectId: id, target: `project:${name}`, outcome: 'success' }, caller);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw await nameTaken(ctx.store.db, name);
    throw err;
  }
  return { id, name, keyVersion: 1, locked: false, lockedAt: null, lockedReason: null, createdAt: now, auditRetentionMs: null, effectiveAuditRetentionMs: effectiveAuditRetention(ctx, null) };
}

export async function listProjects(ctx: VaultContext): Promise<ProjectView[]> {
  const rows = await ctx.store.db.selectFrom('projects')
    .select(['id', 'name', 'key_version', 'locked_at', 'locked_reason', 'created_at', 'audit_retention_ms']).where('deleted_at', 'is', null).orderBy('name').execute();
  return rows.map((r) => {
    const auditRetentionMs = r.audit_retention_ms === null ? null : Number(r.audit_retention_ms);
    return {
      id: r.id, name: r.name, keyVersion: r.key_version, locked: r.locked_at !== null,
      lockedAt: r.locked_at, lockedReason: r.locked_reason, createdAt: r.created_at,
      auditRetentionMs, effectiveAuditRetentionMs: effectiveAuditRetention(ctx, auditRetentionMs),
    };
  });
}

/**
 * A new project key version wraps every data key of the project again, in one transaction; the
 * old key version is then referenced by nothing and is removed. Values are never re-encrypted
 * (each version keeps its own data key), so the work is one small unwrap/wrap per version.
 */
export async function rotateProjectKey(ctx: VaultContext, caller: Caller, name: string): Promise<{ project: string; keyVersion: number; rewrapped: number }> {
  return writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, name);
    const keyVersion = project.key_version + 1;
    const { wrapped } = ctx.keyring.newProjectKey({ projectId: project.id, keyVersion, storeCheck: await storeCheckValue(trx) });
    await trx.insertInto('project_keys').values({ project_id: project.id, key_version: keyVersion, wrapped, created_at: ctx.now() }).execute();
    const oldKeys = new Map((await trx.selectFrom('project_keys').select(['key_version', 'wrapped'])
      .where('project_id', '=', project.id).execute()).map((k) => [k.key_version, k.wrapped]));
    const versions = await trx.selectFrom('secret_versions')
      .innerJoin('secrets', 'secrets.id', 'secret_versions.secret_id')
      .select(['secret_versions.id as id', 'secret_versions.secret_id as secretId', 'secret_versions.version as version',
        'secret_versions.wrapped_data_key as wrappedDataKey', 'secret_versions.project_key_version as keyVersion'])
      .where('secrets.project_id', '=', project.id).execute();
    for (const v of versions) {
      const fromWrapped = oldKeys.get(v.keyVersion);
      if (!fromWrapped) throw new SikkerKeyError('SK_ERR_DECRYPT_FAILED', `project key version ${v.keyVersion} is missing`);
      const rewrapped = ctx.keyring.rewrapDataKey({
        projectId: project.id, secretId: v.secretId, version: v.version, wrappedDataKey: v.wrappedDataKey,
        from: { keyVersion: v.keyVersion, wrappedProjectKey: fromWrapped },
        to: { keyVersion, wrappedProjectKey: wrapped },
      });
      await trx.updateTable('secret_versions').set({ wrapped_data_key: rewrapped, project_key_version: keyVersion }).where('id', '=', v.id).execute();
    }
    // Leased logins' passwords are sealed under the project key too (modules/leases).
    await rewrapLeasePasswords(ctx, trx, project.id, oldKeys, { keyVersion, wrappedProjectKey: wrapped });
    await trx.updateTable('projects').set({ master_key_wrapped: wrapped, key_version: keyVersion }).where('id', '=', project.id).execute();
    await trx.deleteFrom('project_keys').where('project_id', '=', project.id).where('key_version', '<', keyVersion).execute();
    await audit({ action: 'project.rotate_key', projectId: project.id, target: `project:${name}`, outcome: 'success', details: { keyVersion, rewrapped: versions.length } }, caller);
    return { project: name, keyVersion, rewrapped: versions.length };
  });
}

/** One project's view (not in the trash); SK_ERR_NOT_FOUND otherwise. */
export async function getProject(ctx: VaultContext, name: string): Promise<ProjectView> {
  const view = (await listProjects(ctx)).find((p) => p.name === name);
  if (!view) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no project named ${JSON.stringify(name)}`);
  return view;
}

export async function unlockProject(ctx: VaultContext, caller: Caller, name: string, reason: string): Promise<ProjectView> {
  await writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, name);
    await trx.updateTable('projects').set({ locked_at: null, locked_reason: null }).where('id', '=', project.id).execute();
    await audit({ action: 'project.unlock', projectId: project.id, target: `project:${name}`, outcome: 'success', details: { reason, wasLocked: project.locked_at !== null } }, caller);
  });
  const view = (await listProjects(ctx)).find((p) => p.name === name);
  if (!view) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no project named ${JSON.stringify(name)}`);
  return view;
}

export async function renameProject(ctx: VaultContext, caller: Caller, name: string, to: string): Promise<ProjectView> {
  try {
    await writeTx(ctx, async (trx, audit) => {
      const project = await requireProject(trx, name);
      await trx.updateTable('projects').set({ name: to }).where('id', '=', project.id).execute();
      await audit({ action: 'project.rename', projectId: project.id, target: `project:${to}`, outcome: 'success', details: { from: name, to } }, caller);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw await nameTaken(ctx.store.db, to);
    throw err;
  }
  const view = (await listProjects(ctx)).find((p) => p.name === to);
  if (!view) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no project named ${JSON.stringify(to)}`);
  return view;
}
