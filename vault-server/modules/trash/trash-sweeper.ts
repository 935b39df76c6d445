/**
 * Purges what has been in the trash longer than `serve --trash-days` (default 30), every
 * `everyMs` (default an hour), one sweep at a time across vault processes (the `sweeper_leases`
 * row the machine sweeper uses, under its own name). A refused item (a rotation still running) is
 * skipped and tried again next time.
 *
 * @example
 *   startTrashSweeper(app, ctx, { trashDays: 30 });
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
import { acquireLease, releaseLease } from '../machines/machine-sweeper.js';
import { purgeExpiredTrash } from './trash-service.js';
import { startPeriodic } from '../../periodic.js';

export const TRASH_LEASE_NAME = 'trash-purge';
const HOLDER = `trash-${randomUUID()}`;

export async function sweepTrash(ctx: VaultContext, trashDays: number): Promise<{ ran: boolean; purged: number; skipped: number }> {
  if (!await acquireLease(ctx, TRASH_LEASE_NAME, HOLDER, 10 * 60_000)) return { ran: false, purged: 0, skipped: 0 };
  try {
    return { ran: true, ...await purgeExpiredTrash(ctx, trashDays) };
  } finally {
    await releaseLease(ctx, TRASH_LEASE_NAME, HOLDER).catch(() => undefined);
  }
}

export function startTrashSweeper(app: FastifyInstance, ctx: VaultContext, opts: { trashDays: number; everyMs?: number }): void {
  startPeriodic(app, ctx, { what: 'trash sweep', everyMs: opts.everyMs ?? 3_600_000, run: () => sweepTrash(ctx, opts.trashDays) });
}
