/**
 * Helpers for the canary tests: a test vault served over real HTTP (so requests truly overlap
 * in the server), signed clients for its identities, and audit queries.
 *
 * @example
 *   const served = await serveOverHttp(v);
 *   const res = await served.client(machineKey).request('GET', '/v1/projects/shop/secrets/db');
 */
import type { IdentityKey } from '../../protocol/keys.js';
import { VaultClient } from '../../protocol/client.js';
import type { StoredAuditEvent } from '../../vault-server/modules/audit/audit-store.js';
import type { TestVault } from './vault-app.js';
export interface ServedVault {
    url: string;
    /** A signed client for `key`; every client made here is closed with the vault by {@link ServedVault.close}. */
    client(key: IdentityKey): VaultClient;
    close(): void;
}
/**
 * Starts the test vault's fastify app listening on 127.0.0.1 (a free port). Clients sign for the
 * test authority, which the vault was built with; the Host header they send (127.0.0.1:port) is
 * not in its list, so the vault falls back to that first authority.
 */
export declare function serveOverHttp(v: TestVault): Promise<ServedVault>;
/** The audit events with one of these actions, in chain order. */
export declare function auditEvents(v: TestVault, ...actions: string[]): Promise<StoredAuditEvent[]>;
/** The error code of an injected answer, if it is an error. */
export declare function codeOf(res: {
    body: unknown;
}): string | undefined;
/** A project's lock state as operators see it (`project list`). */
export declare function projectLock(v: TestVault, name: string): Promise<{
    locked: boolean;
    lockedReason: string | null;
}>;
/** A machine's status as operators see it (`machine list`). */
export declare function machineStatus(v: TestVault, name: string): Promise<string>;
