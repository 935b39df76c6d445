/**
 * Leases (docs/leases.md): a machine asks for a login of a lease role; the vault writes the
 * intent — the lease row with its generated username and its encrypted password — and a create
 * job in the same transaction, so the login is in the store before it can exist in the database;
 * the agent creates it and confirms; the machine gets the fields once the lease is active.
 *
 *   creating ─confirm─► active ─revoke / grant removed / machine disabled / canary─► revoking ─drop─► revoked
 *      │                  └────────────────────── expiry sweeper ─────────────────► revoking ─drop─► expired
 *      └─ create failed ─► failed (a drop job removes whatever was half-made)
 *
 * Every transition is one transaction with its audit event; wake-ups fire after commit.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Lease, LeaseJobKind, LeaseState, LeaseSummary } from '../../../protocol/api-types.js';
import { generatePassword } from '../rotations/password-generator.js';
import type { Caller } from '../../http/authenticate.js';
import { afterCommit, auditDenied, writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import type { Row } from '../../store/database.js';
import { forUpdate, lockForUpdate } from '../../store/locks.js';
import { rotationEvents } from '../rotations/rotations-engine.js';
import type { WorkEvent } from '../rotations/rotations-engine.js';
import { assertMachineActive, decryptVersion } from '../secrets/secrets-service.js';
import type { AuditFn } from '../secrets/secrets-service.js';
import { readLookups } from '../secrets/read-lookups.js';
import { enforcePolicy } from '../access-policies/access-policy-enforce.js';
import { refusedAxis } from '../access-policies/access-policy-rules.js';
import { findProject } from '../projects/projects-service.js';
import { leaseLookups } from './lease-lookups.js';
import { countLive, insertJob, insertLease, moveLease, projectLockedAt } from './lease-statements.js';
import type { LeaseRoleRow } from './lease-roles-service.js';
import { DEFAULT_MACHINE_LEASES_PER_ROLE, LIVE_LEASE_STATES, loginName, requestedTtl, vaultId6 } from './lease-rules.js';

export type LeaseRow = Row<'leases'>;

/**
 * In-process wake-ups of the machines' lease long-polls, after commit: `'lease'` (lease id) when
 * a lease's state or expiry changed, `'job'` (job id) when a lease job ended.
 */
export const leaseEvents = new EventEmitter();
leaseEvents.setMaxListeners(0);

export const leaseNotFound = (): SikkerKeyError => new SikkerKeyError('SK_ERR_LEASE_NOT_FOUND', 'no such lease');

/** The password's AAD place: its own lease, version 1 (never a secret's id: those are bare uuids). */
const sealPlace = (leaseId: string): { secretId: string; version: number } => ({ secretId: `lease:${leaseId}`, version: 1 });

/** The lease's password, decrypted; `project` when the caller has read the project's key already. */
export async function leasePassword(ctx: VaultContext, trx: Tx, lease: LeaseRow, project?: { id: string; key_version: number; master_key_wrapped: Buffer }): Promise<string> {
  project ??= await trx.selectFrom('projects').select(['id', 'key_version', 'master_key_wrapped']).where('id', '=', lease.project_id).executeTakeFirstOrThrow();
  const place = sealPlace(lease.id);
  const plain = await decryptVersion(ctx, trx, project, place.secretId, {
    version: place.version, ciphertext: lease.password_ciphertext, wrapped_data_key: lease.password_wrapped_key, project_key_version: lease.project_key_version,
  });
  return plain.toString('utf8');
}

/** Rewraps the data keys of a project's lease passwords under a new project key (projects-service rotateProjectKey). */
export async function rewrapLeasePasswords(ctx: VaultContext, trx: Tx, projectId: string, oldKeys: ReadonlyMap<number, Buffer>, to: { keyVersion: number; wrappedProjectKey: Buffer }): Promise<number> {
  const rows = await trx.selectFrom('leases').select(['id', 'password_wrapped_key', 'project_key_version']).where('project_id', '=', projectId).execute();
  for (const r of rows) {
    const from = oldKeys.get(r.project_key_version);
    if (!from) throw new SikkerKeyError('SK_ERR_DECRYPT_FAILED', `project key version ${r.project_key_version} is missing`);
    const place = sealPlace(r.id);
    const rewrapped = ctx.keyring.rewrapDataKey({
      projectId, secretId: place.secretId, version: place.version, wrappedDataKey: r.password_wrapped_key,
      from: { keyVersion: r.project_key_version, wrappedProjectKey: from }, to,
    });
    await trx.updateTable('leases').set({ password_wrapped_key: rewrapped, project_key_version: to.keyVersion }).where('id', '=', r.id).execute();
  }
  return rows.length;
}

