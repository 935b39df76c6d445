/**
 * Access policies (issue 24): named per project, bound to at most one secret each binding, and
 * enforced by every read of a bound secret (access-policy-enforce.ts). Every change is audited
 * (`policy.create|update|delete|bind|unbind`, `secret.cosign`).
 *
 * @example
 *   await createAccessPolicy(ctx, caller, 'shop', { name: 'office-hours', timeWindow: 'Mon-Fri 08:00-18:00 Europe/Oslo' });
 *   await bindAccessPolicy(ctx, caller, 'shop', 'db', 'office-hours');
 */
import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Caller } from '../../http/authenticate.js';
import { writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import type { Row } from '../../store/database.js';
import { requireProject } from '../projects/projects-service.js';
import type { ProjectRow } from '../projects/projects-service.js';
import { requireMachine } from '../machines/machines-service.js';
import { parseIpAllowlist } from '../machines/machine-constraints.js';
import { parseTimeWindow } from '../machines/machine-time-window.js';
import { DAY_MS, MINUTE_MS } from './access-policy-rules.js';

/** What create and update take: every axis optional; on update, `null` removes an axis and an absent key keeps it. */
export interface AccessPolicyInput {
  timeWindow?: string | null;
  ipAllowlist?: string[] | null;
  rateCap?: { maxReadsPerMinute?: number; maxReadsPerDay?: number } | null;
  coSign?: { windowSeconds: number; machine?: string } | null;
  ttl?: { expiresAt?: string; maxReads?: number } | null;
  rotateAfterReads?: number | null;
}

export interface AccessPolicyView {
  name: string;
  project: string;
  timeWindow: string | null;
  ipAllowlist: string[] | null;
  rateCap: { maxReadsPerMinute: number | null; maxReadsPerDay: number | null } | null;
  coSign: { windowSeconds: number; machine: string | null } | null;
  ttl: { expiresAt: string | null; maxReads: number | null } | null;
  rotateAfterReads: number | null;
  secrets: string[];
  createdAt: number;
  updatedAt: number;
}

/** `policy get`: the counters of every secret the policy is bound to, as of now. */
export interface AccessPolicyCounters {
  secret: string;
  readsServed: number;
  readsSinceRotation: number;
  readsLastMinute: number;
  readsLast24h: number;
  /** Pending co-signs (unused, not expired). */
  cosignsOpen: number;
  expired: boolean;
}

type PolicyRow = Row<'access_policies'>;
type Columns = Pick<PolicyRow, 'time_window' | 'ip_allowlist' | 'max_reads_per_minute' | 'max_reads_per_day' | 'cosign_window_ms' | 'cosign_machine_id' | 'expires_at' | 'max_reads' | 'rotate_after_reads'>;

const invalid = (message: string): SikkerKeyError => new SikkerKeyError('SK_ERR_VALIDATION', message);

/** Validates `input` into the columns it sets (only the keys it names). */
async function columnsOf(trx: Tx, input: AccessPolicyInput): Promise<Partial<Columns>> {
  const out: Partial<Columns> = {};
  if (input.timeWindow !== undefined) out.time_window = input.timeWindow === null ? null : parseTimeWindow(input.timeWindow).text;
  if (input.ipAllowlist !== undefined) out.ip_allowlist = input.ipAllowlist === null ? null : JSON.stringify(parseIpAllowlist(input.ipAllowlist, 'ipAllowlist').cidrs);
  if (input.rateCap !== undefined) {
    const r = input.rateCap;
    if (r !== null && r.maxReadsPerMinute === undefined && r.maxReadsPerDay === undefined) throw invalid('rateCap needs maxReadsPerMinute, maxReadsPerDay or both');
    out.max_reads_per_minute = r?.maxReadsPerMinute ?? null;
    out.max_reads_per_day = r?.maxReadsPerDay ?? null;
  }
  if (input.coSign !== undefined) {
    const c = input.coSign;
    out.cosign_window_ms = c === null ? null : c.windowSeconds * 1000;
    out.cosign_machine_id = c?.machine === undefined ? null : (await requireMachine(trx, c.machine)).id;
  }
  if (input.ttl !== undefined) {
    const t = input.ttl;
    if (t !== null && t.expiresAt === undefined && t.maxReads === undefined) throw invalid('ttl needs expiresAt, maxReads or both');
    let expiresAt: number | null = null;
    if (t?.expiresAt !== undefined) {
      expiresAt = Date.parse(t.expiresAt);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(t.expiresAt) || !Number.isFinite(expiresAt)) throw invalid(`ttl.expiresAt ${JSON.stringify(t.expiresAt.slice(0, 40))} is not an RFC 3339 time (e.g. 2030-01-31T18:00:00Z)`);
    }
    out.expires_at = expiresAt;
    out.max_reads = t?.maxReads ?? null;
  }
  if (input.rotateAfterReads !== undefined) out.rotate_after_reads = input.rotateAfterReads;
  return out;
}

