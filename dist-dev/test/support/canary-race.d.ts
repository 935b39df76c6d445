import type { IdentityKey } from '../../protocol/keys.js';
import { VaultClient } from '../../protocol/client.js';
export declare const READS = 200;
export declare const MACHINES = 4;
/** What the race needs of a vault, wherever it runs. */
export interface RaceVault {
    /** A request as the operator: its status and body (an error answer too, never thrown). */
    call(method: string, target: string, body?: unknown): Promise<{
        status: number;
        body: unknown;
    }>;
    /** Adds a machine through the operator API; returns its key. */
    addMachine(name: string): Promise<IdentityKey>;
    /** A signed keep-alive client for `key` over real HTTP (closed by the caller's cleanup). */
    client(key: IdentityKey): VaultClient;
    /** The audit events with one of these actions, in chain order. */
    auditEvents(...actions: string[]): Promise<Array<{
        seq: number;
        action: string;
        outcome: string;
        target: string;
    }>>;
}
export interface RaceResult {
    reads: number;
    servedBeforeLock: number;
    servedAfterLock: number;
}
export declare function runCanaryRace(v: RaceVault): Promise<RaceResult>;
/** {@link RaceVault} for a vault reached only over HTTP (a real `serve` process), as its operator. */
export declare function vaultOverHttp(url: string, operatorKey: {
    keyId: string;
    privateKey: IdentityKey['privateKey'];
}): RaceVault & {
    close(): void;
};