/** Queues a job of `kind` for `lease`; the role's agent polls wake after commit. */
export async function queueLeaseJob(ctx: VaultContext, trx: Tx, lease: Pick<LeaseRow, 'id' | 'role_id'>, kind: LeaseJobKind,
  extra: { renewTo?: number; notBefore?: number; role?: Pick<LeaseRoleRow, 'agent_machine_id' | 'agent_label'> } = {}): Promise<string> {
  const id = randomUUID();
  await insertJob(trx, {
    id, lease_id: lease.id, kind, state: 'pending', fence: 0, claimed_by: null, lease_until: null, attempts: 0,
    not_before: extra.notBefore ?? null, renew_to: extra.renewTo ?? null, error_code: null, error: null, created_at: ctx.now(), finished_at: null,
  });
  const role = extra.role ?? await trx.selectFrom('lease_roles').select(['agent_machine_id', 'agent_label']).where('id', '=', lease.role_id).executeTakeFirstOrThrow();
  const work: WorkEvent = { rotationId: id, agentMachineId: role.agent_machine_id, agentLabel: role.agent_label, notBefore: extra.notBefore ?? null };
  afterCommit(trx, () => rotationEvents.emit('work', work));
  return id;
}

export { moveLease };

export function emitLease(trx: Tx, leaseId: string): void {
  afterCommit(trx, () => leaseEvents.emit('lease', leaseId));
}

/**
 * The lease as the API shows it; `fields` only when asked (the owner, while active). `password`:
 * the lease's password when the caller holds it already (the request that generated it), so it is
 * not decrypted again.
 */
export async function leaseView(ctx: VaultContext, trx: Tx, lease: LeaseRow, opts: { fields?: boolean; password?: string } = {}): Promise<Lease> {
  const look = await leaseLookups(ctx, trx);
  const names = await look.names(lease.role_id);
  if (names === undefined) throw leaseNotFound();
  const base: Lease = { leaseId: lease.id, project: names.project, role: names.role, state: lease.state, expiresAt: Number(lease.expires_at), maxExpiresAt: Number(lease.max_expires_at) };
  if (!opts.fields || lease.state !== 'active') return base;
  // The admin secret's endpoint fields (host, port, database, tls…), never its credential.
  return { ...base, fields: { ...await look.endpoint(names.adminId), username: lease.username, password: opts.password ?? await leasePassword(ctx, trx, lease) } };
}

async function lockLease(ctx: VaultContext, trx: Tx, id: string): Promise<LeaseRow> {
  const row = await forUpdate(ctx.store.dialect, trx.selectFrom('leases').selectAll().where('id', '=', id)).executeTakeFirst();
  if (!row) throw leaseNotFound();
  return row;
}

/**
 * `POST /v1/projects/{p}/leases/{role}` by a machine: checks the machine (active), the project
 * (not locked), the lease grant, the admin secret's access policy (as a read of it would), the
 * role's `maxLeases` (409) and the machine's concurrent leases of the role (429); then commits
 * the intent and the create job in one transaction.
 */
