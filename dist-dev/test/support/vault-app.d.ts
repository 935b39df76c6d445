import type { FastifyInstance } from 'fastify';
import type { IdentityKey } from '../../protocol/keys.js';
import type { Store } from '../../vault-server/store/open-store.js';
import type { AppOptions } from '../../vault-server/app.js';
import type { VaultContext } from '../../vault-server/context.js';
import type { VaultMetrics } from '../../vault-server/metrics.js';
export declare const TEST_AUTHORITY = "vault.test:8200";
export interface InjectedResponse {
    status: number;
    headers: Record<string, unknown>;
    body: unknown;
    raw: string;
}
/** An in-process vault over a real store, with its log lines captured for leak checks. */
export interface TestVault {
    app: FastifyInstance;
    ctx: VaultContext;
    metrics: VaultMetrics;
    operator: IdentityKey;
    rootKey: Buffer;
    logs: string[];
    /** A signed request as `key` (JSON body), through fastify's inject. */
    call(key: IdentityKey, method: string, target: string, body?: unknown, opts?: {
        headers?: Record<string, string>;
        now?: number;
        remoteAddress?: string;
    }): Promise<InjectedResponse>;
    /** Signs and returns the raw request so a test can replay or mutate it. */
    sign(key: IdentityKey, method: string, target: string, body?: unknown): {
        headers: Record<string, string>;
        payload: Buffer;
    };
    /** `remoteAddress`: the source address the vault sees (default 127.0.0.1). */
    send(method: string, target: string, headers: Record<string, string>, payload?: Buffer | string, opts?: {
        remoteAddress?: string;
    }): Promise<InjectedResponse>;
    /** Adds a machine by public key through the operator API; returns its key. */
    addMachine(name: string, labels?: string[]): Promise<IdentityKey>;
    close(): Promise<void>;
}
/**
 * `authFailureLimit` defaults high here: functional tests send many deliberately bad requests from
 * one address, and the guard tests set the production default (20) themselves.
 */
export declare function startTestVault(store: Store, opts?: {
    now?: () => number;
    authFailureLimit?: number;
    geoipDb?: string;
    trustProxy?: string[];
    onRoute?: AppOptions['onRoute'];
    limits?: AppOptions['limits'];
}): Promise<TestVault>;
