import type { Caller, OperatorRole } from '../../http/authenticate.js';
import type { Tx, VaultContext } from '../../context.js';
import type { IdentityStatus } from '../../store/database.js';
export interface OperatorView {
    id: string;
    name: string;
    role: OperatorRole;
    status: IdentityStatus;
    /** Unrevoked keys. */
    keys: number;
    lastUsedAt: number | null;
    createdAt: number;
}
export interface OperatorKeyView {
    keyId: string;
    label: string;
    createdAt: number;
    lastUsedAt: number | null;
    revokedAt: number | null;
}
export declare function checkLabel(label: string | undefined, fallback: string): string;
/** The operator named (or with this id), or 404. */
export declare function requireOperator(trx: Tx, nameOrId: string): Promise<{
    name: string;
    id: string;
    created_at: number;
    created_by: string | null;
    role: import("../../store/database.js").OperatorRole;
    status: IdentityStatus;
}>;
/** Inserts a key for an operator; a key any identity holds already (even revoked) is refused. */
export declare function insertOperatorKey(trx: Tx, req: {
    operatorId: string;
    publicKey: Uint8Array;
    label: string;
    now: number;
    createdBy: string;
}): Promise<string>;
export declare function listOperators(ctx: VaultContext): Promise<OperatorView[]>;
/** `operator add NAME --public-key KEY --role R`: for scripted setups, the key made elsewhere. */
export declare function addOperator(ctx: VaultContext, caller: Caller, req: {
    name: string;
    publicKey: string;
    role: OperatorRole;
    label?: string;
}): Promise<{
    id: string;
    name: string;
    role: OperatorRole;
    keyId: string;
}>;
export declare function setOperatorRole(ctx: VaultContext, caller: Caller, nameOrId: string, role: OperatorRole): Promise<OperatorView>;
export declare function setOperatorStatus(ctx: VaultContext, caller: Caller, nameOrId: string, status: IdentityStatus): Promise<OperatorView>;
/**
 * Removes an operator: the row goes, its keys stay as revoked rows (a key is never registered
 * again, to anyone), its pending invitations are revoked. Audit events keep its id.
 */
export declare function removeOperator(ctx: VaultContext, caller: Caller, nameOrId: string): Promise<{
    removed: string;
}>;
/** An operator's keys: their own, or anyone's for an admin or owner. */
export declare function listOperatorKeys(ctx: VaultContext, caller: Caller, nameOrId: string): Promise<{
    operator: string;
    keys: OperatorKeyView[];
}>;
/** Revokes one key at once: an owner any key, an operator their own. Refused if no usable owner would remain. */
export declare function revokeOperatorKey(ctx: VaultContext, caller: Caller, nameOrId: string, keyId: string): Promise<OperatorKeyView>;
/**
 * `operator rotate-key`: the request is signed with the old key (the caller's), and `proof` is
 * the new key's Ed25519 signature over rotationProofMessage(old, new). In one transaction the new
 * key is added (with the old one's label unless another is given) and the old one revoked.
 */
export declare function rotateOperatorKey(ctx: VaultContext, caller: Caller, req: {
    publicKey: string;
    proof: string;
    label?: string;
}): Promise<{
    operator: string;
    oldKeyId: string;
    keyId: string;
}>;
/** Records an operator key's use at most once a minute per key (it does not move the change counter). */
export declare function keyUseRecorder(ctx: VaultContext, intervalMs?: number): (keyId: string) => void;