export async function requestLease(ctx: VaultContext, caller: Caller, projectName: string, roleName: string, req: { ttl?: string }): Promise<{ lease: LeaseRow; password: string }> {
  try {
    return await writeTx(ctx, async (trx, audit) => {
      const view = await ctx.caches.view(trx);
      const look = await readLookups(ctx, trx, view);
      await assertMachineActive(look, caller);
      const leases = await leaseLookups(ctx, trx, view);
      const project = await look.project(projectName);
      const role = project ? await leases.role(project.id, roleName) : undefined;
      if (project === undefined || role === undefined || !await leases.granted(caller.id, role.id)) throw noLeaseGrant();
      // Shared lock on the project row, as reads take it: a canary trip in progress is waited for.
      if (await projectLockedAt(ctx, trx, project.id) !== null) throw new SikkerKeyError('SK_ERR_PROJECT_LOCKED', `project ${projectName} is locked; no leases until an operator unlocks it`);
      const admin = await leases.adminSecret(role.admin_secret_id);
      if (admin === undefined) throw new SikkerKeyError('SK_ERR_INTERNAL', `lease role ${projectName}/${roleName} names an admin secret that does not exist`);
      if (admin.deleted_at !== null) {
        throw new SikkerKeyError('SK_ERR_LEASE_STATE', `lease role ${projectName}/${roleName} hands out no leases while its admin secret is in the trash (an operator restores it with sikkerkey secret restore)`);
      }
      const target = `lease_role:${projectName}/${roleName}`;
      let policy: string | undefined;
      if (admin.policy_id !== null) policy = (await enforcePolicy(ctx, trx, audit, caller, { secretId: admin.id, projectId: project.id, target }, await look.policy(admin.policy_id))).policy;
      // Serialise requests of one role, so two cannot both take the last place.
      await lockForUpdate(ctx.store.dialect, trx.selectFrom('lease_roles').select('id').where('id', '=', role.id));
      const live = await countLive(trx, role.id, caller.id, role.max_leases !== null);
      if (role.max_leases !== null && live.role >= role.max_leases) {
        throw new SikkerKeyError('SK_ERR_LEASE_LIMIT', `lease role ${projectName}/${roleName} allows ${role.max_leases} live leases (--max-leases); all are taken`, { details: { limit: role.max_leases, scope: 'role' } });
      }
      const perMachine = role.max_leases_per_machine ?? DEFAULT_MACHINE_LEASES_PER_ROLE;
      if (live.machine >= perMachine) {
        throw new SikkerKeyError('SK_ERR_LEASE_LIMIT', `this machine holds ${perMachine} live leases of ${projectName}/${roleName} already (--max-leases-per-machine); revoke one or wait for one to end`,
          { status: 429, details: { limit: perMachine, scope: 'machine', retryAfter: 30 } });
      }
      return createIntent(ctx, trx, audit, caller, role, { id: project.id, name: projectName, key_version: project.key_version, master_key_wrapped: project.master_key_wrapped }, req.ttl, policy);
    }, { nonce: caller.nonce });
  } catch (err) {
    // Refusals are audited on their own (the request's transaction rolled back), as a read's are.
    if (err instanceof SikkerKeyError && (['SK_ERR_NO_GRANT', 'SK_ERR_PROJECT_LOCKED', 'SK_ERR_MACHINE_DISABLED', 'SK_ERR_MACHINE_EXPIRED', 'SK_ERR_LEASE_LIMIT'].includes(err.code) || refusedAxis(err) !== undefined)) {
      await auditDenied(ctx, caller, {
        action: 'lease.requested', projectId: (await findProject(ctx.store.db, projectName))?.id ?? null, target: `lease_role:${projectName}/${roleName}`,
        details: { code: (err as SikkerKeyError).code },
      });
    }
    throw err;
  }
}

const noLeaseGrant = (): SikkerKeyError => new SikkerKeyError('SK_ERR_NO_GRANT', 'this machine holds no grant on that lease role (sikkerkey grant add MACHINE --project P --lease-role R)');

async function createIntent(ctx: VaultContext, trx: Tx, audit: AuditFn, caller: Caller, role: LeaseRoleRow,
  project: { id: string; name: string; key_version: number; master_key_wrapped: Buffer }, ttl: string | undefined, policy: string | undefined): Promise<{ lease: LeaseRow; password: string }> {
  const now = ctx.now();
  const ttlMs = requestedTtl(ttl, role);
  const id = randomUUID();
  const username = loginName(await vaultId6(ctx, trx), role.name);
  const password = generatePassword({ length: 32, symbols: false });
  const place = sealPlace(id);
  const { ciphertext, wrappedDataKey } = ctx.keyring.encryptValue({
    projectId: project.id, keyVersion: project.key_version, wrappedProjectKey: project.master_key_wrapped,
    secretId: place.secretId, version: place.version, plaintext: Buffer.from(password, 'utf8'),
  });
  const row: LeaseRow = {
    id, role_id: role.id, project_id: project.id, machine_id: caller.id, username, password_ciphertext: ciphertext, password_wrapped_key: wrappedDataKey,
    project_key_version: project.key_version, state: 'creating', end_reason: null, created_at: now, active_at: null,
    expires_at: now + ttlMs, max_expires_at: now + Number(role.max_ttl_ms), ended_at: null,
  };
  await insertLease(trx, row);
  await queueLeaseJob(ctx, trx, row, 'create', { role });
  await audit({
    action: 'lease.requested', projectId: project.id, target: `lease_role:${project.name}/${role.name}`, outcome: 'success',
    details: { leaseId: id, username, expiresAt: row.expires_at, ...(policy ? { accessPolicy: policy } : {}) },
  }, caller);
  return { lease: row, password };
}

