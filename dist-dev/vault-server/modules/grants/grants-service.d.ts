import type { Caller } from '../../http/authenticate.js';
import type { VaultContext } from '../../context.js';
export interface GrantView {
    id: string;
    machine: string;
    project: string;
    secret: string | null;
    fields: string[] | null;
    createdAt: number;
}
/**
 * Grants a machine a project, one secret of it, or chosen fields of one structured secret.
 * Granting the same scope again replaces its field list (audited like any change).
 */
export declare function addGrant(ctx: VaultContext, caller: Caller, req: {
    machine: string;
    project: string;
    secret?: string;
    fields?: string[];
}): Promise<GrantView>;
export declare function listGrants(ctx: VaultContext, filter?: {
    machine?: string;
    project?: string;
}): Promise<GrantView[]>;
export declare function removeGrant(ctx: VaultContext, caller: Caller, id: string): Promise<void>;
