import type { VaultContext } from '../../context.js';
import type { GeoIpLookup } from '../machines/machine-geoip.js';
import type { TokenKind } from './enrollment-tokens.js';
export interface EnrollRequest {
    token: string;
    /** The raw 32-byte public key the request was signed with. */
    publicKey: Uint8Array;
    keyId: string;
    /** As the host states it: advisory (a host can claim any name). */
    hostname: string;
    /** The request's source address (after --trust-proxy). */
    sourceIp: string;
}
export interface EnrollResult {
    machineId: string;
    name: string;
    keyId: string;
    expiresAt: number | null;
    status: 'active' | 'pending_approval';
}
/** Why an enrollment was refused, for the audit trail (the caller gets less: no hint which). */
export interface EnrollRefusal {
    tokenId: string | null;
    kind: TokenKind | null;
    reason: string;
}
/**
 * Mints the machine. Throws SK_ERR_TOKEN_INVALID (unknown / used / expired / revoked — no hint
 * which), SK_ERR_TOKEN_CONSTRAINT (source CIDR, hostname, bootstrap guardrails: the message says
 * which), SK_ERR_CONSTRAINT_UNKNOWN (a constraint this server does not know), SK_ERR_CONFLICT
 * (the key is registered already). `refusal` (when given) receives the precise reason.
 */
export declare function enrollMachine(ctx: VaultContext, deps: {
    geoip?: GeoIpLookup;
}, req: EnrollRequest, refusal?: EnrollRefusal): Promise<EnrollResult>;
/** Records a refused enrollment in its own transaction (the refused one rolled back). */
export declare function auditRefusedEnrollment(ctx: VaultContext, e: {
    refusal: EnrollRefusal;
    code: string;
    keyId: string | undefined;
    hostname: string | undefined;
    sourceIp: string;
}): Promise<void>;
