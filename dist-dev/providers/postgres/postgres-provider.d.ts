import type { CredentialProvider, DatabaseSecret, VerifyResponse } from '../provider.js';
import { type Endpoint } from '../provider-config.js';
/** Adapts the provider to a hosted PostgreSQL (Supabase) without forking it. */
export interface PostgresPreset {
    readonly engine: 'postgres' | 'supabase';
    /**
     * Reads one secret's endpoint the way the variant needs it (its defaults, e.g. TLS on; its
     * refusals, e.g. TLS off); throws SK_ERR_PROVIDER_CONFIG. Default: plain PostgreSQL rules.
     */
    readEndpoint?(secret: DatabaseSecret, which: 'admin' | 'target'): Endpoint;
    /**
     * How verification logs in (e.g. through a pooler as `<role>.<projectRef>`, with retries),
     * read from the target secret at initialize — before the admin connects, so it works after a
     * failed admin login too. Throws SK_ERR_PROVIDER_CONFIG for fields it cannot use.
     */
    verifier?(target: {
        endpoint: Endpoint;
        secret: DatabaseSecret;
    }): PostgresVerifier;
}
/** Where and as whom one verification attempt logs in. */
export interface PostgresLogin {
    endpoint: Endpoint;
    user: string;
}
/**
 * Runs one verification. `login` is one fresh connection plus a probe query, throwing a mapped
 * SikkerKeyError (a refused login is SK_ERR_PROVIDER_AUTH_FAILED); the verifier decides where,
 * as whom, and how often.
 *
 * @example
 *   const direct: PostgresVerifier = { verify: ({ username, login }) => login({ endpoint: target, user: username }) };
 */
export interface PostgresVerifier {
    verify(req: {
        username: string;
        /** True when this provider set exactly this password for this user (a refusal may then be a pooler's stale cache). */
        justApplied: boolean;
        login(at: PostgresLogin): Promise<VerifyResponse>;
    }): Promise<VerifyResponse>;
}
export interface PostgresProviderOptions {
    preset?: PostgresPreset;
    /** Per connection attempt; default 10 s. */
    connectTimeoutMs?: number;
    /** For the admin's statements (ALTER ROLE waits on a lock held by another session); default 30 s. */
    statementTimeoutMs?: number;
}
export declare const postgresProvider: (options?: PostgresProviderOptions) => CredentialProvider;
