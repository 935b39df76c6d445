import { randomUUID } from 'node:crypto';
import { SikkerKeyError, isSikkerKeyError } from '../../../protocol/errors.js';
import { keyIdFromPublicKey, parsePublicKey } from '../../../protocol/keys.js';
import type { Caller } from '../../http/authenticate.js';
import { auditDenied, writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import { forUpdate, isUniqueViolation } from '../../store/locks.js';
import { keyOwner } from '../../store/identity-keys.js';
import { throttledRecorder } from '../../store/throttled-recorder.js';
import { UNFINISHED_ROTATION_STATES } from '../../store/database.js';
import { pauseForRemovedMachine, policiesNamingMachine } from '../rotations/policy-agents.js';
import { revokeLeasesWhere } from '../leases/leases-service.js';
import { ENROLLMENT_MIN_LIFETIME_MS } from '../enrollment/enrollment-tokens.js';

export type MachineStatus = 'pending_approval' | 'active' | 'disabled' | 'expired';

export interface MachineView {
  id: string;
  name: string;
  keyId: string;
  labels: string[];
  status: MachineStatus;
  expiresAt: number | null;
  lastSeenAt: number | null;
  createdVia: string;
  createdAt: number;
}

interface MachineRow {
  id: string; name: string; key_id: string; labels: string; status: string; expires_at: number | null;
  last_seen_at: number | null; created_via: string; created_at: number;
}

const toView = (r: MachineRow): MachineView => ({
  id: r.id, name: r.name, keyId: r.key_id, labels: JSON.parse(r.labels) as string[], status: r.status as MachineStatus,
  expiresAt: r.expires_at, lastSeenAt: r.last_seen_at, createdVia: r.created_via, createdAt: r.created_at,
});

const MACHINE_COLUMNS = ['id', 'name', 'key_id', 'labels', 'status', 'expires_at', 'last_seen_at', 'created_via', 'created_at'] as const;

/** A machine by name or by id (the CLI accepts either). */
export async function requireMachine(trx: Tx, nameOrId: string): Promise<MachineView> {
  const row = await trx.selectFrom('machines').select(MACHINE_COLUMNS)
    .where((eb) => eb.or([eb('name', '=', nameOrId), eb('id', '=', nameOrId)])).executeTakeFirst();
  if (!row) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no machine named ${JSON.stringify(nameOrId)}`);
  return toView(row);
}

export async function addMachine(ctx: VaultContext, caller: Caller, req: {
  name: string; publicKey: string; labels?: string[]; expiresInMs?: number;
}): Promise<{ id: string; name: string; keyId: string }> {
  // As an enrolled machine's lifetime: `0s` read as "never expires" before, and `1ms` expired at once.
  if (req.expiresInMs !== undefined && req.expiresInMs < ENROLLMENT_MIN_LIFETIME_MS) {
    throw new SikkerKeyError('SK_ERR_VALIDATION', `expiresIn must be at least 1m (leave it out for a machine that does not expire)`);
  }
  const raw = parsePublicKey(req.publicKey);
  const keyId = keyIdFromPublicKey(raw);
  const id = randomUUID();
  const now = ctx.now();
  try {
    await writeTx(ctx, async (trx, audit) => {
      const owner = await keyOwner(trx, keyId);
      // One key, one identity: an operator's key registered as a machine would let it read values.
      // (A machine's own key is left to the unique index.)
      if (owner && owner.kind !== 'machine') throw new SikkerKeyError('SK_ERR_CONFLICT', 'this public key already belongs to another identity');
      await trx.insertInto('machines').values({
        id, name: req.name, public_key: Buffer.from(raw), key_id: keyId, labels: JSON.stringify(req.labels ?? []),
        status: 'active', expires_at: req.expiresInMs !== undefined ? now + req.expiresInMs : null, ip_allowlist: null,
        country_allowlist: null, time_window: null, constraints: null, created_via: 'operator', created_by: caller.id,
        last_seen_at: null, disabled_at: null, created_at: now,
      }).execute();
      await audit({ action: 'machine.add', target: `machine:${req.name}`, outcome: 'success', details: { machineId: id, keyId, labels: req.labels ?? [] } }, caller);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new SikkerKeyError('SK_ERR_CONFLICT', `a machine with that name or key exists already`);
    throw err;
  }
  return { id, name: req.name, keyId };
}

export async function listMachines(ctx: VaultContext): Promise<MachineView[]> {
  const rows = await ctx.store.db.selectFrom('machines').select(MACHINE_COLUMNS).orderBy('name').execute();
  return rows.map(toView);
}

/**
 * `machine approve`, `enable` and `disable`. Approval and enabling stay two separate acts: a machine
 * disabled before it was ever approved (disabled while it waited for approval) is not enabled —
 * that would make it active with no one having approved it — but refused with
 * SK_ERR_MACHINE_NOT_APPROVED; `machine approve` then approves it and makes it active, recording
 * who approved it and when.
 */
export async function setMachineStatus(ctx: VaultContext, caller: Caller, nameOrId: string, status: 'active' | 'disabled', action: string): Promise<MachineView> {
  return writeTx(ctx, async (trx, audit) => {
    const m = await requireMachine(trx, nameOrId);
    // Asked of a disabled machine only: whether it still needs the approval it never had.
    const unapproved = m.status === 'disabled' && (action === 'machine.approve' || action === 'machine.enable')
      && await statusAfterRevival(trx, await lifecycleRow(ctx, trx, m.id, true)) === 'pending_approval';
    if (action === 'machine.approve' && m.status !== 'pending_approval' && m.status !== 'active' && !unapproved) {
      throw new SikkerKeyError('SK_ERR_CONFLICT', `machine ${m.name} is ${m.status}; only a machine waiting for approval can be approved`);
    }
    // Re-enabling (e.g. after a canary trip disabled it) is its own deliberate, audited act; a
    // pending machine is approved instead, an expired one is replaced.
    if (action === 'machine.enable' && m.status !== 'disabled' && m.status !== 'active') {
      throw new SikkerKeyError('SK_ERR_CONFLICT', `machine ${m.name} is ${m.status}; only a disabled machine can be enabled`);
    }
    if (action === 'machine.enable' && unapproved) {
      throw new SikkerKeyError('SK_ERR_MACHINE_NOT_APPROVED', `machine ${m.name} was disabled before it was ever approved; enabling does not approve it: run sikkerkey machine approve ${m.name}`);
    }
    const approving = action === 'machine.approve' && (m.status === 'pending_approval' || unapproved);
    await trx.updateTable('machines').set({
      status, disabled_at: status === 'disabled' ? ctx.now() : null,
      ...(approving ? { approved_at: ctx.now(), approved_by: `${caller.kind}:${caller.id}` } : {}),
    }).where('id', '=', m.id).execute();
    await audit({ action, target: `machine:${m.name}`, outcome: 'success', details: { machineId: m.id, from: m.status, to: status } }, caller);
    // A disabled machine loses its leased logins at once (docs/leases.md).
    if (status === 'disabled') await revokeLeasesWhere(ctx, trx, audit, { machineId: m.id }, 'machine_disabled', caller);
    return { ...m, status };
  });
}

export interface RemovedMachine {
  id: string;
  name: string;
  keyId: string;
  grantsRemoved: number;
  /** Policies that named it as their agent, now paused (`machine_removed`); only with `force`. */
  pausedPolicies: Array<{ project: string; secret: string }>;
  /**
   * Unfinished rotations it had claimed, or of the policies it was the agent of: left as they are,
   * for their lease, a new agent (`rotation set --agent`) or `rotation resolve`.
   */
  unfinishedRotations: Array<{ rotationId: string; project: string; secret: string; state: string }>;
}

/**
 * `machine remove`: the machine row goes, and with it (ON DELETE CASCADE) its key, its grants and
 * its extension history; the audit log keeps its trail. Refused with SK_ERR_IN_USE while a rotation
 * policy names it as its agent, unless `force`: then those policies are paused
 * (`paused_reason = machine_removed`) in the same transaction.
 *
 * Unfinished rotations are not touched: the machine can no longer authenticate, so a lease it held
 * lapses and the job waits — unclaimable while its policy has no agent — for a new agent
 * (`rotation set --agent`) or `rotation resolve`; the vault never discards a claimed pending value
 * on its own. A policy that names its agents by label is not the machine's: another may claim.
 */
export async function removeMachine(ctx: VaultContext, caller: Caller, nameOrId: string, req: { force?: boolean } = {}): Promise<RemovedMachine> {
  try {
    return await writeTx(ctx, async (trx, audit) => {
      const m = await lifecycleRow(ctx, trx, nameOrId, true);
      const full = await requireMachine(trx, m.id);
      const policies = await policiesNamingMachine(trx, m.id);
      if (policies.length > 0 && !req.force) {
        throw new SikkerKeyError('SK_ERR_IN_USE',
          `machine ${m.name} is the agent of ${policies.length} rotation ${policies.length === 1 ? 'policy' : 'policies'} (${policies.map((p) => `${p.project}/${p.secret}`).join(', ')}); ` +
          'name another agent with `rotation set`, or pass --force to pause them and remove the machine',
          { details: { policies: policies.map((p) => ({ project: p.project, secret: p.secret })) } });
      }
      // A lease role's named agent is the only one that drops its logins (and reconciles them): with
      // it gone, expired and revoked logins would stay in the database until an operator names
      // another. Not even --force: the operator names the new agent first.
      const leaseRoles = await leaseRolesNamingMachine(trx, m.id);
      if (leaseRoles.length > 0) {
        throw new SikkerKeyError('SK_ERR_IN_USE',
          `machine ${m.name} is the agent of ${leaseRoles.length} lease ${leaseRoles.length === 1 ? 'role' : 'roles'} (${leaseRoles.map((r) => `${r.project}/${r.role}`).join(', ')}), ` +
          'the only machine that drops their logins; name another agent first (sikkerkey lease-role create PROJECT ROLE … --agent M or --agent-label L updates the role), then remove this machine',
          { details: { leaseRoles } });
      }
      const now = ctx.now();
      await pauseForRemovedMachine(trx, audit, caller, { id: m.id, name: m.name }, policies, now);
      const unfinished = await trx.selectFrom('rotations')
        .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
        .innerJoin('projects', 'projects.id', 'secrets.project_id')
        .select(['rotations.id as rotationId', 'rotations.state as state', 'projects.name as project', 'secrets.name as secret'])
        .where('rotations.state', 'in', [...UNFINISHED_ROTATION_STATES])
        .where((eb) => eb.or([
          eb('rotations.claimed_by', '=', m.id),
          ...(policies.length > 0 ? [eb('rotations.policy_id', 'in', policies.map((p) => p.policyId))] : []),
        ])).execute();
      const grants = await trx.selectFrom('grants').select((eb) => eb.fn.countAll<number>().as('n')).where('machine_id', '=', m.id).executeTakeFirst();
      // Its leased logins end at once (docs/leases.md); the drop jobs outlive the machine's row.
      await revokeLeasesWhere(ctx, trx, audit, { machineId: m.id }, 'machine_removed', caller);
      // Grants and extension history go with the row (ON DELETE CASCADE); so does the key, which lives in it.
      await trx.deleteFrom('machines').where('id', '=', m.id).execute();
      const removed: RemovedMachine = {
        id: m.id, name: m.name, keyId: full.keyId, grantsRemoved: Number(grants?.n ?? 0),
        pausedPolicies: policies.map((p) => ({ project: p.project, secret: p.secret })),
        unfinishedRotations: unfinished.map((r) => ({ rotationId: r.rotationId, project: r.project, secret: r.secret, state: r.state })),
      };
      await audit({
        action: 'machine.remove', target: `machine:${m.name}`, outcome: 'success',
        details: {
          machineId: m.id, keyId: full.keyId, labels: full.labels, status: full.status, createdVia: full.createdVia, grantsRemoved: removed.grantsRemoved,
          force: Boolean(req.force), pausedPolicies: removed.pausedPolicies, unfinishedRotations: removed.unfinishedRotations.map((r) => r.rotationId),
        },
      }, caller);
      return removed;
    });
  } catch (err) {
    if (isSikkerKeyError(err, 'SK_ERR_IN_USE')) {
      await auditDenied(ctx, caller, {
        action: 'machine.remove', target: `machine:${nameOrId}`,
        details: { code: err.code, policies: err.details?.['policies'], ...(err.details?.['leaseRoles'] ? { leaseRoles: err.details['leaseRoles'] } : {}) },
      });
    }
    throw err;
  }
}

/** The lease roles that name the machine as their agent (a role served by label is not the machine's alone); the expiry sweeper asks too. */
export async function leaseRolesNamingMachine(trx: Tx, machineId: string): Promise<Array<{ project: string; role: string }>> {
  return trx.selectFrom('lease_roles').innerJoin('projects', 'projects.id', 'lease_roles.project_id')
    .select(['projects.name as project', 'lease_roles.name as role'])
    .where('lease_roles.agent_machine_id', '=', machineId).orderBy('projects.name').orderBy('lease_roles.name').execute();
}

/** `machine rename`: the same machine (id, key, grants, policies) under a new name. */
export async function renameMachine(ctx: VaultContext, caller: Caller, nameOrId: string, newName: string): Promise<MachineView> {
  try {
    return await writeTx(ctx, async (trx, audit) => {
      const m = await lifecycleRow(ctx, trx, nameOrId, true);
      if (m.name === newName) return requireMachine(trx, m.id);
      const taken = await trx.selectFrom('machines').select('id').where('name', '=', newName).executeTakeFirst();
      if (taken) throw new SikkerKeyError('SK_ERR_CONFLICT', `a machine named ${JSON.stringify(newName)} exists already`);
      await trx.updateTable('machines').set({ name: newName }).where('id', '=', m.id).execute();
      await audit({ action: 'machine.rename', target: `machine:${newName}`, outcome: 'success', details: { machineId: m.id, from: m.name, to: newName } }, caller);
      return requireMachine(trx, m.id);
    });
  } catch (err) {
    // Two renames to one name at once: the unique index decides.
    if (isUniqueViolation(err)) throw new SikkerKeyError('SK_ERR_CONFLICT', `a machine named ${JSON.stringify(newName)} exists already`);
    throw err;
  }
}

/** Liveness for `machine list` / `rotation status`: written at most once per interval per machine. */
export function lastSeenRecorder(ctx: VaultContext, intervalMs = 15_000): (machineId: string) => void {
  return throttledRecorder(ctx, intervalMs, 'last_seen_at',
    (machineId, now) => ctx.store.db.updateTable('machines').set({ last_seen_at: now }).where('id', '=', machineId).execute());
}

// -- lifecycle: extensions ----------------------------------------------------------------

export interface ExtensionView {
  id: string;
  previousExpiresAt: number | null;
  newExpiresAt: number | null;
  reason: string | null;
  actor: string;
  createdAt: number;
  revertedAt: number | null;
  revertedBy: string | null;
}

/** The columns extend/revert need; `lock`: the row is held (FOR UPDATE) so two extensions cannot interleave. */
async function lifecycleRow(ctx: VaultContext, trx: Tx, nameOrId: string, lock: boolean) {
  const q = trx.selectFrom('machines')
    .select(['id', 'name', 'status', 'expires_at', 'constraints', 'created_via', 'token_id', 'approved_at'])
    .where((eb) => eb.or([eb('name', '=', nameOrId), eb('id', '=', nameOrId)]));
  const row = await (lock ? forUpdate(ctx.store.dialect, q) : q).executeTakeFirst();
  if (!row) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no machine named ${JSON.stringify(nameOrId)}`);
  return row;
}

