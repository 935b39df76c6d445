import type { Store } from './open-store.js';
import type { GroupCommitter } from './group-commit.js';
/**
 * What the request verifier needs (the same shape as protocol/signing.ts declares).
 * `expiresAtUnix` is in seconds: after it the nonce may be forgotten.
 */
export interface NonceStore {
    claim(keyId: string, nonceHash: string, expiresAtUnix: number): Promise<boolean>;
}
export interface StoreNonceStoreOptions {
    /**
     * The vault's group committer: each claim is one job of the next batch, durable (FULL) with
     * the batch's one COMMIT. Without it a claim is its own statement (tools and tests).
     */
    commits?: GroupCommitter;
    /** Least time between two opportunistic sweeps (default 60 s; `Infinity`: never, call `sweep` yourself). */
    sweepEveryMs?: number;
    now?: () => number;
}
export declare class StoreNonceStore implements NonceStore {
    #private;
    constructor(store: Pick<Store, 'db'> & Partial<Pick<Store, 'dialect'>>, opts?: StoreNonceStoreOptions);
    /** True when this call stored the nonce first; false when it was already there (a replay). */
    claim(keyId: string, nonceHash: string, expiresAtUnix: number): Promise<boolean>;
    /** Deletes every nonce that expired before `nowMs`; returns how many. */
    sweep(nowMs?: number): Promise<number>;
    /** Resolves when no opportunistic sweep is running (for orderly shutdown and tests). */
    idle(): Promise<void>;
}
/** `new StoreNonceStore(store, opts)`, for composition roots that prefer a factory. */
export declare function createNonceStore(store: Pick<Store, 'db'> & Partial<Pick<Store, 'dialect'>>, opts?: StoreNonceStoreOptions): StoreNonceStore;