async function findPolicy(trx: Tx, project: ProjectRow, name: string): Promise<PolicyRow> {
  const row = await trx.selectFrom('access_policies').selectAll().where('project_id', '=', project.id).where('name', '=', name).executeTakeFirst();
  if (!row) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no access policy ${JSON.stringify(name)} in project ${JSON.stringify(project.name)}`);
  return row;
}

async function findLiveSecret(trx: Tx, project: ProjectRow, name: string): Promise<{ id: string; policy_id: string | null }> {
  const s = await trx.selectFrom('secrets').select(['id', 'policy_id']).where('project_id', '=', project.id).where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst();
  if (!s) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(name)} in project ${JSON.stringify(project.name)}`);
  return s;
}

async function toView(trx: Tx, project: ProjectRow, row: PolicyRow): Promise<AccessPolicyView> {
  const secrets = await trx.selectFrom('secrets').select('name').where('policy_id', '=', row.id).where('deleted_at', 'is', null).orderBy('name').execute();
  const cosigner = row.cosign_machine_id === null ? null : (await trx.selectFrom('machines').select('name').where('id', '=', row.cosign_machine_id).executeTakeFirst())?.name ?? row.cosign_machine_id;
  return {
    name: row.name,
    project: project.name,
    timeWindow: row.time_window,
    ipAllowlist: row.ip_allowlist === null ? null : JSON.parse(row.ip_allowlist) as string[],
    rateCap: row.max_reads_per_minute === null && row.max_reads_per_day === null ? null : { maxReadsPerMinute: row.max_reads_per_minute, maxReadsPerDay: row.max_reads_per_day },
    coSign: row.cosign_window_ms === null ? null : { windowSeconds: Math.round(row.cosign_window_ms / 1000), machine: cosigner },
    ttl: row.expires_at === null && row.max_reads === null ? null : { expiresAt: row.expires_at === null ? null : new Date(row.expires_at).toISOString(), maxReads: row.max_reads },
    rotateAfterReads: row.rotate_after_reads,
    secrets: secrets.map((s) => s.name),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A policy as the audit event records it (no secret values exist in a policy). */
const auditShape = (v: AccessPolicyView): Record<string, unknown> => ({
  policy: v.name, timeWindow: v.timeWindow, ipAllowlist: v.ipAllowlist, rateCap: v.rateCap, coSign: v.coSign, ttl: v.ttl, rotateAfterReads: v.rotateAfterReads,
});

export async function createAccessPolicy(ctx: VaultContext, caller: Caller, projectName: string, input: AccessPolicyInput & { name: string }): Promise<AccessPolicyView> {
  return writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, projectName);
    const cols = await columnsOf(trx, input);
    const exists = await trx.selectFrom('access_policies').select('id').where('project_id', '=', project.id).where('name', '=', input.name).executeTakeFirst();
    if (exists) throw new SikkerKeyError('SK_ERR_CONFLICT', `access policy ${JSON.stringify(input.name)} exists in project ${JSON.stringify(projectName)}: use policy update`);
    const now = ctx.now();
    const row: PolicyRow = {
      id: randomUUID(), project_id: project.id, name: input.name, time_window: null, ip_allowlist: null, max_reads_per_minute: null, max_reads_per_day: null,
      cosign_window_ms: null, cosign_machine_id: null, expires_at: null, max_reads: null, rotate_after_reads: null, ...cols,
      created_at: now, updated_at: now, created_by: `${caller.kind}:${caller.id}`,
    };
    await trx.insertInto('access_policies').values(row).execute();
    const view = await toView(trx, project, row);
    await audit({ action: 'policy.create', projectId: project.id, target: `policy:${projectName}/${input.name}`, outcome: 'success', details: auditShape(view) }, caller);
    return view;
  });
}

export async function updateAccessPolicy(ctx: VaultContext, caller: Caller, projectName: string, name: string, input: AccessPolicyInput): Promise<AccessPolicyView> {
  return writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, projectName);
    const row = await findPolicy(trx, project, name);
    const cols = await columnsOf(trx, input);
    const now = ctx.now();
    await trx.updateTable('access_policies').set({ ...cols, updated_at: now }).where('id', '=', row.id).execute();
    const view = await toView(trx, project, { ...row, ...cols, updated_at: now });
    await audit({ action: 'policy.update', projectId: project.id, target: `policy:${projectName}/${name}`, outcome: 'success', details: { ...auditShape(view), changed: Object.keys(input) } }, caller);
    return view;
  });
}

