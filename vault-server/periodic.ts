/**
 * A background sweep run every `everyMs` while the server runs (the machine, lease and trash
 * sweepers, audit retention): one run at a time (a tick while one runs is skipped), the timer
 * unref'd so it never keeps the process alive, a failed run logged and retried on the next tick,
 * and on close the timer stopped and the running sweep awaited.
 *
 * @example
 *   startPeriodic(app, ctx, { what: 'trash sweep', everyMs: 3_600_000, run: () => sweepTrash(ctx, 30) });
 */
import type { FastifyInstance } from 'fastify';
import type { VaultContext } from './context.js';

export interface PeriodicOptions {
  /** Named in the log line of a failed run: `<what> failed`. */
  what: string;
  everyMs: number;
  /** Also run once this long after start (default: only on the interval). */
  firstAfterMs?: number;
  run: () => Promise<unknown>;
}

export function startPeriodic(app: FastifyInstance, ctx: VaultContext, opts: PeriodicOptions): void {
  let running: Promise<unknown> | undefined;
  const tick = (): void => {
    if (running) return;
    running = opts.run()
      .catch((err: unknown) => ctx.log.error({ err: err instanceof Error ? err.message : String(err) }, `${opts.what} failed`))
      .finally(() => { running = undefined; });
  };
  const first = opts.firstAfterMs === undefined ? undefined : setTimeout(tick, opts.firstAfterMs);
  first?.unref();
  const timer = setInterval(tick, opts.everyMs);
  timer.unref();
  app.addHook('onClose', async () => {
    if (first) clearTimeout(first);
    clearInterval(timer);
    await running;
  });
}
