/**
 * The wake-up hub of the agents' rotation long-polls (`GET /v1/agent/rotations?wait=S`), one per
 * vault process (vault-server/http/long-poll.ts).
 *
 * A held poll registers under `m:<machine id>` and `l:<label>` for each of its machine's labels.
 * A `'work'` event (rotationEvents, emitted after commit by createRotation and by a failure that
 * re-queues a job) wakes only the polls of the job's agent machine or label; one whose
 * `notBefore` is still ahead wakes nobody now but moves the safety-net sweep to that moment.
 * A `'work'` event with no payload (relayed from elsewhere without one) wakes every poll.
 *
 * Lease jobs (modules/leases/lease-jobs.ts) ride the same events and sweep: a queued lease job
 * emits a `'work'` event for its role's agent, and the sweep's queries cover `lease_jobs` too.
 *
 * The sweep — one timer per process, every SWEEP_MS, whatever the number of polls — runs two
 * queries: which agent machines and labels have a job claimable now (due pending jobs and lapsed
 * leases, in unlocked projects), and when the next pending job or lease comes due. It wakes the
 * waiting polls among the first and schedules itself for the second, so retries and lapsed
 * leases are handed out when they come due, and anything that emitted no event here (another
 * process's change with no relay, an unlocked project) is seen within SWEEP_MS.
 */
import type { VaultContext } from '../../context.js';
import { WakeHub } from '../../http/long-poll.js';
import type { SweepResult, Waiter } from '../../http/long-poll.js';
import { rotationEvents } from './rotations-engine.js';
import { jobStillWanted } from '../leases/lease-rules.js';
import type { WorkEvent } from './rotations-engine.js';

/** The safety net's period: the longest a change with no event here goes unseen by a held poll. */
export const SWEEP_MS = 5000;

export const machineKey = (id: string): string => `m:${id}`;
export const labelKey = (label: string): string => `l:${label}`;

export class WorkWaiters {
  readonly hub: WakeHub;

  constructor(private readonly ctx: VaultContext, intervalMs = SWEEP_MS) {
    this.hub = new WakeHub({
      intervalMs,
      now: ctx.now,
      sweep: (waiting) => this.sweep(waiting),
      subscribe: () => {
        const onWork = (e?: WorkEvent): void => this.onWork(e);
        rotationEvents.on('work', onWork);
        return () => rotationEvents.off('work', onWork);
      },
      onSweepError: (err) => ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'rotation long-poll sweep failed; will retry'),
    });
  }

  /** Registers a poll of machine `machineId` with `labels`; close the waiter when the poll ends. */
  register(machineId: string, labels: readonly string[]): Waiter {
    return this.hub.register([machineKey(machineId), ...labels.map(labelKey)], undefined);
  }

  private onWork(e?: WorkEvent): void {
    if (!e) {
      this.hub.wakeAll();
      return;
    }
    if (e.notBefore !== null && e.notBefore > this.ctx.now()) {
      this.hub.wakeAt(e.notBefore);
      return;
    }
    if (e.agentMachineId !== null) this.hub.wake(machineKey(e.agentMachineId));
    if (e.agentLabel !== null) this.hub.wake(labelKey(e.agentLabel));
  }

  /** Two queries for all waiting polls together (never one per poll). */
  private async sweep(waiting: ReadonlyMap<string, readonly undefined[]>): Promise<SweepResult> {
    const db = this.ctx.store.db;
    const now = this.ctx.now();
    // Rotation jobs and lease jobs (docs/leases.md) in one statement each: due pending jobs and
    // lapsed claims; a lease drop may run in a locked project, a rotation or a lease create not.
    const claimable = await db.selectFrom('rotations')
      .innerJoin('rotation_policies', 'rotation_policies.id', 'rotations.policy_id')
      .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
      .innerJoin('projects', 'projects.id', 'secrets.project_id')
      .select(['rotation_policies.agent_machine_id as agentId', 'rotation_policies.agent_label as agentLabel'])
      .where('projects.locked_at', 'is', null)
      .where((eb) => eb.or([
        eb.and([eb('rotations.state', '=', 'pending'), eb.or([eb('rotations.not_before', 'is', null), eb('rotations.not_before', '<=', now)])]),
        eb.and([eb('rotations.state', 'in', ['claimed', 'applied']), eb('rotations.lease_until', '<', now)]),
      ]))
      // Built from the expression builder, not `db`: one statement, composed once.
      .union((eb) => eb.selectFrom('lease_jobs')
        .innerJoin('leases', 'leases.id', 'lease_jobs.lease_id')
        .innerJoin('lease_roles', 'lease_roles.id', 'leases.role_id')
        .select(['lease_roles.agent_machine_id as agentId', 'lease_roles.agent_label as agentLabel'])
        .where((eb) => jobStillWanted(eb))
        .where((eb) => eb.or([
          eb.and([eb('lease_jobs.state', '=', 'pending'), eb.or([eb('lease_jobs.not_before', 'is', null), eb('lease_jobs.not_before', '<=', now)])]),
          eb.and([eb('lease_jobs.state', '=', 'claimed'), eb('lease_jobs.lease_until', '<', now)]),
        ])))
      .execute();
    const wake: string[] = [];
    for (const r of claimable) {
      if (r.agentId !== null && waiting.has(machineKey(r.agentId))) wake.push(machineKey(r.agentId));
      if (r.agentLabel !== null && waiting.has(labelKey(r.agentLabel))) wake.push(labelKey(r.agentLabel));
    }
    const next = await db.selectFrom('rotations')
      .select((eb) => [
        eb.fn.min(eb.case().when(eb.and([eb('state', '=', 'pending'), eb('not_before', '>', now)])).then(eb.ref('not_before')).else(null).end()).as('due'),
        eb.fn.min(eb.case().when(eb.and([eb('state', 'in', ['claimed', 'applied']), eb('lease_until', '>=', now)])).then(eb.ref('lease_until')).else(null).end()).as('lapse'),
      ])
      .where('state', 'in', ['pending', 'claimed', 'applied'])
      .unionAll((eb) => eb.selectFrom('lease_jobs')
        .select((eb) => [
          eb.fn.min(eb.case().when(eb.and([eb('state', '=', 'pending'), eb('not_before', '>', now)])).then(eb.ref('not_before')).else(null).end()).as('due'),
          eb.fn.min(eb.case().when(eb.and([eb('state', '=', 'claimed'), eb('lease_until', '>=', now)])).then(eb.ref('lease_until')).else(null).end()).as('lapse'),
        ])
        .where('state', 'in', ['pending', 'claimed']))
      .execute();
    const times = next.flatMap((r) => [r.due, r.lapse]).map((t) => (t === null || t === undefined ? NaN : Number(t))).filter((t) => Number.isFinite(t));
    // A lease lapses once now > lease_until: look one millisecond after it.
    return { wake, nextAt: times.length > 0 ? Math.min(...times) + 1 : null };
  }
}