/** The lease, for its owning machine (an operator or another machine gets SK_ERR_LEASE_NOT_FOUND). */
export async function ownedLease(trx: Tx, caller: Caller, id: string): Promise<LeaseRow> {
  const row = await trx.selectFrom('leases').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || row.machine_id !== caller.id) throw leaseNotFound();
  return row;
}

/**
 * `GET /v1/leases/{id}` once the lease is no longer creating: the owner's view, with the login's
 * fields while it is active. Handing the password out again is a read of it, audited
 * `lease.read` in the same transaction, which also claims the request's nonce (as a read's does;
 * the first hand-out is `lease.created`'s).
 */
export async function readLease(ctx: VaultContext, caller: Caller, id: string): Promise<Lease> {
  return writeTx(ctx, async (trx, audit) => {
    const lease = await ownedLease(trx, caller, id);
    const view = await leaseView(ctx, trx, lease, { fields: true });
    if (view.fields !== undefined) {
      await audit({ action: 'lease.read', projectId: lease.project_id, target: `lease:${id}`, outcome: 'success', details: { leaseId: id, username: lease.username } }, caller);
    }
    return view;
  }, { nonce: caller.nonce });
}

/**
 * `POST /v1/leases/{id}/renew`: a new expiry of now + ttl (the role's by default), capped at
 * maxExpiresAt; SK_ERR_LEASE_MAX_TTL when the lease is at its cap already, SK_ERR_LEASE_STATE
 * unless active. PostgreSQL/Supabase logins carry VALID UNTIL: a renew job moves it and the new
 * expiry is the lease's only once the agent confirmed (`jobId` is then returned to wait on).
 */
export async function renewLease(ctx: VaultContext, caller: Caller, id: string, req: { ttl?: string }): Promise<{ lease: LeaseRow; jobId: string | null }> {
  return writeTx(ctx, async (trx, audit) => {
    await ownedLease(trx, caller, id);
    const lease = await lockLease(ctx, trx, id);
    if (lease.state !== 'active') throw new SikkerKeyError('SK_ERR_LEASE_STATE', `the lease is ${lease.state}; only an active lease can be renewed (lease anew)`);
    const role = await trx.selectFrom('lease_roles').selectAll().where('id', '=', lease.role_id).executeTakeFirstOrThrow();
    const now = ctx.now();
    if (Number(lease.expires_at) >= Number(lease.max_expires_at)) throw new SikkerKeyError('SK_ERR_LEASE_MAX_TTL', 'the lease is at its maximum lifetime (the role\'s --max-ttl); lease anew');
    const to = Math.min(now + requestedTtl(req.ttl, role), Number(lease.max_expires_at));
    if (role.engine === 'postgres' || role.engine === 'supabase') {
      await trx.updateTable('lease_jobs').set({ state: 'cancelled', finished_at: now, error: 'superseded by a newer renew' })
        .where('lease_id', '=', id).where('kind', '=', 'renew').where('state', '=', 'pending').execute();
      const jobId = await queueLeaseJob(ctx, trx, lease, 'renew', { renewTo: to });
      return { lease, jobId };
    }
    await trx.updateTable('leases').set({ expires_at: to }).where('id', '=', id).execute();
    await audit({ action: 'lease.renewed', projectId: lease.project_id, target: `lease:${id}`, outcome: 'success', details: { from: lease.expires_at, to } }, caller);
    emitLease(trx, id);
    return { lease: { ...lease, expires_at: to }, jobId: null };
  });
}

/**
 * Moves one live lease to `revoking` (or a creating one whose create job nobody claimed), cancels
 * its pending create/renew jobs and queues the drop job; audited `lease.revoked` (`lease.expired`
 * for the sweeper). Ended and already revoking leases are left as they are.
 */
