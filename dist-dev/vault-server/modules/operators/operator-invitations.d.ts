import type { Caller, OperatorRole } from '../../http/authenticate.js';
import type { VaultContext } from '../../context.js';
export declare const INVITATION_PREFIX = "skinv_";
export declare const DEFAULT_INVITATION_MS: number;
export declare const MAX_INVITATION_MS: number;
export interface InvitationView {
    id: string;
    name: string;
    /** The new operator's role; for an existing operator, its role now. */
    role: OperatorRole | null;
    existing: boolean;
    status: 'pending' | 'accepted' | 'revoked' | 'expired';
    expiresAt: number;
    createdAt: number;
    createdBy: string;
    acceptedAt: number | null;
    acceptedKeyId: string | null;
}
export declare function createInvitation(ctx: VaultContext, caller: Caller, req: {
    name: string;
    role?: OperatorRole;
    existing?: boolean;
    expiresInMs?: number;
}, baseUrl: string): Promise<{
    id: string;
    name: string;
    role: OperatorRole;
    existing: boolean;
    token: string;
    expiresAt: number;
    url: string;
}>;
export declare function listInvitations(ctx: VaultContext): Promise<InvitationView[]>;
export declare function revokeInvitation(ctx: VaultContext, caller: Caller, id: string): Promise<InvitationView>;
/**
 * Uses an invitation: the key (already proven by the request's signature) becomes a new
 * operator's first key, or another key of the existing operator. Single use under a row lock.
 */
export declare function acceptInvitation(ctx: VaultContext, req: {
    token: string;
    publicKey: Uint8Array;
    label?: string;
    sourceIp: string;
}): Promise<{
    operator: {
        id: string;
        name: string;
        role: OperatorRole;
    };
    keyId: string;
}>;
