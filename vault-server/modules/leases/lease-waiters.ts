/**
 * The wake-up hub of the machines' lease long-polls (`POST /v1/projects/{p}/leases/{role}?wait=S`,
 * `GET /v1/leases/{id}?wait=S`, a PostgreSQL renew waiting for its job), one per vault process
 * (vault-server/http/long-poll.ts). A held request registers under `lease:<id>` or `job:<id>` and
 * does no store work until `leaseEvents` (emitted after commit by the job reports) names its key,
 * or the hub's safety-net sweep — one query per kind for all waiters — finds it settled (a
 * change made through another process).
 */
import type { VaultContext } from '../../context.js';
import { WakeHub } from '../../http/long-poll.js';
import type { SweepResult } from '../../http/long-poll.js';
import { leaseEvents } from './leases-service.js';

const SWEEP_MS = 2000;
const leaseKey = (id: string): string => `lease:${id}`;
const jobKey = (id: string): string => `job:${id}`;

export class LeaseWaiters {
  readonly hub: WakeHub;

  constructor(private readonly ctx: VaultContext) {
    this.hub = new WakeHub({
      intervalMs: SWEEP_MS,
      now: ctx.now,
      sweep: (waiting) => this.sweep(waiting),
      subscribe: () => {
        const onLease = (id?: string): void => { if (id) this.hub.wake(leaseKey(id)); else this.hub.wakeAll(); };
        const onJob = (id?: string): void => { if (id) this.hub.wake(jobKey(id)); else this.hub.wakeAll(); };
        leaseEvents.on('lease', onLease);
        leaseEvents.on('job', onJob);
        return () => { leaseEvents.off('lease', onLease); leaseEvents.off('job', onJob); };
      },
      onSweepError: (err) => ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'lease long-poll sweep failed; will retry'),
    });
  }

  /**
   * Waits until `done()` holds (checked once now and once per wake-up), `seconds` pass or `signal`
   * aborts; returns whether it held.
   */
  async until(key: { leaseId: string } | { jobId: string }, seconds: number, done: () => Promise<boolean>, signal: AbortSignal): Promise<boolean> {
    const waiter = this.hub.register(['leaseId' in key ? leaseKey(key.leaseId) : jobKey(key.jobId)], undefined);
    const deadline = this.ctx.now() + seconds * 1000;
    try {
      for (;;) {
        waiter.arm();
        if (await done()) return true;
        const left = deadline - this.ctx.now();
        if (left <= 0 || signal.aborted) return false;
        this.ctx.metrics.longPolls.inc();
        try {
          await waiter.wait(left, signal);
        } finally {
          this.ctx.metrics.longPolls.dec();
        }
      }
    } finally {
      waiter.close();
    }
  }

  private async sweep(waiting: ReadonlyMap<string, readonly undefined[]>): Promise<SweepResult> {
    const leases = [...waiting.keys()].filter((k) => k.startsWith('lease:')).map((k) => k.slice(6));
    const jobs = [...waiting.keys()].filter((k) => k.startsWith('job:')).map((k) => k.slice(4));
    const wake: string[] = [];
    const db = this.ctx.store.db;
    if (leases.length > 0) {
      for (const r of await db.selectFrom('leases').select('id').where('id', 'in', leases).where('state', '!=', 'creating').execute()) wake.push(leaseKey(r.id));
    }
    if (jobs.length > 0) {
      for (const r of await db.selectFrom('lease_jobs').select('id').where('id', 'in', jobs).where('state', 'in', ['done', 'cancelled']).execute()) wake.push(jobKey(r.id));
    }
    return { wake, nextAt: null };
  }
}
