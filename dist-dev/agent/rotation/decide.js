/**
 * The agent's decisions, as pure functions: given what a job has observed so far, the next thing
 * to do. `runRotateJob` and `runRetireJob` only carry these actions out and record what happened;
 * every branch of what a rotation does — and what undoing a failed apply means on each engine —
 * is here, where a table-driven test walks all of them (test/agent/decisions.test.ts).
 *
 * The promise it keeps: when a job ends, either the live credential logs in, or the rotation was
 * promoted and the pending one logs in. Neither only when both were already broken (`stuck`).
 *
 * @example
 *   decideRotate({ strategy: 'dual', maybeApplied: false, undo: [] });         // { do: 'initialize' }
 *   decideRotate({ ...facts, init: 'ok', slots: 'primary+retained', apply: 'ok', verify: 'refused', undo: [] });
 *   // → { do: 'undo', step: { op: 'setPassword', password: 'live' } }   (MySQL 8: primary back to live first)
 */
import { FLAVOURS, allowedPairs } from '../../protocol/engines.js';
/** What applying the pending credential is, per strategy: `dual` keeps the current one working. */
export function applyOperation(strategy) {
    return strategy === 'dual' ? 'addPassword' : 'setPassword';
}
/**
 * How to undo an apply whose pending credential did not prove itself, per engine slots × strategy.
 * - `alternating` changed only the user that is not live: nothing to undo.
 * - `single` puts the live password back (Redis: the whole set becomes just live).
 * - `dual` on a password set (Redis) removes exactly the pending password.
 * - `dual` on primary + retained (MySQL 8): set the primary back to live WITHOUT RETAIN (which
 *   keeps the retained slot — still the live password — as it is), then discard the retained one.
 *   Discarding first would delete the live password, which after RETAIN lives only in that slot.
 * - `dual` on a single slot is refused before any apply, so it has no plan.
 */
export function undoPlan(slots, strategy) {
    if (strategy === 'alternating')
        return [];
    if (strategy === 'single')
        return [{ op: 'setPassword', password: 'live' }];
    switch (slots) {
        case 'set':
            return [{ op: 'removePassword', password: 'pending' }];
        case 'primary+retained':
            return [{ op: 'setPassword', password: 'live' }, { op: 'discardRetained' }];
        case 'single':
            return [];
    }
}
/**
 * A failure report. `neitherWorks` (the vault makes the rotation `stuck` at once) is claimed only
 * when the database is in a known state — this job's undo finished — and still neither credential
 * logs in. Anything less certain (a lost answer, an earlier claim that may have applied, a login
 * refused by a pooler still caching) is an unproven failure: the vault claims it again with
 * backoff, the next claim reconciles, and only repeated failures end `stuck`.
 */