export async function listAccessPolicies(ctx: VaultContext, projectName: string): Promise<AccessPolicyView[]> {
  const db = ctx.store.db;
  const project = await requireProject(db, projectName);
  const rows = await db.selectFrom('access_policies').selectAll().where('project_id', '=', project.id).orderBy('name').execute();
  const out: AccessPolicyView[] = [];
  for (const row of rows) out.push(await toView(db, project, row));
  return out;
}

export async function getAccessPolicy(ctx: VaultContext, projectName: string, name: string): Promise<{ policy: AccessPolicyView; counters: AccessPolicyCounters[] }> {
  const db = ctx.store.db;
  const project = await requireProject(db, projectName);
  const row = await findPolicy(db, project, name);
  const policy = await toView(db, project, row);
  const now = ctx.now();
  const bound = await db.selectFrom('secrets').leftJoin('access_policy_state', 'access_policy_state.secret_id', 'secrets.id')
    .select(['secrets.id as id', 'secrets.name as name', 'access_policy_state.reads_served as served', 'access_policy_state.reads_since_rotation as sinceRotation'])
    .where('secrets.policy_id', '=', row.id).where('secrets.deleted_at', 'is', null).orderBy('secrets.name').execute();
  const counters: AccessPolicyCounters[] = [];
  for (const s of bound) {
    const count = async (since: number): Promise<number> => Number((await db.selectFrom('access_policy_reads').select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('secret_id', '=', s.id).where('at', '>', since).executeTakeFirst())?.n ?? 0);
    const open = Number((await db.selectFrom('access_policy_cosigns').select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('secret_id', '=', s.id).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst())?.n ?? 0);
    const served = Number(s.served ?? 0);
    counters.push({
      secret: s.name, readsServed: served, readsSinceRotation: Number(s.sinceRotation ?? 0),
      readsLastMinute: await count(now - MINUTE_MS), readsLast24h: await count(now - DAY_MS), cosignsOpen: open,
      expired: (row.expires_at !== null && now >= row.expires_at) || (row.max_reads !== null && served >= row.max_reads),
    });
  }
  return { policy, counters };
}

/** Refused (409 SK_ERR_IN_USE) while any secret, in the trash or not, is bound to it. */
export async function deleteAccessPolicy(ctx: VaultContext, caller: Caller, projectName: string, name: string): Promise<{ removed: string }> {
  return writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, projectName);
    const row = await findPolicy(trx, project, name);
    const bound = await trx.selectFrom('secrets').select('name').where('policy_id', '=', row.id).orderBy('name').execute();
    if (bound.length > 0) {
      throw new SikkerKeyError('SK_ERR_IN_USE', `access policy ${JSON.stringify(name)} is bound to ${bound.map((b) => b.name).join(', ')}: unbind it first (policy unbind ${projectName} --secret NAME)`, { details: { secrets: bound.map((b) => b.name) } });
    }
    await trx.deleteFrom('access_policies').where('id', '=', row.id).execute();
    await audit({ action: 'policy.delete', projectId: project.id, target: `policy:${projectName}/${name}`, outcome: 'success', details: { policy: name } }, caller);
    return { removed: name };
  });
}

/**
 * Binds a policy to a secret of the same project (replacing any policy bound before). The
 * secret's counters start again from zero: they count reads under this binding.
 */
export async function bindAccessPolicy(ctx: VaultContext, caller: Caller, projectName: string, secretName: string, policyName: string): Promise<{ project: string; secret: string; policy: string; previous: string | null }> {
  return writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, projectName);
    const row = await findPolicy(trx, project, policyName);
    const secret = await findLiveSecret(trx, project, secretName);
    const previous = secret.policy_id === null ? null : (await trx.selectFrom('access_policies').select('name').where('id', '=', secret.policy_id).executeTakeFirst())?.name ?? null;
    const now = ctx.now();
    await trx.updateTable('secrets').set({ policy_id: row.id }).where('id', '=', secret.id).execute();
    await resetCounters(trx, secret.id, now);
    await audit({ action: 'policy.bind', projectId: project.id, target: `secret:${projectName}/${secretName}`, outcome: 'success', details: { policy: policyName, previous } }, caller);
    return { project: projectName, secret: secretName, policy: policyName, previous };
  });
}