/** The `maxExpiresAt` bound of a machine's constraints (temp-bootstrap machines: 12 months after creation). */
function maxExpiresAtOf(constraints: string | null): number | undefined {
  if (constraints === null) return undefined;
  try {
    const v = (JSON.parse(constraints) as { maxExpiresAt?: unknown }).maxExpiresAt;
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The status an expired or disabled machine returns to when it may authenticate again (its expiry
 * moved into the future, or `machine enable`): `active`, unless it came from a token that needs
 * approval and was never approved.
 */
async function statusAfterRevival(trx: Tx, m: { created_via: string; token_id: string | null; approved_at: number | null }): Promise<MachineStatus> {
  if (m.approved_at !== null || m.token_id === null) return 'active';
  const table = m.created_via === 'bootstrap_token' ? 'bootstrap_tokens' : m.created_via === 'enrollment_token' ? 'enrollment_tokens' : undefined;
  if (!table) return 'active';
  const t = await trx.selectFrom(table).select(['requires_approval', 'created_by_kind']).where('id', '=', m.token_id).executeTakeFirst();
  // A token row that is gone cannot vouch for the machine: wait for an operator.
  return !t || t.requires_approval === 1 || t.created_by_kind === 'ai_agent' ? 'pending_approval' : 'active';
}

/**
 * Moves a machine's expiry later by `byMs` (from its current expiry, or from now when that has
 * passed) and records the change with its reason. A temp-bootstrap machine cannot be extended
 * past 12 months after its creation. An expired (soft-disabled) machine comes back.
 */
export async function extendMachine(ctx: VaultContext, caller: Caller, nameOrId: string, req: { byMs: number; reason: string }): Promise<MachineView & { extensionId: string }> {
  if (!Number.isSafeInteger(req.byMs) || req.byMs < 60_000) throw new SikkerKeyError('SK_ERR_VALIDATION', '--by must be at least 1m');
  return writeTx(ctx, async (trx, audit) => {
    const m = await lifecycleRow(ctx, trx, nameOrId, true);
    if (m.expires_at === null) throw new SikkerKeyError('SK_ERR_CONFLICT', `machine ${m.name} does not expire; there is nothing to extend`);
    if (m.status === 'disabled') throw new SikkerKeyError('SK_ERR_CONFLICT', `machine ${m.name} is disabled; extending it would not let it authenticate`);
    const now = ctx.now();
    const next = Math.max(m.expires_at, now) + req.byMs;
    const cap = maxExpiresAtOf(m.constraints);
    if (cap !== undefined && next > cap) {
      throw new SikkerKeyError('SK_ERR_VALIDATION', `machine ${m.name} is a temp-bootstrap machine: it cannot live past ${new Date(cap).toISOString()} (12 months after its creation)`);
    }
    const status: MachineStatus = m.status === 'expired' ? await statusAfterRevival(trx, m) : (m.status as MachineStatus);
    const extensionId = randomUUID();
    // created_at orders the history and picks what revert undoes, so it must be strictly increasing
    // per machine even when two extensions land in the same millisecond.
    const latest = await trx.selectFrom('machine_extensions').select((eb) => eb.fn.max('created_at').as('at')).where('machine_id', '=', m.id).executeTakeFirst();
    const createdAt = Math.max(now, Number(latest?.at ?? -1) + 1);
    await trx.updateTable('machines').set({ expires_at: next, status }).where('id', '=', m.id).execute();
    await trx.insertInto('machine_extensions').values({
      id: extensionId, machine_id: m.id, previous_expires_at: m.expires_at, new_expires_at: next, reason: req.reason,
      actor: `${caller.kind}:${caller.id}`, created_at: createdAt, reverted_at: null, reverted_by: null,
    }).execute();
    await audit({
      action: 'machine.extend', target: `machine:${m.name}`, outcome: 'success',
      details: { machineId: m.id, extensionId, previousExpiresAt: m.expires_at, newExpiresAt: next, reason: req.reason, from: m.status, to: status },
    }, caller);
    return { ...(await requireMachine(trx, m.id)), extensionId };
  });
}

/** Every extension of a machine, oldest first, reverted ones included. */
export async function machineExtensions(ctx: VaultContext, nameOrId: string): Promise<{ machine: string; expiresAt: number | null; extensions: ExtensionView[] }> {
  const m = await lifecycleRow(ctx, ctx.store.db, nameOrId, false);
  const rows = await ctx.store.db.selectFrom('machine_extensions').selectAll().where('machine_id', '=', m.id)
    .orderBy('created_at').orderBy('id').execute();
  return {
    machine: m.name, expiresAt: m.expires_at,
    extensions: rows.map((r) => ({
      id: r.id, previousExpiresAt: r.previous_expires_at, newExpiresAt: r.new_expires_at, reason: r.reason, actor: r.actor,
      createdAt: r.created_at, revertedAt: r.reverted_at, revertedBy: r.reverted_by,
    })),
  };
}

/** Undoes the last extension not yet reverted: the machine's expiry goes back to what it was. */
export async function revertExtension(ctx: VaultContext, caller: Caller, nameOrId: string, req: { reason?: string } = {}): Promise<MachineView & { revertedExtensionId: string }> {
  return writeTx(ctx, async (trx, audit) => {
    const m = await lifecycleRow(ctx, trx, nameOrId, true);
    const last = await trx.selectFrom('machine_extensions').selectAll().where('machine_id', '=', m.id).where('reverted_at', 'is', null)
      .orderBy('created_at', 'desc').orderBy('id', 'desc').executeTakeFirst();
    if (!last) throw new SikkerKeyError('SK_ERR_CONFLICT', `machine ${m.name} has no extension to revert`);
    const now = ctx.now();
    const restored = last.previous_expires_at;
    // Back to an expiry that has passed: soft-disabled at once, as the sweeper would.
    const status: MachineStatus = restored !== null && restored <= now && m.status !== 'disabled' ? 'expired' : (m.status as MachineStatus);
    await trx.updateTable('machines').set({ expires_at: restored, status }).where('id', '=', m.id).execute();
    // Expired by the revert: its leased logins end now, as the sweeper ends them at an expiry (it
    // only looks at machines still active, so it would never get to these).
    if (status === 'expired' && m.status !== 'expired') await revokeLeasesWhere(ctx, trx, audit, { machineId: m.id }, 'machine_expired', caller);
    await trx.updateTable('machine_extensions').set({ reverted_at: now, reverted_by: `${caller.kind}:${caller.id}` }).where('id', '=', last.id).execute();
    await audit({
      action: 'machine.revert_extension', target: `machine:${m.name}`, outcome: 'success',
      details: { machineId: m.id, extensionId: last.id, from: m.expires_at, to: restored, reason: req.reason ?? null, status },
    }, caller);
    return { ...(await requireMachine(trx, m.id)), revertedExtensionId: last.id };
  });
}
