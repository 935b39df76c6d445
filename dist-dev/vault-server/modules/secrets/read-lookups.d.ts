/**
 * What a machine read looks up before it may answer — the machine's status, the project, the
 * machine's grants there, the secret, its live version's ciphertext and wrapped data key — taken
 * from memory caches that are checked against the store's change counter inside the read's own
 * transaction (store/change-counter.ts). A disabled machine, a removed grant, a locked project or
 * a promoted version moves the counter (triggers, migration 0005), so the very next read on every
 * worker and replica loads them afresh. Projects and secrets in the trash are not found (404). Nothing here is a plaintext: values stay encrypted in
 * the cache exactly as in the store.
 *
 * This file imports nothing from the secrets or canaries services, so both can use it.
 *
 * @example
 *   const look = await readLookups(ctx, trx);
 *   const project = await look.project('shop');
 */
import type { Tx, VaultContext } from '../../context.js';
export interface CachedProject {
    id: string;
    name: string;
    master_key_wrapped: Buffer;
    key_version: number;
    locked_at: number | null;
}
export interface CachedSecret {
    id: string;
    name: string;
    kind: string;
    is_canary: number;
    canary_lock_machine_projects: number;
    current_version: number | null;
}
export interface CachedGrant {
    secret_id: string | null;
    fields: string | null;
}
export interface CachedLiveVersion {
    version: number;
    ciphertext: Buffer;
    wrapped_data_key: Buffer;
    project_key_version: number;
}
export interface ReadLookups {
    machineStatus(id: string): Promise<string | undefined>;
    project(name: string): Promise<CachedProject | undefined>;
    grants(machineId: string, projectId: string): Promise<CachedGrant[]>;
    secret(projectId: string, name: string): Promise<CachedSecret | undefined>;
    liveVersion(secretId: string): Promise<CachedLiveVersion | undefined>;
}
/** Reads the change counter with `trx` and returns lookups valid for the rest of this transaction, until it writes a cached table. */
export declare function readLookups(ctx: VaultContext, trx: Tx): Promise<ReadLookups>;
