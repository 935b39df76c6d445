import { SikkerKeyError, type ErrorCode } from '../protocol/errors.js';
import type { CredentialProvider, DatabaseSecret, Engine, Flavour } from './provider.js';
export interface ConformanceUser {
    /** The admin secret: can change the user's password. */
    admin: DatabaseSecret;
    /** The user's own secret: where verification logs in (its username and password are the live ones). */
    target: DatabaseSecret;
    /** Removes the user (and anything setup made); must not throw when already gone. */
    cleanup(): Promise<void>;
}
export interface ConformanceTarget {
    engine: Engine;
    /**
     * Creates a fresh user with the given password on the real server; returns the admin and target
     * secrets for it, and a cleanup. A user of that name that already exists is replaced.
     */
    setup(req: {
        username: string;
        password: string;
    }): Promise<ConformanceUser>;
    /**
     * An admin that logs in to the same server but lacks the privilege to change other users'
     * passwords (e.g. PostgreSQL without CREATEROLE, MySQL without CREATE USER, Redis without +acl).
     */
    setupUnprivilegedAdmin(): Promise<{
        admin: DatabaseSecret;
        cleanup(): Promise<void>;
    }>;
    /** Usernames this engine accepts for the hostile-name case (quotes, backslash, space, unicode, 64+ chars where allowed); unique per run. */
    hostileUsernames: string[];
    /**
     * What the server under test is (its row in protocol/engines.ts): the strategies run and the
     * password operations required follow from the table, and initialize must report it.
     */
    flavour: Flavour;
    /** The provider under test; default `loadProvider(engine)`. */
    createProvider?(): CredentialProvider | Promise<CredentialProvider>;
    /** Passwords this engine must also accept, beside the common hostile set. */
    extraHostilePasswords?: string[];
    /** Per test; default 60 s. */
    timeoutMs?: number;
    /**
     * The secret pointed at another address. Default: its host and port. A variant whose
     * verification logs in elsewhere (Supabase: the pooler) moves that address for the target.
     */
    retarget?(secret: DatabaseSecret, which: 'admin' | 'target', to: {
        host: string;
        port: string;
    }): DatabaseSecret;
    /**
     * For the TLS case: the address of a server that offers no TLS. Default: none, and the case asks
     * the engine's own server for tls "require" (the test servers have TLS off). An engine that
     * requires TLS anyway (Supabase) names such a server here instead.
     */
    serverWithoutTls?(): {
        host: string;
        port: string;
    };
}
/** Quotes, backslashes, dollar quoting, statement breakers, spaces, unicode, length: each one distinctive. */
export declare function hostilePasswords(): string[];
/** Registers the conformance cases for one engine with node:test. */
export declare function runConformance(target: ConformanceTarget): void;
/** Asserts the promise rejects with a SikkerKeyError of `code` that shows none of `secrets`. */
export declare function expectCode(promise: Promise<unknown>, code: ErrorCode, secrets: string[], what: string): Promise<SikkerKeyError>;
/** Asserts no secret appears in the error's message, stack, details, or any cause's fields. */
export declare function assertNoSecrets(err: unknown, secrets: string[], what: string): void;
