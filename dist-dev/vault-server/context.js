import { appendAuditInBatch } from './modules/audit/audit-store.js';
const commitHooks = new WeakMap();
/**
 * Runs `fn` once the write transaction `trx` has committed (never if it rolls back): wake-ups of
 * long-polls and watchers must not fire before what they announce is visible to other sessions.
 */
export function afterCommit(trx, fn) {
    const hooks = commitHooks.get(trx);
    if (hooks)
        hooks.push(fn);
    else
        fn();
}
/**
 * A write transaction whose audit events commit or fail with it. It runs as one job of a group
 * commit (store/group-commit.ts): in its own savepoint, in the same transaction as the other
 * requests that arrived with it, resolved only after that transaction's COMMIT.
 */
export async function writeTx(ctx, fn) {
    // Store latency for /metrics: from the request's arrival in the queue to its batch's COMMIT.
    const observe = ctx.metrics.storeSeconds.startTimer();
    try {
        const result = await ctx.commits.run(async (trx, scope) => {
            const hooks = [];
            commitHooks.set(trx, hooks);
            scope.afterCommit(() => {
                for (const hook of hooks)
                    hook();
            });
            const audit = async (e, caller) => {
                await appendAuditInBatch(trx, scope, {
                    actorKind: caller?.kind ?? e.actorKind ?? 'system',
                    actorId: caller?.id ?? e.actorId ?? null,
                    sourceIp: caller?.sourceIp ?? e.sourceIp ?? null,
                    ...e,
                }, ctx.now(), ctx.auditKeys);
                scope.afterCommit(() => ctx.metrics.auditEvents.inc({ action: e.action }));
            };
            return fn(trx, audit);
        });
        observe({ outcome: 'commit' });
        return result;
    }
    catch (err) {
        observe({ outcome: 'rollback' });
        throw err;
    }
}
/**
 * Records a refused attempt in its own transaction: the refused request's transaction rolled
 * back, but the refusal itself belongs in the audit trail.
 */
export async function auditDenied(ctx, caller, e) {
    try {
        await writeTx(ctx, (_trx, audit) => audit({ ...e, outcome: 'denied' }, caller));
    }
    catch (err) {
        ctx.log.error({ err: err instanceof Error ? err.message : String(err), action: e.action }, 'could not record a denied attempt');
    }
}
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
//# sourceMappingURL=context.js.map