import { WakeHub } from '../../http/long-poll.js';
import { rotationEvents } from './rotations-engine.js';
/** The safety net's period: the longest a change with no event here goes unseen by a held poll. */
export const SWEEP_MS = 5000;
export const machineKey = (id) => `m:${id}`;
export const labelKey = (label) => `l:${label}`;
export class WorkWaiters {
    ctx;
    hub;
    constructor(ctx, intervalMs = SWEEP_MS) {
        this.ctx = ctx;
        this.hub = new WakeHub({
            intervalMs,
            now: ctx.now,
            sweep: (waiting) => this.sweep(waiting),
            subscribe: () => {
                const onWork = (e) => this.onWork(e);
                rotationEvents.on('work', onWork);
                return () => rotationEvents.off('work', onWork);
            },
            onSweepError: (err) => ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'rotation long-poll sweep failed; will retry'),
        });
    }
    /** Registers a poll of machine `machineId` with `labels`; close the waiter when the poll ends. */
    register(machineId, labels) {
        return this.hub.register([machineKey(machineId), ...labels.map(labelKey)], undefined);
    }
    onWork(e) {
        if (!e) {
            this.hub.wakeAll();
            return;
        }
        if (e.notBefore !== null && e.notBefore > this.ctx.now()) {
            this.hub.wakeAt(e.notBefore);
            return;
        }
        if (e.agentMachineId !== null)
            this.hub.wake(machineKey(e.agentMachineId));
        if (e.agentLabel !== null)
            this.hub.wake(labelKey(e.agentLabel));
    }
    /** Two queries for all waiting polls together (never one per poll). */
    async sweep(waiting) {
        const db = this.ctx.store.db;
        const now = this.ctx.now();
        const claimable = await db.selectFrom('rotations')
            .innerJoin('rotation_policies', 'rotation_policies.id', 'rotations.policy_id')
            .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
            .innerJoin('projects', 'projects.id', 'secrets.project_id')
            .select(['rotation_policies.agent_machine_id as agentId', 'rotation_policies.agent_label as agentLabel']).distinct()
            .where('projects.locked_at', 'is', null)
            .where((eb) => eb.or([
            eb.and([eb('rotations.state', '=', 'pending'), eb.or([eb('rotations.not_before', 'is', null), eb('rotations.not_before', '<=', now)])]),
            eb.and([eb('rotations.state', 'in', ['claimed', 'applied']), eb('rotations.lease_until', '<', now)]),
        ]))
            .execute();
        const wake = [];
        for (const r of claimable) {
            if (r.agentId !== null && waiting.has(machineKey(r.agentId)))
                wake.push(machineKey(r.agentId));
            if (r.agentLabel !== null && waiting.has(labelKey(r.agentLabel)))
                wake.push(labelKey(r.agentLabel));
        }
        const next = await db.selectFrom('rotations')
            .select((eb) => [
            eb.fn.min(eb.case().when(eb.and([eb('state', '=', 'pending'), eb('not_before', '>', now)])).then(eb.ref('not_before')).else(null).end()).as('due'),
            eb.fn.min(eb.case().when(eb.and([eb('state', 'in', ['claimed', 'applied']), eb('lease_until', '>=', now)])).then(eb.ref('lease_until')).else(null).end()).as('lapse'),
        ])
            .where('state', 'in', ['pending', 'claimed', 'applied'])
            .executeTakeFirst();
        const times = [next?.due, next?.lapse].map((t) => (t === null || t === undefined ? NaN : Number(t))).filter((t) => Number.isFinite(t));
        // A lease lapses once now > lease_until: look one millisecond after it.
        return { wake, nextAt: times.length > 0 ? Math.min(...times) + 1 : null };
    }
}
//# sourceMappingURL=work-waiters.js.map