/**
 * The expiry sweeper. Machines whose `expires_at` has passed are already refused on every request
 * (SK_ERR_MACHINE_EXPIRED, by the auth hook); the sweeper makes it visible and final:
 * 1. soft-disable: `active` / `pending_approval` machines past their expiry become `expired`
 *    (an extension brings such a machine back);
 * 2. hard delete: 30 days after its expiry the machine row goes, and with it (cascade) its key,
 *    grants and extension history. Audit events reference nothing, so the trail stays.
 *    Not while a lease role names the machine as its agent: the delete would null the role's
 *    agent (ON DELETE SET NULL) and nobody would mint or drop that role's logins any more, without
 *    a word — `machine remove` refuses the same machine (SK_ERR_IN_USE). The sweeper keeps it,
 *    logs a warning and records `machine.delete_held` once (a webhook event); once an operator
 *    names another agent, the next sweep deletes it.
 *
 * One sweep at a time across vault processes: a lease row in `sweeper_leases`, taken with one
 * `INSERT … ON CONFLICT DO UPDATE … WHERE lease_until <= now` (no read-then-write race on either
 * dialect). A sweep that finds the lease held by another process does nothing.
 *
 * @example
 *   const r = await sweepMachines(ctx); // { ran: true, expired: 2, deleted: 1 }
 *   startMachineSweeper(app, ctx);      // every minute while the server runs
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { writeTx } from '../../context.js';
import type { VaultContext } from '../../context.js';
import { forUpdate } from '../../store/locks.js';
import { revokeLeasesWhere } from '../leases/leases-service.js';
import { leaseRolesNamingMachine } from './machines-service.js';
import { startPeriodic } from '../../periodic.js';

export const HARD_DELETE_AFTER_MS = 30 * 24 * 3_600_000;
export const SWEEPER_LEASE_NAME = 'machine-expiry';
/** The audit action (and webhook event) of a hard delete the sweeper keeps back for a lease role. */
export const DELETE_HELD_ACTION = 'machine.delete_held';
const DEFAULT_LEASE_MS = 5 * 60_000;
const DEFAULT_BATCH = 500;

export interface SweepResult {
  /** False when another process held the lease (nothing was done). */
  ran: boolean;
  expired: number;
  deleted: number;
  /** Machines past their hard-delete time kept because a lease role names them as its agent. */
  held: number;
}

export interface SweepOptions {
  /** Who holds the lease (default: one id per process). */
  holder?: string;
  leaseMs?: number;
  /** Most machines handled per step and sweep (the next sweep takes the rest). */
  batch?: number;
}

const PROCESS_HOLDER = `sweeper-${randomUUID()}`;
/** Held machines this process has warned about: a warning per machine and process, not one a minute. */
const warnedHeld = new Set<string>();

/** Takes (or renews) the named lease for `holder`; true when this holder has it now. */
export async function acquireLease(ctx: VaultContext, name: string, holder: string, leaseMs: number): Promise<boolean> {
  const now = ctx.now();
  const res = await ctx.store.db.insertInto('sweeper_leases').values({ name, holder, lease_until: now + leaseMs })
    .onConflict((oc) => oc.column('name').doUpdateSet({ holder, lease_until: now + leaseMs })
      .where((eb) => eb.or([eb('sweeper_leases.lease_until', '<=', now), eb('sweeper_leases.holder', '=', holder)])))
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function releaseLease(ctx: VaultContext, name: string, holder: string): Promise<void> {
  await ctx.store.db.updateTable('sweeper_leases').set({ lease_until: ctx.now() }).where('name', '=', name).where('holder', '=', holder).execute();
}

/** One sweep (see the file comment); tests call it directly with an injected clock. */
export async function sweepMachines(ctx: VaultContext, opts: SweepOptions = {}): Promise<SweepResult> {
  const holder = opts.holder ?? PROCESS_HOLDER;
  const batch = opts.batch ?? DEFAULT_BATCH;
  if (!(await acquireLease(ctx, SWEEPER_LEASE_NAME, holder, opts.leaseMs ?? DEFAULT_LEASE_MS))) return { ran: false, expired: 0, deleted: 0, held: 0 };
  const result: SweepResult = { ran: true, expired: 0, deleted: 0, held: 0 };
  try {
    const now = ctx.now();
    const due = await ctx.store.db.selectFrom('machines').select('id')
      .where('status', 'in', ['active', 'pending_approval']).where('expires_at', '<=', now).limit(batch).execute();
    for (const { id } of due) {
      await writeTx(ctx, async (trx, audit) => {
        // Re-read under the row lock: an extension may have landed since the scan.
        const m = await forUpdate(ctx.store.dialect, trx.selectFrom('machines').select(['id', 'name', 'status', 'expires_at'])
          .where('id', '=', id).where('status', 'in', ['active', 'pending_approval']).where('expires_at', '<=', now)).executeTakeFirst();
        if (!m) return;
        await trx.updateTable('machines').set({ status: 'expired' }).where('id', '=', m.id).execute();
        await audit({
          action: 'machine.expire', actorKind: 'system', actorId: null, target: `machine:${m.name}`, outcome: 'success',
          details: { machineId: m.id, from: m.status, expiresAt: m.expires_at, hardDeleteAt: (m.expires_at ?? now) + HARD_DELETE_AFTER_MS },
        });
        await revokeLeasesWhere(ctx, trx, audit, { machineId: m.id }, 'machine_expired');
        result.expired += 1;
      });
    }

    const deleteBefore = now - HARD_DELETE_AFTER_MS;
    // Held machines are left out of the scan, so that they never fill a batch and starve the rest.
    const old = await ctx.store.db.selectFrom('machines').select('id').where('expires_at', '<=', deleteBefore)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('lease_roles').select('lease_roles.id').whereRef('lease_roles.agent_machine_id', '=', 'machines.id'))))
      .limit(batch).execute();
    for (const { id } of old) {
      await writeTx(ctx, async (trx, audit) => {
        const m = await forUpdate(ctx.store.dialect, trx.selectFrom('machines').select(['id', 'name', 'key_id', 'status', 'expires_at', 'created_via', 'token_id'])
          .where('id', '=', id).where('expires_at', '<=', deleteBefore)).executeTakeFirst();
        if (!m) return;
        // A lease role may have named it since the scan: the held pass below reports it.
        if ((await leaseRolesNamingMachine(trx, m.id)).length > 0) return;
        const grants = await trx.selectFrom('grants').select((eb) => eb.fn.countAll<number>().as('n')).where('machine_id', '=', m.id).executeTakeFirst();
        // Grants and extension history go with the row (ON DELETE CASCADE); so does the key, which lives in it.
        await trx.deleteFrom('machines').where('id', '=', m.id).execute();
        await audit({
          action: 'machine.delete', actorKind: 'system', actorId: null, target: `machine:${m.name}`, outcome: 'success',
          details: {
            machineId: m.id, keyId: m.key_id, status: m.status, expiresAt: m.expires_at, createdVia: m.created_via,
            tokenId: m.token_id, grantsRemoved: Number(grants?.n ?? 0), reason: 'expired 30 days ago',
          },
        });
        result.deleted += 1;
      });
    }

    const held = await ctx.store.db.selectFrom('machines').select('id').where('expires_at', '<=', deleteBefore)
      .where((eb) => eb.exists(eb.selectFrom('lease_roles').select('lease_roles.id').whereRef('lease_roles.agent_machine_id', '=', 'machines.id')))
      .limit(batch).execute();
    for (const { id } of held) {
      if (await reportHeld(ctx, id)) result.held += 1;
    }
  } finally {
    await releaseLease(ctx, SWEEPER_LEASE_NAME, holder).catch(() => undefined);
  }
  if (result.expired > 0 || result.deleted > 0) ctx.log.info({ expired: result.expired, deleted: result.deleted }, 'machine expiry sweep');
  return result;
}