const fail = (code, f, extra = {}) => ({
    do: 'fail', code,
    liveVerified: f.live === 'works',
    neitherWorks: extra.undone === true && f.live === 'refused' && f.pending === 'refused',
    undoRefused: extra.undoRefused ?? false,
});
/** The next step of a rotate job. */
export function decideRotate(f) {
    if (f.init === undefined)
        return { do: 'initialize' };
    if (f.init === 'failed') {
        // The admin cannot even connect: nothing was changed by this claim. Prove live and say why;
        // when an earlier claim may have applied, a working pending credential is a promotion.
        if (f.live === undefined)
            return { do: 'probe-live' };
        if (f.live === 'works' || !f.maybeApplied)
            return fail('cause', f);
        if (f.pending === undefined)
            return { do: 'probe-pending' };
        if (f.pending === 'works')
            return { do: 'promote' };
        return fail('cause', f);
    }
    if (f.maybeApplied && f.reconcile === undefined)
        return { do: 'reconcile' };
    if (f.reconcile === 'works')
        return { do: 'promote' };
    if (f.refusal !== undefined) {
        // The server is not what the strategy needs (MariaDB, MySQL < 8.0.14): change nothing.
        if (f.live === undefined)
            return { do: 'probe-live' };
        return fail('SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', f);
    }
    if (f.apply === undefined)
        return { do: 'apply', op: applyOperation(f.strategy) };
    if (f.apply === 'ok') {
        if (f.verify === undefined)
            return { do: 'verify' };
        // From here on the pending credential is proven: never roll back, whatever happens.
        if (f.verify === 'works')
            return { do: 'promote' };
    }
    // The pending credential did not prove itself. Undo what this apply may have done — unless the
    // database said it did nothing — step by step, stopping at the first step that did not finish.
    const plan = f.apply === 'refused' ? [] : undoPlan(f.slots ?? 'single', f.strategy);
    const last = f.undo[f.undo.length - 1];
    if (f.undo.length < plan.length && (last === undefined || last === 'ok')) {
        return { do: 'undo', step: plan[f.undo.length] };
    }
    const undone = plan.length > 0 && f.undo.length === plan.length && f.undo.every((r) => r === 'ok');
    // MySQL 8 dual: the primary could not be set back (a reuse policy refused it, or the answer was
    // lost), so the live password may work only as the retained one. Nothing more is touched, and
    // the rotation waits for an operator: the next dual apply would push that password out.
    const retainedOnly = f.slots === 'primary+retained' && f.strategy === 'dual' && f.undo.length > 0 && f.undo[0] !== 'ok';
    if (f.live === undefined)
        return { do: 'probe-live' };
    if (f.live === 'works') {
        return retainedOnly ? fail('SK_ERR_ROTATION_UNDO_REFUSED', f, { undoRefused: true }) : fail('cause', f);
    }
    if (f.pending === undefined)
        return { do: 'probe-pending' };
    // The database holds the pending credential and it works (the undo did not take it away): that
    // is a promotion — applications get a credential that logs in.
    if (f.pending === 'works' && !undone)
        return { do: 'promote' };
    return retainedOnly ? fail('SK_ERR_ROTATION_UNDO_REFUSED', f, { undoRefused: true }) : fail('cause', f, { undone });
}
/** Removing the old password: Redis removes exactly it; MySQL 8 empties the retained slot. */
export function retireStep(slots) {
    if (slots === 'set')
        return { op: 'removePassword', password: 'retire' };
    if (slots === 'primary+retained')
        return { op: 'discardRetained' };
    return undefined;
}
/**
 * The next step of a retire job. The old password is removed only after the live one was proven:
 * on MySQL 8, DISCARD OLD PASSWORD empties the retained slot whatever it holds, and when the
 * primary is not the live password the retained one may be the only password that works.
 */
export function decideRetire(f) {
    if (f.init === undefined)
        return { do: 'initialize' };
    if (f.init === 'failed') {
        if (f.liveBefore === undefined)
            return { do: 'probe-live', when: 'before' };
        return { do: 'fail', code: 'cause', liveVerified: f.liveBefore === 'works' };
    }
    if (f.liveBefore === undefined)
        return { do: 'probe-live', when: 'before' };
    if (f.liveBefore !== 'works')
        return { do: 'fail', code: 'SK_ERR_PROVIDER_AUTH_FAILED', liveVerified: false };
    const step = retireStep(f.slots ?? 'single');
    if (step !== undefined && f.retire === undefined)
        return { do: 'retire', step };
    if (f.liveAfter === undefined)
        return { do: 'probe-live', when: 'after' };
    if (f.retire !== undefined && f.retire !== 'ok')
        return { do: 'fail', code: 'cause', liveVerified: f.liveAfter === 'works' };
    if (f.liveAfter === 'works')
        return { do: 'retired' };
    return { do: 'fail', code: 'SK_ERR_PROVIDER_AUTH_FAILED', liveVerified: false };
}
/** The apply and undo of every (flavour, strategy) the engine table allows, as Markdown for docs/engines.md. */
export function undoTableMarkdown() {
    const step = (s) => `\`${s.op}${'password' in s ? `(${s.password})` : ''}\``;
    const rows = allowedPairs().map(({ flavour, strategy }) => {
        const plan = undoPlan(FLAVOURS[flavour].slots, strategy);
        return `| \`${flavour}\` | \`${strategy}\` | \`${applyOperation(strategy)}\` | ${plan.length > 0 ? plan.map(step).join(' → ') : 'nothing (the live user was not touched)'} |`;
    });
    return ['| flavour | strategy | apply | undo, in order |', '|---|---|---|---|', ...rows].join('\n');
}
//# sourceMappingURL=decide.js.map