/**
 * The expiry sweeper. Machines whose `expires_at` has passed are already refused on every request
 * (SK_ERR_MACHINE_EXPIRED, by the auth hook); the sweeper makes it visible and final:
 * 1. soft-disable: `active` / `pending_approval` machines past their expiry become `expired`
 *    (an extension brings such a machine back);
 * 2. hard delete: 30 days after its expiry the machine row goes, and with it (cascade) its key,
 *    grants and extension history. Audit events reference nothing, so the trail stays.
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
import { startPeriodic } from '../../periodic.js';

export const HARD_DELETE_AFTER_MS = 30 * 24 * 3_600_000;
export const SWEEPER_LEASE_NAME = 'machine-expiry';
const DEFAULT_LEASE_MS = 5 * 60_000;
const DEFAULT_BATCH = 500;

export interface SweepResult {
  /** False when another process held the lease (nothing was done). */
  ran: boolean;
  expired: number;
  deleted: number;
}

export interface SweepOptions {
  /** Who holds the lease (default: one id per process). */
  holder?: string;
  leaseMs?: number;
  /** Most machines handled per step and sweep (the next sweep takes the rest). */
  batch?: number;
}

const PROCESS_HOLDER = `sweeper-${randomUUID()}`;

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
  if (!(await acquireLease(ctx, SWEEPER_LEASE_NAME, holder, opts.leaseMs ?? DEFAULT_LEASE_MS))) return { ran: false, expired: 0, deleted: 0 };
  const result: SweepResult = { ran: true, expired: 0, deleted: 0 };
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
    const old = await ctx.store.db.selectFrom('machines').select('id').where('expires_at', '<=', deleteBefore).limit(batch).execute();
    for (const { id } of old) {
      await writeTx(ctx, async (trx, audit) => {
        const m = await forUpdate(ctx.store.dialect, trx.selectFrom('machines').select(['id', 'name', 'key_id', 'status', 'expires_at', 'created_via', 'token_id'])
          .where('id', '=', id).where('expires_at', '<=', deleteBefore)).executeTakeFirst();
        if (!m) return;
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
  } finally {
    await releaseLease(ctx, SWEEPER_LEASE_NAME, holder).catch(() => undefined);
  }
  if (result.expired > 0 || result.deleted > 0) ctx.log.info({ expired: result.expired, deleted: result.deleted }, 'machine expiry sweep');
  return result;
}

/**
 * Runs a sweep every `everyMs` (default a minute) while the server runs: the timer is unref'd
 * (it never keeps the process alive) and stopped when the app closes. A failed sweep is logged
 * and retried on the next tick.
 */
export function startMachineSweeper(app: FastifyInstance, ctx: VaultContext, everyMs = 60_000): void {
  startPeriodic(app, ctx, { what: 'machine expiry sweep', everyMs, run: () => sweepMachines(ctx) });
}
