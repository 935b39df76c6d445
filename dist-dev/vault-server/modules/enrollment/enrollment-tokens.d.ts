import type { Caller } from '../../http/authenticate.js';
import type { VaultContext } from '../../context.js';
import type { Guards } from '../machines/machine-constraints.js';
export type TokenKind = 'enrollment' | 'bootstrap';
/** A token's `state` in `GET /v1/enroll-tokens` and `/v1/bootstrap-tokens`: derived, not stored. */
export type TokenState = 'active' | 'used' | 'expired' | 'revoked';
export declare const TOKEN_KINDS: {
    readonly enrollment: {
        readonly table: "enrollment_tokens";
        readonly prefix: "ske_";
        readonly createdVia: "enrollment_token";
    };
    readonly bootstrap: {
        readonly table: "bootstrap_tokens";
        readonly prefix: "skb_";
        readonly createdVia: "bootstrap_token";
    };
};
/** "12 months" is 365 days: the bound of a bootstrap machine's lifetime, extensions included. */
export declare const BOOTSTRAP_MAX_LIFETIME_MS: number;
export declare const BOOTSTRAP_MIN_LIFETIME_MS = 3600000;
export declare const ENROLLMENT_MIN_LIFETIME_MS = 60000;
export declare const ENROLLMENT_MAX_LIFETIME_MS: number;
export declare const TOKEN_MAX_EXPIRY_MS: number;
export declare const DEFAULT_TOKEN_EXPIRY_MS: Record<TokenKind, number>;
/** The keys a token's `constraints` JSON may hold, per kind; anything else fails closed at enrollment. */
export declare const TOKEN_CONSTRAINT_KEYS: Record<TokenKind, readonly string[]>;
/** A token's constraints, parsed. */
export interface TokenConstraints extends Guards {
    hostnameRegex?: HostnameMatcher;
    sourceCidrs?: Guards['ipAllowlist'];
    nameTemplate?: string;
}
/** One pre-baked grant, stored by id (names only for display). */
export interface TokenGrant {
    projectId: string;
    project: string;
    secretId?: string;
    secret?: string;
}
export declare function hashToken(token: string): string;
/** The kind a token's prefix names, or undefined. */
export declare function kindOfToken(token: string): TokenKind | undefined;
/** The longest hostname DNS allows (RFC 1035: 253 characters in text form). */
export declare const HOSTNAME_MAX_LENGTH = 253;
/** A compiled hostname regex: `test` runs in time linear in the hostname (RE2 semantics, no backtracking). */
export interface HostnameMatcher {
    source: string;
    test(hostname: string): boolean;
}
/**
 * Compiles a hostname regex, matched against the whole hostname, case-insensitively, with RE2
 * (re2js): linear time whatever the pattern, so no pattern can stall the event loop. Throws
 * SK_ERR_VALIDATION for a pattern that is not a regular expression at all (or is empty / over 256
 * characters) and SK_ERR_ENROLL_PATTERN_UNSUPPORTED for one that only backtracking engines
 * accept (look-around, back-references).
 */
export declare function compileHostnameRegex(source: string): HostnameMatcher;
/**
 * Parses a stored `constraints` JSON. Throws SK_ERR_CONSTRAINT_UNKNOWN for a key this server
 * does not know for this kind of token, or a value it cannot read (fail closed).
 */
export declare function parseTokenConstraints(kind: TokenKind, json: string | null): TokenConstraints;
export interface CreateTokenRequest {
    project: string;
    secrets?: string[];
    labels?: string[];
    name?: string;
    /** How long the token can be used (default 7 days for enrollment, 24 hours for bootstrap). */
    expiresInMs?: number;
    nameTemplate?: string;
    machineLifetimeMs?: number;
    maxUses?: number;
    hostnameRegex?: string;
    sourceCidrs?: string[];
    lifetimeMs?: number;
    ipAllowlist?: string[];
    countryAllowlist?: string[];
    timeWindow?: string;
    /** Bootstrap only: the minted machine is active at once (ignored for tokens an AI agent creates). */
    noApproval?: boolean;
}
export interface TokenView {
    id: string;
    kind: TokenKind;
    name: string | null;
    grants: Array<{
        project: string;
        secret: string | null;
    }>;
    labels: string[];
    constraints: Record<string, unknown>;
    uses: number;
    maxUses: number | null;
    machineLifetimeMs: number | null;
    requiresApproval: boolean;
    expiresAt: number;
    revokedAt: number | null;
    state: TokenState;
    createdBy: string;
    createdAt: number;
}
/** Creates a token; the token itself is in the answer and nowhere else. */
export declare function createToken(ctx: VaultContext, caller: Caller, kind: TokenKind, req: CreateTokenRequest): Promise<{
    id: string;
    token: string;
    expiresAt: number;
}>;
export declare function listTokens(ctx: VaultContext, kind: TokenKind): Promise<TokenView[]>;
/** Revokes a token (machines it already enrolled stay). Revoking twice changes nothing. */
export declare function revokeToken(ctx: VaultContext, caller: Caller, kind: TokenKind, id: string): Promise<TokenView>;
/**
 * The enrollment tokens (live ones: not revoked, not expired) whose hostname regex this vault
 * cannot compile with its linear-time matcher (stored by an older vault that ran JavaScript
 * regexes): each refuses every registration with SK_ERR_ENROLL_PATTERN_UNSUPPORTED. Logged at
 * start so an operator replaces them.
 */
export declare function tokensWithUnsupportedPatterns(ctx: VaultContext): Promise<Array<{
    id: string;
    name: string | null;
    hostnameRegex: string;
}>>;
/** The start-up warning's stable message. */
export declare const UNSUPPORTED_PATTERN_WARNING = "enrollment tokens with a hostname regex that needs a backtracking engine refuse every registration (SK_ERR_ENROLL_PATTERN_UNSUPPORTED): revoke them and create new ones with an RE2 hostname regex";
export declare function warnUnsupportedPatterns(ctx: VaultContext): Promise<void>;
