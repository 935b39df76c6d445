import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { keyIdFromPublicKey, parsePublicKey } from '../../../protocol/keys.js';
import { writeTx } from '../../context.js';
import { forUpdate, isUniqueViolation } from '../../store/locks.js';
import { keyOwner } from '../../store/identity-keys.js';
import { throttledRecorder } from '../../store/throttled-recorder.js';
const toView = (r) => ({
    id: r.id, name: r.name, keyId: r.key_id, labels: JSON.parse(r.labels), status: r.status,
    expiresAt: r.expires_at, lastSeenAt: r.last_seen_at, createdVia: r.created_via, createdAt: r.created_at,
});
const MACHINE_COLUMNS = ['id', 'name', 'key_id', 'labels', 'status', 'expires_at', 'last_seen_at', 'created_via', 'created_at'];
/** A machine by name or by id (the CLI accepts either). */
export async function requireMachine(trx, nameOrId) {
    const row = await trx.selectFrom('machines').select(MACHINE_COLUMNS)
        .where((eb) => eb.or([eb('name', '=', nameOrId), eb('id', '=', nameOrId)])).executeTakeFirst();
    if (!row)
        throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no machine named ${JSON.stringify(nameOrId)}`);
    return toView(row);
}
export async function addMachine(ctx, caller, req) {
    const raw = parsePublicKey(req.publicKey);
    const keyId = keyIdFromPublicKey(raw);
    const id = randomUUID();
    const now = ctx.now();
    try {
        await writeTx(ctx, async (trx, audit) => {
            const owner = await keyOwner(trx, keyId);
            // One key, one identity: an operator's key registered as a machine would let it read values.
            // (A machine's own key is left to the unique index.)
            if (owner && owner.kind !== 'machine')
                throw new SikkerKeyError('SK_ERR_CONFLICT', 'this public key already belongs to another identity');
            await trx.insertInto('machines').values({
                id, name: req.name, public_key: Buffer.from(raw), key_id: keyId, labels: JSON.stringify(req.labels ?? []),
                status: 'active', expires_at: req.expiresInMs ? now + req.expiresInMs : null, ip_allowlist: null,
                country_allowlist: null, time_window: null, constraints: null, created_via: 'operator', created_by: caller.id,
                last_seen_at: null, disabled_at: null, created_at: now,
            }).execute();
            await audit({ action: 'machine.add', target: `machine:${req.name}`, outcome: 'success', details: { machineId: id, keyId, labels: req.labels ?? [] } }, caller);
        });
    }
    catch (err) {
        if (isUniqueViolation(err))
            throw new SikkerKeyError('SK_ERR_CONFLICT', `a machine with that name or key exists already`);
        throw err;
    }
    return { id, name: req.name, keyId };
}
export async function listMachines(ctx) {
    const rows = await ctx.store.db.selectFrom('machines').select(MACHINE_COLUMNS).orderBy('name').execute();
    return rows.map(toView);
}
export async function setMachineStatus(ctx, caller, nameOrId, status, action) {
    return writeTx(ctx, async (trx, audit) => {
        const m = await requireMachine(trx, nameOrId);
        if (action === 'machine.approve' && m.status !== 'pending_approval' && m.status !== 'active') {
            throw new SikkerKeyError('SK_ERR_CONFLICT', `machine ${m.name} is ${m.status}; only a machine waiting for approval can be approved`);
        }
        // Re-enabling (e.g. after a canary trip disabled it) is its own deliberate, audited act; a
        // pending machine is approved instead, an expired one is replaced.
        if (action === 'machine.enable' && m.status !== 'disabled' && m.status !== 'active') {
            throw new SikkerKeyError('SK_ERR_CONFLICT', `machine ${m.name} is ${m.status}; only a disabled machine can be enabled`);
        }
        const approving = action === 'machine.approve' && m.status === 'pending_approval';
        await trx.updateTable('machines').set({
            status, disabled_at: status === 'disabled' ? ctx.now() : null,
            ...(approving ? { approved_at: ctx.now(), approved_by: `${caller.kind}:${caller.id}` } : {}),
        }).where('id', '=', m.id).execute();
        await audit({ action, target: `machine:${m.name}`, outcome: 'success', details: { machineId: m.id, from: m.status, to: status } }, caller);
        return { ...m, status };
    });
}
/** Liveness for `machine list` / `rotation status`: written at most once per interval per machine. */
export function lastSeenRecorder(ctx, intervalMs = 15_000) {
    return throttledRecorder(ctx, intervalMs, 'last_seen_at', (machineId, now) => ctx.store.db.updateTable('machines').set({ last_seen_at: now }).where('id', '=', machineId).execute());
}
/** The columns extend/revert need; `lock`: the row is held (FOR UPDATE) so two extensions cannot interleave. */
async function lifecycleRow(ctx, trx, nameOrId, lock) {
    const q = trx.selectFrom('machines')
        .select(['id', 'name', 'status', 'expires_at', 'constraints', 'created_via', 'token_id', 'approved_at'])
        .where((eb) => eb.or([eb('name', '=', nameOrId), eb('id', '=', nameOrId)]));
    const row = await (lock ? forUpdate(ctx.store.dialect, q) : q).executeTakeFirst();
    if (!row)
        throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no machine named ${JSON.stringify(nameOrId)}`);
    return row;
}
/** The `maxExpiresAt` bound of a machine's constraints (temp-bootstrap machines: 12 months after creation). */
function maxExpiresAtOf(constraints) {
    if (constraints === null)
        return undefined;
    try {
        const v = JSON.parse(constraints).maxExpiresAt;
        return typeof v === 'number' ? v : undefined;
    }
    catch {
        return undefined;
    }
}
/**
 * The status an expired machine returns to when its expiry moves into the future again:
 * `active`, unless it came from a token that needs approval and was never approved.
 */
