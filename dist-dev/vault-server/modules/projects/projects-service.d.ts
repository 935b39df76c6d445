import type { Caller } from '../../http/authenticate.js';
import type { Tx, VaultContext } from '../../context.js';
export interface ProjectView {
    id: string;
    name: string;
    keyVersion: number;
    locked: boolean;
    lockedAt: number | null;
    lockedReason: string | null;
    createdAt: number;
}
export interface ProjectRow {
    id: string;
    name: string;
    master_key_wrapped: Buffer;
    key_version: number;
    locked_at: number | null;
    locked_reason: string | null;
}
/** The project of that name, unless it is in the trash. */
export declare function findProject(trx: Tx, name: string): Promise<ProjectRow | undefined>;
export declare function requireProject(trx: Tx, name: string): Promise<ProjectRow>;
export declare function createProject(ctx: VaultContext, caller: Caller, name: string): Promise<ProjectView>;
export declare function listProjects(ctx: VaultContext): Promise<ProjectView[]>;
/**
 * A new project key version wraps every data key of the project again, in one transaction; the
 * old key version is then referenced by nothing and is removed. Values are never re-encrypted
 * (each version keeps its own data key), so the work is one small unwrap/wrap per version.
 */
export declare function rotateProjectKey(ctx: VaultContext, caller: Caller, name: string): Promise<{
    project: string;
    keyVersion: number;
    rewrapped: number;
}>;
export declare function unlockProject(ctx: VaultContext, caller: Caller, name: string, reason: string): Promise<ProjectView>;
export declare function renameProject(ctx: VaultContext, caller: Caller, name: string, to: string): Promise<ProjectView>;
