import type { Caller } from '../../http/authenticate.js';
import type { Tx, VaultContext } from '../../context.js';
export type MachineStatus = 'pending_approval' | 'active' | 'disabled' | 'expired';
export interface MachineView {
    id: string;
    name: string;
    keyId: string;
    labels: string[];
    status: MachineStatus;
    expiresAt: number | null;
    lastSeenAt: number | null;
    createdVia: string;
    createdAt: number;
}
/** A machine by name or by id (the CLI accepts either). */
export declare function requireMachine(trx: Tx, nameOrId: string): Promise<MachineView>;
export declare function addMachine(ctx: VaultContext, caller: Caller, req: {
    name: string;
    publicKey: string;
    labels?: string[];
    expiresInMs?: number;
}): Promise<{
    id: string;
    name: string;
    keyId: string;
}>;
export declare function listMachines(ctx: VaultContext): Promise<MachineView[]>;
export declare function setMachineStatus(ctx: VaultContext, caller: Caller, nameOrId: string, status: 'active' | 'disabled', action: string): Promise<MachineView>;
/** Liveness for `machine list` / `rotation status`: written at most once per interval per machine. */
export declare function lastSeenRecorder(ctx: VaultContext, intervalMs?: number): (machineId: string) => void;
export interface ExtensionView {
    id: string;
    previousExpiresAt: number | null;
    newExpiresAt: number | null;
    reason: string | null;
    actor: string;
    createdAt: number;
    revertedAt: number | null;
    revertedBy: string | null;
}
/**
 * Moves a machine's expiry later by `byMs` (from its current expiry, or from now when that has
 * passed) and records the change with its reason. A temp-bootstrap machine cannot be extended
 * past 12 months after its creation. An expired (soft-disabled) machine comes back.
 */
export declare function extendMachine(ctx: VaultContext, caller: Caller, nameOrId: string, req: {
    byMs: number;
    reason: string;
}): Promise<MachineView & {
    extensionId: string;
}>;
/** Every extension of a machine, oldest first, reverted ones included. */
export declare function machineExtensions(ctx: VaultContext, nameOrId: string): Promise<{
    machine: string;
    expiresAt: number | null;
    extensions: ExtensionView[];
}>;
/** Undoes the last extension not yet reverted: the machine's expiry goes back to what it was. */
export declare function revertExtension(ctx: VaultContext, caller: Caller, nameOrId: string, req?: {
    reason?: string;
}): Promise<MachineView & {
    revertedExtensionId: string;
}>;