/**
 * A machine past its hard-delete time that a lease role still names as its agent: a warning (once
 * per process) and `machine.delete_held` (once per machine: the audit log is asked first, through
 * its action index). True when the machine is still held.
 */
async function reportHeld(ctx: VaultContext, id: string): Promise<boolean> {
  const m = await ctx.store.db.selectFrom('machines').select(['id', 'name', 'key_id', 'status', 'expires_at']).where('id', '=', id).executeTakeFirst();
  if (!m) return false;
  const roles = await leaseRolesNamingMachine(ctx.store.db, m.id);
  if (roles.length === 0) return false;
  const hardDeleteAt = (m.expires_at ?? 0) + HARD_DELETE_AFTER_MS;
  const what = `machine ${m.name} expired ${new Date(m.expires_at ?? 0).toISOString()} and is past its hard delete, but it is the agent of lease ${roles.length === 1 ? 'role' : 'roles'} ` +
    `${roles.map((r) => `${r.project}/${r.role}`).join(', ')}: kept, since deleting it would leave nobody to mint or drop their logins; ` +
    'name another agent (sikkerkey lease-role create PROJECT ROLE … --agent M or --agent-label L updates the role) and the next sweep deletes it';
  if (!warnedHeld.has(m.id)) {
    warnedHeld.add(m.id);
    ctx.log.warn({ machine: m.name, machineId: m.id, leaseRoles: roles, hardDeleteAt }, what);
  }
  const earlier = await ctx.store.db.selectFrom('audit_events').select('details')
    .where('action', '=', DELETE_HELD_ACTION).where('target', '=', `machine:${m.name}`).execute();
  if (earlier.some((e) => parseMachineId(e.details) === m.id)) return true;
  await writeTx(ctx, async (_trx, audit) => {
    await audit({
      action: DELETE_HELD_ACTION, actorKind: 'system', actorId: null, target: `machine:${m.name}`, outcome: 'success',
      details: { machineId: m.id, keyId: m.key_id, status: m.status, expiresAt: m.expires_at, hardDeleteAt, leaseRoles: roles, reason: 'the agent of a lease role' },
    });
  });
  return true;
}

function parseMachineId(details: string): unknown {
  try {
    return (JSON.parse(details) as { machineId?: unknown }).machineId;
  } catch {
    return undefined;
  }
}

/**
 * Runs a sweep every `everyMs` (default a minute) while the server runs: the timer is unref'd
 * (it never keeps the process alive) and stopped when the app closes. A failed sweep is logged
 * and retried on the next tick.
 */
export function startMachineSweeper(app: FastifyInstance, ctx: VaultContext, everyMs = 60_000): void {
  startPeriodic(app, ctx, { what: 'machine expiry sweep', everyMs, run: () => sweepMachines(ctx) });
}