/** Also for a secret in the trash: a policy bound to one could otherwise never be deleted. */
export async function unbindAccessPolicy(ctx: VaultContext, caller: Caller, projectName: string, secretName: string): Promise<{ project: string; secret: string; policy: string | null }> {
  return writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, projectName);
    const secret = await trx.selectFrom('secrets').select(['id', 'policy_id']).where('project_id', '=', project.id).where('name', '=', secretName).executeTakeFirst();
    if (!secret) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(secretName)} in project ${JSON.stringify(projectName)}`);
    if (secret.policy_id === null) return { project: projectName, secret: secretName, policy: null };
    const policy = (await trx.selectFrom('access_policies').select('name').where('id', '=', secret.policy_id).executeTakeFirst())?.name ?? null;
    await trx.updateTable('secrets').set({ policy_id: null }).where('id', '=', secret.id).execute();
    await trx.deleteFrom('access_policy_state').where('secret_id', '=', secret.id).execute();
    await trx.deleteFrom('access_policy_reads').where('secret_id', '=', secret.id).execute();
    await trx.deleteFrom('access_policy_cosigns').where('secret_id', '=', secret.id).execute();
    await audit({ action: 'policy.unbind', projectId: project.id, target: `secret:${projectName}/${secretName}`, outcome: 'success', details: { policy } }, caller);
    return { project: projectName, secret: secretName, policy };
  });
}

async function resetCounters(trx: Tx, secretId: string, now: number): Promise<void> {
  await trx.deleteFrom('access_policy_state').where('secret_id', '=', secretId).execute();
  await trx.deleteFrom('access_policy_reads').where('secret_id', '=', secretId).execute();
  await trx.insertInto('access_policy_state').values({ secret_id: secretId, bound_at: now }).execute();
}

/**
 * `POST /v1/projects/{p}/secrets/{s}/cosign` by a machine: approves one read of that secret by
 * `requester` within the policy's co-sign window. The co-signer needs no grant on the secret (it
 * approves, it reads nothing); it must be active, another machine than the requester, and the one
 * the policy names when it names one. The requester must be an active machine.
 */
export async function cosignRead(ctx: VaultContext, caller: Caller, projectName: string, secretName: string, requester: string): Promise<{ id: string; project: string; secret: string; machine: string; expiresAt: number }> {
  return writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, projectName);
    const secret = await findLiveSecret(trx, project, secretName);
    const policy = secret.policy_id === null ? undefined : await trx.selectFrom('access_policies').select(['name', 'cosign_window_ms', 'cosign_machine_id']).where('id', '=', secret.policy_id).executeTakeFirst();
    if (!policy || policy.cosign_window_ms === null) {
      throw new SikkerKeyError('SK_ERR_CONFLICT', `secret ${JSON.stringify(secretName)} has no access policy that asks for a co-sign`);
    }
    const me = await trx.selectFrom('machines').select(['status']).where('id', '=', caller.id).executeTakeFirst();
    if (me?.status !== 'active') throw new SikkerKeyError('SK_ERR_MACHINE_DISABLED', 'a co-signing machine must be active');
    if (policy.cosign_machine_id !== null && policy.cosign_machine_id !== caller.id) {
      throw new SikkerKeyError('SK_ERR_FORBIDDEN', `access policy ${policy.name} names another machine as its co-signer`);
    }
    const reader = await requireMachine(trx, requester);
    if (reader.id === caller.id) throw new SikkerKeyError('SK_ERR_FORBIDDEN', 'a machine cannot co-sign its own read: two-person integrity needs a second machine');
    if (reader.status !== 'active') throw new SikkerKeyError('SK_ERR_CONFLICT', `machine ${reader.name} is ${reader.status}: only an active machine's read can be co-signed`);
    const now = ctx.now();
    const id = randomUUID();
    const expiresAt = now + policy.cosign_window_ms;
    await trx.insertInto('access_policy_cosigns').values({ id, secret_id: secret.id, requester_machine_id: reader.id, cosigner_machine_id: caller.id, created_at: now, expires_at: expiresAt, used_at: null }).execute();
    // Used and expired co-signs of this secret are no longer needed.
    await trx.deleteFrom('access_policy_cosigns').where('secret_id', '=', secret.id).where('expires_at', '<=', now - DAY_MS).execute();
    await audit({ action: 'secret.cosign', projectId: project.id, target: `secret:${projectName}/${secretName}`, outcome: 'success', details: { cosignId: id, requester: reader.name, requesterId: reader.id, policy: policy.name, expiresAt } }, caller);
    return { id, project: projectName, secret: secretName, machine: reader.name, expiresAt };
  });
}
