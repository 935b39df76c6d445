import type { ClaimResponse } from '../../protocol/api-types.js';
import type { CredentialProvider, InitializeResponse } from '../../providers/provider.js';
/** A provider whose initialize has run, with what it said (its flavour decides the undo plans). */
export interface ReadyProvider {
    provider: CredentialProvider;
    init: InitializeResponse;
}
/**
 * Initialized providers kept between jobs for the same engine, admin credential and database
 * endpoint, so a rotation does not pay for a fresh admin login (a SCRAM exchange on PostgreSQL)
 * each time. A provider is lent to one job at a time, kept at most `idleMs` after its last job,
 * and only when that job ended cleanly; anything else closes it.
 */
export declare class ProviderPool {
    private readonly idleMs;
    private readonly idle;
    constructor(idleMs?: number);
    static keyOf(job: Pick<ClaimResponse, 'engine' | 'admin' | 'target'>): string;
    /** An initialized provider for this job's admin and endpoint, if one is idle (then it is the caller's). */
    take(key: string): ReadyProvider | undefined;
    /** Gives a provider back after a clean job; otherwise (or when one is already kept, or it never initialized) closes it. */
    give(key: string, provider: CredentialProvider, init: InitializeResponse | undefined, clean: boolean): void;
    closeAll(): Promise<void>;
}