export async function revokeLeaseInTx(ctx: VaultContext, trx: Tx, audit: AuditFn, lease: LeaseRow, reason: string, caller?: Caller): Promise<boolean> {
  if (lease.state !== 'creating' && lease.state !== 'active') return false;
  const now = ctx.now();
  if (!await moveLease(trx, lease.id, lease.state, { state: 'revoking', end_reason: reason })) return false;
  await trx.updateTable('lease_jobs').set({ state: 'cancelled', finished_at: now, error: `cancelled: the lease is revoking (${reason})` })
    .where('lease_id', '=', lease.id).where('kind', 'in', ['create', 'renew']).where('state', '=', 'pending').execute();
  await queueLeaseJob(ctx, trx, lease, 'drop');
  await audit({
    action: reason === 'expired' ? 'lease.expired' : 'lease.revoked', projectId: lease.project_id, target: `lease:${lease.id}`, outcome: 'success',
    details: { leaseId: lease.id, username: lease.username, machineId: lease.machine_id, reason, phase: 'requested', from: lease.state },
  }, caller);
  emitLease(trx, lease.id);
  return true;
}

/**
 * Revokes at once, in the caller's transaction, every live lease matching `where` — a grant
 * removed, a machine disabled or removed, a project locked by a canary trip. Returns how many.
 */
export async function revokeLeasesWhere(ctx: VaultContext, trx: Tx, audit: AuditFn, where: { machineId?: string; roleId?: string; projectId?: string }, reason: string, caller?: Caller): Promise<number> {
  let q = trx.selectFrom('leases').selectAll().where('state', 'in', [...LIVE_LEASE_STATES]);
  if (where.machineId !== undefined) q = q.where('machine_id', '=', where.machineId);
  if (where.roleId !== undefined) q = q.where('role_id', '=', where.roleId);
  if (where.projectId !== undefined) q = q.where('project_id', '=', where.projectId);
  let n = 0;
  for (const lease of await q.execute()) if (await revokeLeaseInTx(ctx, trx, audit, lease, reason, caller)) n += 1;
  return n;
}

/** `POST /v1/leases/{id}/revoke`: by its owning machine, or an operator (admin+). */
export async function revokeLease(ctx: VaultContext, caller: Caller, id: string): Promise<Lease> {
  return writeTx(ctx, async (trx, audit) => {
    if (caller.kind === 'machine') await ownedLease(trx, caller, id);
    const lease = await lockLease(ctx, trx, id);
    await revokeLeaseInTx(ctx, trx, audit, lease, caller.kind === 'machine' ? 'owner' : 'operator', caller);
    return leaseView(ctx, trx, await trx.selectFrom('leases').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
  });
}

/** `GET /v1/leases` (operators): never values. */
export async function listLeases(ctx: VaultContext, filter: { project?: string; role?: string; machine?: string; state?: string }): Promise<LeaseSummary[]> {
  let q = ctx.store.db.selectFrom('leases')
    .innerJoin('lease_roles', 'lease_roles.id', 'leases.role_id')
    .innerJoin('projects', 'projects.id', 'leases.project_id')
    .leftJoin('machines', 'machines.id', 'leases.machine_id')
    .select(['leases.id as leaseId', 'projects.name as project', 'lease_roles.name as role', 'machines.name as machine', 'leases.machine_id as machineId',
      'leases.username as username', 'leases.state as state', 'leases.created_at as createdAt', 'leases.expires_at as expiresAt',
      'leases.max_expires_at as maxExpiresAt', 'leases.ended_at as endedAt']);
  if (filter.project !== undefined) q = q.where('projects.name', '=', filter.project);
  if (filter.role !== undefined) q = q.where('lease_roles.name', '=', filter.role);
  if (filter.machine !== undefined) q = q.where((eb) => eb.or([eb('machines.name', '=', filter.machine!), eb('leases.machine_id', '=', filter.machine!)]));
  if (filter.state !== undefined) q = q.where('leases.state', '=', filter.state as LeaseState);
  const rows = await q.orderBy('leases.created_at', 'desc').limit(1000).execute();
  return rows.map((r) => ({
    leaseId: r.leaseId, project: r.project, role: r.role, machine: r.machine ?? r.machineId, username: r.username, state: r.state,
    createdAt: Number(r.createdAt), expiresAt: Number(r.expiresAt), maxExpiresAt: Number(r.maxExpiresAt), endedAt: r.endedAt === null ? null : Number(r.endedAt),
  }));
}
