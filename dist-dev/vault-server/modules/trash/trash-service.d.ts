import type { Caller } from '../../http/authenticate.js';
import type { VaultContext } from '../../context.js';
export declare const DEFAULT_TRASH_DAYS = 30;
export interface TrashItem {
    kind: 'project' | 'secret';
    project: string;
    /** The secret's name; null for a project. */
    name: string | null;
    isCanary: boolean;
    deletedAt: number;
    deletedBy: string | null;
    /** When the sweeper purges it. */
    purgeAt: number;
    /** A secret inside a deleted project: restoring the project brings it back with it. */
    inDeletedProject: boolean;
}
export declare function deleteSecret(ctx: VaultContext, caller: Caller, req: {
    project: string;
    name: string;
    force?: boolean;
    canary?: boolean;
}): Promise<{
    project: string;
    name: string;
    deletedAt: number;
    pausedPolicies: number;
}>;
export declare function restoreSecret(ctx: VaultContext, caller: Caller, req: {
    project: string;
    name: string;
}): Promise<{
    project: string;
    name: string;
    resumedPolicies: number;
}>;
export declare function deleteProject(ctx: VaultContext, caller: Caller, req: {
    name: string;
    force?: boolean;
}): Promise<{
    project: string;
    deletedAt: number;
    pausedPolicies: number;
}>;
export declare function restoreProject(ctx: VaultContext, caller: Caller, name: string): Promise<{
    project: string;
    resumedPolicies: number;
}>;
export declare function listTrash(ctx: VaultContext, trashDays: number): Promise<TrashItem[]>;
/** What one purge removed. */
export interface PurgeResult {
    projects: string[];
    secrets: string[];
    /** Secret versions deleted (each with its wrapped data key). */
    versions: number;
    /** SQLite: the WAL was checkpointed into the database file and truncated afterwards. */
    checkpointed: boolean | null;
}
/**
 * Purges from the trash: one secret (`project` and `name`), one project (`project`), or
 * everything in it (neither). Owners only (the route says so). Refused while a rotation of a
 * purged secret is unfinished, or while a policy outside the purge uses one of them as its admin
 * secret.
 */
export declare function purgeTrash(ctx: VaultContext, caller: Caller | undefined, req: {
    project?: string;
    name?: string;
    olderThan?: number;
}): Promise<PurgeResult>;
/** The sweeper's step: purges what has been in the trash longer than `trashDays`, one item at a time (a refusal skips that item). */
export declare function purgeExpiredTrash(ctx: VaultContext, trashDays: number): Promise<{
    purged: number;
    skipped: number;
}>;
