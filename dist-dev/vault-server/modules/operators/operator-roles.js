/**
 * Who may do what to the roster (issue "A team can run it"):
 * - owners invite, add, re-role, disable, enable and remove anyone, and revoke anyone's keys;
 * - admins may invite or add viewers only (and add keys to viewers); nothing else about operators;
 * - every operator may list the roster, and list, revoke and rotate their own keys.
 * And one invariant: the vault always keeps an enabled owner holding an unrevoked key.
 *
 * @example
 *   mayGrant(caller, 'admin');             // an admin caller: throws SK_ERR_ROLE_ESCALATION
 *   await lockOwners(ctx, trx);            // before a change that could remove the last owner
 *   ...change...
 *   await assertAnOwnerRemains(trx);       // SK_ERR_LAST_OWNER rolls the change back
 */
import { sql } from 'kysely';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { auditDenied } from '../../context.js';
import { forUpdate } from '../../store/locks.js';
export const ROLES = ['owner', 'admin', 'viewer'];
/** Throws unless the caller may give `role` to someone (invite, add, a key for an operator of that role). */
export function mayGrant(caller, role) {
    if (caller.role === 'owner')
        return;
    if (caller.role === 'admin' && role === 'viewer')
        return;
    throw new SikkerKeyError('SK_ERR_ROLE_ESCALATION', caller.role === 'admin'
        ? `an admin may invite or add viewers only; only an owner may give the role ${role}`
        : `the role ${caller.role ?? 'none'} may not manage operators`);
}
/** Throws unless the caller is an owner: changing someone's role or status is an owner's act. */
export function requireOwner(caller, what) {
    if (caller.role !== 'owner')
        throw new SikkerKeyError('SK_ERR_ROLE_ESCALATION', `only an owner may ${what}`);
}
/**
 * Holds every owner row (PostgreSQL: FOR UPDATE) so two concurrent changes — two owners demoting
 * each other — run one after the other and the second sees the first. SQLite has one writer.
 */
export async function lockOwners(ctx, trx) {
    await forUpdate(ctx.store.dialect, trx.selectFrom('operators').select('id').where('role', '=', 'owner')).execute();
}
/** Usable owners: role owner, enabled, with at least one unrevoked key. */
export async function usableOwners(trx) {
    const row = await trx.selectFrom('operators').select(sql `count(*)`.as('n'))
        .where('role', '=', 'owner').where('status', '=', 'active')
        .where((eb) => eb.exists(eb.selectFrom('operator_keys').select('key_id')
        .whereRef('operator_keys.operator_id', '=', 'operators.id').where('operator_keys.revoked_at', 'is', null)))
        .executeTakeFirstOrThrow();
    return Number(row.n);
}
export async function assertAnOwnerRemains(trx) {
    if (await usableOwners(trx) === 0) {
        throw new SikkerKeyError('SK_ERR_LAST_OWNER', 'refused: the vault would be left without an enabled owner holding an unrevoked key; make another owner first');
    }
}
/** Runs a roster change; a refusal for escalation or the last owner is audited as denied. */
export async function guarded(ctx, caller, action, target, fn) {
    try {
        return await fn();
    }
    catch (err) {
        if (err instanceof SikkerKeyError && (err.code === 'SK_ERR_ROLE_ESCALATION' || err.code === 'SK_ERR_LAST_OWNER')) {
            await auditDenied(ctx, caller, { action, target, details: { code: err.code } });
        }
        throw err;
    }
}
//# sourceMappingURL=operator-roles.js.map