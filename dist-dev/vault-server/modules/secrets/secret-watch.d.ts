/**
 * Secret watches (`GET …/secrets/{name}?waitForVersionAfter=N&wait=S`): the grant and lock checks
 * of a read, then a wait for a newer live version that costs no store work while nothing happens.
 * A held watch sleeps in this process's wake-up hub (vault-server/http/long-poll.ts) under its
 * secret's name and is woken by `secretEvents` 'changed' (an operator's write or rollback) and
 * `rotationEvents` 'finished' (a promotion), each naming the secret; an event without that name
 * (relayed from elsewhere without a payload) wakes every watch. The hub's one safety-net sweep
 * per process (every SWEEP_MS) reads the current versions of all watched secrets in one query
 * per 500 secrets and wakes the watches whose secret moved past what they wait for.
 */
import { EventEmitter } from 'node:events';
import type { Caller } from '../../http/authenticate.js';
import type { VaultContext } from '../../context.js';
/** What a 'changed' event names: the secret that got a new live version. */
export interface ChangedEvent {
    project: string;
    secret: string;
}
/**
 * Emitted ('changed', ChangedEvent) when a secret gets a new live version from an operator's
 * write or rollback. Listeners must accept a missing payload (then anything may have changed).
 */
export declare const secretEvents: EventEmitter<[never]>;
/** The safety net's period: the longest a change with no event here goes unseen by a held watch. */
export declare const SWEEP_MS = 5000;
/**
 * `GET …/secrets/{name}?waitForVersionAfter=N&wait=30`: resolves as soon as the live version is
 * newer than N (the caller then does an ordinary, audited read), or with `false` when the wait
 * ends with no change. Checks once, then re-checks only when woken (an event naming this secret,
 * or the hub's sweep) and once more when the wait ends, so a grant revoked or a project locked
 * during the wait is answered then (403 / 423), as a read would.
 */
export declare function waitForNewerVersion(ctx: VaultContext, caller: Caller, req: {
    project: string;
    name: string;
    after: number;
    waitSeconds: number;
    signal: AbortSignal;
}): Promise<boolean>;
