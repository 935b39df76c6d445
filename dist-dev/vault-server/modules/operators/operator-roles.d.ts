import type { Caller, OperatorRole } from '../../http/authenticate.js';
import type { Tx, VaultContext } from '../../context.js';
export declare const ROLES: readonly OperatorRole[];
/** Throws unless the caller may give `role` to someone (invite, add, a key for an operator of that role). */
export declare function mayGrant(caller: Caller, role: OperatorRole): void;
/** Throws unless the caller is an owner: changing someone's role or status is an owner's act. */
export declare function requireOwner(caller: Caller, what: string): void;
/**
 * Holds every owner row (PostgreSQL: FOR UPDATE) so two concurrent changes — two owners demoting
 * each other — run one after the other and the second sees the first. SQLite has one writer.
 */
export declare function lockOwners(ctx: VaultContext, trx: Tx): Promise<void>;
/** Usable owners: role owner, enabled, with at least one unrevoked key. */
export declare function usableOwners(trx: Tx): Promise<number>;
export declare function assertAnOwnerRemains(trx: Tx): Promise<void>;
/** Runs a roster change; a refusal for escalation or the last owner is audited as denied. */
export declare function guarded<T>(ctx: VaultContext, caller: Caller, action: string, target: string, fn: () => Promise<T>): Promise<T>;
