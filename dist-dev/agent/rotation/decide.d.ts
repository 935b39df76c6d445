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
import { type PasswordSlots, type Strategy } from '../../protocol/engines.js';
/** A fresh login: it worked, the database refused it, or it could not tell (unreachable…). */
export type Probe = 'works' | 'refused' | 'unknown';
/**
 * A statement that changes the database: done; `refused` when the database answered that it did
 * nothing (a missing privilege, a bad name, a reuse policy); `unknown` when it may or may not have
 * taken effect (the connection dropped, an unmapped error).
 */
export type ChangeResult = 'ok' | 'refused' | 'unknown';
/** One step of undoing an apply; which password it names is a role, never a value. */
export type UndoStep = {
    op: 'setPassword';
    password: 'live';
} | {
    op: 'removePassword';
    password: 'pending';
} | {
    op: 'discardRetained';
};
/** What a rotate job has observed so far. Fields fill in as the interpreter carries actions out. */
export interface RotateFacts {
    strategy: Strategy;
    /** An earlier claim may already have applied the pending credential. */
    maybeApplied: boolean;
    init?: 'ok' | 'failed';
    /** How the engine keeps passwords (known after initialize). */
    slots?: PasswordSlots;
    /** Why the engine table refuses the strategy on the server initialize found (known after initialize). */
    refusal?: string;
    /** The pending credential before applying anything (only when maybeApplied). */
    reconcile?: Probe;
    apply?: ChangeResult;
    /** The fresh login with the pending credential after the apply (with its own bounded retries). */
    verify?: Probe;
    /** Each undo step carried out so far, in order. */
    undo: ChangeResult[];
    live?: Probe;
    pending?: Probe;
}
export type FailCode = 'cause' | 'SK_ERR_ROTATION_UNDO_REFUSED' | 'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED';
export type RotateAction = {
    do: 'initialize';
} | {
    do: 'reconcile';
} | {
    do: 'apply';
    op: 'setPassword' | 'addPassword';
} | {
    do: 'verify';
} | {
    do: 'undo';
    step: UndoStep;
} | {
    do: 'probe-live';
} | {
    do: 'probe-pending';
} | {
    do: 'promote';
} | {
    do: 'fail';
    code: FailCode;
    liveVerified: boolean;
    neitherWorks: boolean;
    undoRefused: boolean;
};
/** What applying the pending credential is, per strategy: `dual` keeps the current one working. */
export declare function applyOperation(strategy: Strategy): 'setPassword' | 'addPassword';
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
export declare function undoPlan(slots: PasswordSlots, strategy: Strategy): UndoStep[];
/** The next step of a rotate job. */
export declare function decideRotate(f: RotateFacts): RotateAction;
/** What a retire job (`dual`, after the grace period) has observed so far. */
export interface RetireFacts {
    init?: 'ok' | 'failed';
    slots?: PasswordSlots;
    /** The live credential before anything is removed. */
    liveBefore?: Probe;
    retire?: ChangeResult;
    liveAfter?: Probe;
}
export type RetireStep = {
    op: 'removePassword';
    password: 'retire';
} | {
    op: 'discardRetained';
};
export type RetireAction = {
    do: 'initialize';
} | {
    do: 'probe-live';
    when: 'before' | 'after';
} | {
    do: 'retire';
    step: RetireStep;
} | {
    do: 'retired';
} | {
    do: 'fail';
    code: 'cause' | 'SK_ERR_PROVIDER_AUTH_FAILED';
    liveVerified: boolean;
};
/** Removing the old password: Redis removes exactly it; MySQL 8 empties the retained slot. */
export declare function retireStep(slots: PasswordSlots): RetireStep | undefined;
/**
 * The next step of a retire job. The old password is removed only after the live one was proven:
 * on MySQL 8, DISCARD OLD PASSWORD empties the retained slot whatever it holds, and when the
 * primary is not the live password the retained one may be the only password that works.
 */
export declare function decideRetire(f: RetireFacts): RetireAction;
/** The apply and undo of every (flavour, strategy) the engine table allows, as Markdown for docs/engines.md. */
export declare function undoTableMarkdown(): string;