async function statusAfterRevival(trx, m) {
    if (m.approved_at !== null || m.token_id === null)
        return 'active';
    const table = m.created_via === 'bootstrap_token' ? 'bootstrap_tokens' : m.created_via === 'enrollment_token' ? 'enrollment_tokens' : undefined;
    if (!table)
        return 'active';
    const t = await trx.selectFrom(table).select(['requires_approval', 'created_by_kind']).where('id', '=', m.token_id).executeTakeFirst();
    // A token row that is gone cannot vouch for the machine: wait for an operator.
    return !t || t.requires_approval === 1 || t.created_by_kind === 'ai_agent' ? 'pending_approval' : 'active';
}
/**
 * Moves a machine's expiry later by `byMs` (from its current expiry, or from now when that has
 * passed) and records the change with its reason. A temp-bootstrap machine cannot be extended
 * past 12 months after its creation. An expired (soft-disabled) machine comes back.
 */
export async function extendMachine(ctx, caller, nameOrId, req) {
    if (!Number.isSafeInteger(req.byMs) || req.byMs < 60_000)
        throw new SikkerKeyError('SK_ERR_VALIDATION', '--by must be at least 1m');
    return writeTx(ctx, async (trx, audit) => {
        const m = await lifecycleRow(ctx, trx, nameOrId, true);
        if (m.expires_at === null)
            throw new SikkerKeyError('SK_ERR_CONFLICT', `machine ${m.name} does not expire; there is nothing to extend`);
        if (m.status === 'disabled')
            throw new SikkerKeyError('SK_ERR_CONFLICT', `machine ${m.name} is disabled; extending it would not let it authenticate`);
        const now = ctx.now();
        const next = Math.max(m.expires_at, now) + req.byMs;
        const cap = maxExpiresAtOf(m.constraints);
        if (cap !== undefined && next > cap) {
            throw new SikkerKeyError('SK_ERR_VALIDATION', `machine ${m.name} is a temp-bootstrap machine: it cannot live past ${new Date(cap).toISOString()} (12 months after its creation)`);
        }
        const status = m.status === 'expired' ? await statusAfterRevival(trx, m) : m.status;
        const extensionId = randomUUID();
        // created_at orders the history and picks what revert undoes, so it must be strictly increasing
        // per machine even when two extensions land in the same millisecond.
        const latest = await trx.selectFrom('machine_extensions').select((eb) => eb.fn.max('created_at').as('at')).where('machine_id', '=', m.id).executeTakeFirst();
        const createdAt = Math.max(now, Number(latest?.at ?? -1) + 1);
        await trx.updateTable('machines').set({ expires_at: next, status }).where('id', '=', m.id).execute();
        await trx.insertInto('machine_extensions').values({
            id: extensionId, machine_id: m.id, previous_expires_at: m.expires_at, new_expires_at: next, reason: req.reason,
            actor: `${caller.kind}:${caller.id}`, created_at: createdAt, reverted_at: null, reverted_by: null,
        }).execute();
        await audit({
            action: 'machine.extend', target: `machine:${m.name}`, outcome: 'success',
            details: { machineId: m.id, extensionId, previousExpiresAt: m.expires_at, newExpiresAt: next, reason: req.reason, from: m.status, to: status },
        }, caller);
        return { ...(await requireMachine(trx, m.id)), extensionId };
    });
}
/** Every extension of a machine, oldest first, reverted ones included. */
export async function machineExtensions(ctx, nameOrId) {
    const m = await lifecycleRow(ctx, ctx.store.db, nameOrId, false);
    const rows = await ctx.store.db.selectFrom('machine_extensions').selectAll().where('machine_id', '=', m.id)
        .orderBy('created_at').orderBy('id').execute();
    return {
        machine: m.name, expiresAt: m.expires_at,
        extensions: rows.map((r) => ({
            id: r.id, previousExpiresAt: r.previous_expires_at, newExpiresAt: r.new_expires_at, reason: r.reason, actor: r.actor,
            createdAt: r.created_at, revertedAt: r.reverted_at, revertedBy: r.reverted_by,
        })),
    };
}
/** Undoes the last extension not yet reverted: the machine's expiry goes back to what it was. */
export async function revertExtension(ctx, caller, nameOrId, req = {}) {
    return writeTx(ctx, async (trx, audit) => {
        const m = await lifecycleRow(ctx, trx, nameOrId, true);
        const last = await trx.selectFrom('machine_extensions').selectAll().where('machine_id', '=', m.id).where('reverted_at', 'is', null)
            .orderBy('created_at', 'desc').orderBy('id', 'desc').executeTakeFirst();
        if (!last)
            throw new SikkerKeyError('SK_ERR_CONFLICT', `machine ${m.name} has no extension to revert`);
        const now = ctx.now();
        const restored = last.previous_expires_at;
        // Back to an expiry that has passed: soft-disabled at once, as the sweeper would.
        const status = restored !== null && restored <= now && m.status !== 'disabled' ? 'expired' : m.status;
        await trx.updateTable('machines').set({ expires_at: restored, status }).where('id', '=', m.id).execute();
        await trx.updateTable('machine_extensions').set({ reverted_at: now, reverted_by: `${caller.kind}:${caller.id}` }).where('id', '=', last.id).execute();
        await audit({
            action: 'machine.revert_extension', target: `machine:${m.name}`, outcome: 'success',
            details: { machineId: m.id, extensionId: last.id, from: m.expires_at, to: restored, reason: req.reason ?? null, status },
        }, caller);
        return { ...(await requireMachine(trx, m.id)), revertedExtensionId: last.id };
    });
}
//# sourceMappingURL=machines-service.js.map