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
import { acquireLease, releaseLease } from '../machines/machine-sweeper.js';
import { purgeExpiredTrash } from './trash-service.js';
export const TRASH_LEASE_NAME = 'trash-purge';
const HOLDER = `trash-${randomUUID()}`;
export async function sweepTrash(ctx, trashDays) {
    if (!await acquireLease(ctx, TRASH_LEASE_NAME, HOLDER, 10 * 60_000))
        return { ran: false, purged: 0, skipped: 0 };
    try {
        return { ran: true, ...await purgeExpiredTrash(ctx, trashDays) };
    }
    finally {
        await releaseLease(ctx, TRASH_LEASE_NAME, HOLDER).catch(() => undefined);
    }
}
export function startTrashSweeper(app, ctx, opts) {
    let running;
    const tick = () => {
        if (running)
            return;
        running = sweepTrash(ctx, opts.trashDays)
            .catch((err) => ctx.log.error({ err: err instanceof Error ? err.message : String(err) }, 'trash sweep failed'))
            .finally(() => { running = undefined; });
    };
    const timer = setInterval(tick, opts.everyMs ?? 3_600_000);
    timer.unref();
    app.addHook('onClose', async () => {
        clearInterval(timer);
        await running;
    });
}
//# sourceMappingURL=trash-sweeper.js.map