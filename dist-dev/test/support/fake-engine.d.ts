import { type Flavour, type PasswordSlots } from '../../protocol/engines.js';
import type { CredentialProvider } from '../../providers/provider.js';
/** The passwords of each user, kept the way one engine keeps them. */
export declare class FakeDatabase {
    readonly slots: PasswordSlots;
    readonly opts: {
        reusePolicy?: boolean;
    };
    private readonly accounts;
    constructor(slots: PasswordSlots, users: Record<string, string[]>, opts?: {
        reusePolicy?: boolean;
    });
    private account;
    logsIn(user: string, password: string): boolean;
    /** The passwords that log in as `user` now, for failure messages. */
    describe(user: string): string;
    setPassword(user: string, password: string): void;
    addPassword(user: string, password: string): void;
    removePassword(user: string, password: string): void;
    discardRetained(user: string): void;
}
/** Faults for one attempt. Counts are how many calls of that kind misbehave before the rest work. */
export interface FakeScript {
    /** The admin cannot connect (initialize throws SK_ERR_PROVIDER_CONNECT). */
    init?: 'fail';
    /** The apply: refused (nothing changed, a privilege), or the answer lost before/after it took effect. */
    apply?: 'refused' | 'lost-before' | 'lost-after';
    /** The first `times` logins with the pending password are refused or unanswered (a pooler's cache, a network). */
    pendingLogin?: {
        outcome: 'refused' | 'unknown';
        times: number;
    };
    /** The first `times` logins with the live password are unanswered (a network). */
    liveLogin?: {
        outcome: 'unknown';
        times: number;
    };
    /** Each undo step in turn: lost before or after it took effect (a reuse refusal comes from the database itself). */
    undo?: Array<'ok' | 'lost-before' | 'lost-after'>;
    /** The retire step (removePassword / discardRetained): lost before or after it took effect. */
    retire?: 'lost-before' | 'lost-after';
}
/**
 * A CredentialProvider over a FakeDatabase, with exactly the operations its flavour's row
 * declares. `pendingPassword` tells the fake which logins the script's `pendingLogin` applies to.
 */
export declare function fakeProvider(flavour: Flavour, db: FakeDatabase, script: FakeScript, passwords?: {
    pending?: string;
    live?: string;
}): CredentialProvider;
