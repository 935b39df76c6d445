/**
 * The lease expiry sweeper: every `everyMs` (default 5 s), one sweep at a time across vault
 * processes (the `sweeper_leases` row the machine and trash sweepers use, under its own name),
 * moves each lease whose expiry passed — active, or still creating — to `revoking` with reason
 * `expired` and queues its drop job (`lease.expired`); the drop's confirmation ends it `expired`.
 *
 * @example
 *   startLeaseSweeper(app, ctx);            // serve
 *   await sweepLeases(ctx);                 // tests, with an injected clock
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { writeTx } from '../../context.js';
import type { VaultContext } from '../../context.js';
import { acquireLease, releaseLease } from '../machines/machine-sweeper.js';
import { revokeLeaseInTx } from './leases-service.js';
import { LIVE_LEASE_STATES } from './lease-rules.js';
import { startPeriodic } from '../../periodic.js';

export const LEASE_SWEEPER_NAME = 'lease-expiry';
const HOLDER = `lease-expiry-${randomUUID()}`;
/** Leases handled per transaction (the rest in the next batch of the same sweep). */
const BATCH = 200;

export async function sweepLeases(ctx: VaultContext): Promise<{ ran: boolean; expired: number }> {
  if (!await acquireLease(ctx, LEASE_SWEEPER_NAME, HOLDER, 60_000)) return { ran: false, expired: 0 };
  let expired = 0;
  try {
    for (;;) {
      const n = await writeTx(ctx, async (trx, audit) => {
        const due = await trx.selectFrom('leases').selectAll().where('state', 'in', [...LIVE_LEASE_STATES]).where('expires_at', '<=', ctx.now())
          .orderBy('expires_at').limit(BATCH).execute();
        let done = 0;
        for (const lease of due) if (await revokeLeaseInTx(ctx, trx, audit, lease, 'expired')) done += 1;
        return done;
      });
      expired += n;
      if (n < BATCH) break;
    }
    return { ran: true, expired };
  } finally {
    await releaseLease(ctx, LEASE_SWEEPER_NAME, HOLDER).catch(() => undefined);
  }
}

export function startLeaseSweeper(app: FastifyInstance, ctx: VaultContext, everyMs = 5000): void {
  startPeriodic(app, ctx, { what: 'lease expiry sweep', everyMs, run: () => sweepLeases(ctx) });
}
