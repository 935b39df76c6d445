/**
 * The wake-up hub of operators' job long-polls (`GET /v1/rotations/{id}?wait=N&afterState=S`,
 * issue 29: the dashboard's live progress of a run), one per vault process
 * (vault-server/http/long-poll.ts).
 *
 * A held poll registers under `r:<rotation id>` with the state it saw. Every transition of a job
 * emits a rotationEvents event after commit: `'state'` (claimed, applied), `'finished'` (an
 * ending, stuck included) and `'work'` (created, or re-queued after a failure). Each names the
 * rotation id, and wakes only the polls of that job; a payload-less event (relayed without
 * arguments) wakes every poll. In another worker or replica the same events arrive through the
 * cross-process relay (vault-server/cluster/wakeups.ts). The safety net — one sweep per process
 * every SWEEP_MS (1 s) while anybody waits, one query for all waited jobs — catches a change whose
 * event was lost (a relay reconnecting) or that emitted none.
 */
import type { VaultContext } from '../../context.js';
import { WakeHub } from '../../http/long-poll.js';
import type { SweepResult, Waiter } from '../../http/long-poll.js';
import { rotationEvents } from './rotations-engine.js';
import type { WorkEvent } from './rotations-engine.js';

/** The safety net's period: the longest a change with no event here goes unseen by a held poll. */
export const JOB_SWEEP_MS = 1000;

export const jobKey = (id: string): string => `r:${id}`;

export class JobWaiters {
  readonly hub: WakeHub<string>;

  constructor(private readonly ctx: VaultContext, intervalMs = JOB_SWEEP_MS) {
    this.hub = new WakeHub<string>({
      intervalMs,
      now: ctx.now,
      sweep: (waiting) => this.sweep(waiting),
      subscribe: () => {
        const onId = (id?: unknown): void => {
          if (typeof id === 'string') this.hub.wake(jobKey(id));
          else this.hub.wakeAll();
        };
        const onWork = (e?: WorkEvent): void => onId(e?.rotationId);
        rotationEvents.on('state', onId);
        rotationEvents.on('finished', onId);
        rotationEvents.on('work', onWork);
        return () => {
          rotationEvents.off('state', onId);
          rotationEvents.off('finished', onId);
          rotationEvents.off('work', onWork);
        };
      },
      onSweepError: (err) => ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'rotation job long-poll sweep failed; will retry'),
    });
  }

  /** Registers a poll of job `id` that has seen `afterState`; close the waiter when the poll ends. */
  register(id: string, afterState: string): Waiter {
    return this.hub.register([jobKey(id)], afterState);
  }

  /** One query for every waited job: wakes the polls of each job whose state is not what they saw. */
  private async sweep(waiting: ReadonlyMap<string, readonly string[]>): Promise<SweepResult> {
    const ids = [...waiting.keys()].map((k) => k.slice(2));
    if (ids.length === 0) return { wake: [] };
    const rows = await this.ctx.store.db.selectFrom('rotations').select(['id', 'state']).where('id', 'in', ids).execute();
    const state = new Map(rows.map((r) => [r.id, r.state as string]));
    const wake: string[] = [];
    for (const [key, seen] of waiting) {
      const now = state.get(key.slice(2));
      // A job that is gone (its secret purged) wakes its polls too: they answer 404.
      if (now === undefined || seen.some((s) => s !== now)) wake.push(key);
    }
    return { wake };
  }
}
