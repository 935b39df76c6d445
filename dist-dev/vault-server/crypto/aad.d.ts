/** The purpose labels, one per kind of thing sealed. A new kind gets a new label, never a reused one. */
export declare const AAD_PURPOSE: {
    /** A project master key wrapped under the root key: (project id, key version). */
    readonly projectKey: "sk/project-key/v1";
    /** A secret version's data key wrapped under its project key: (project id, secret id, version). */
    readonly dataKey: "sk/data-key/v1";
    /** A secret version's value sealed under its data key: (project id, secret id, version). */
    readonly secretValue: "sk/secret-value/v1";
    /** The root-key check value sealed under the root key: no further parts. */
    readonly rootCheck: "sk/root-check/v1";
    /** An audit key (HMAC key or Ed25519 signing key) wrapped under the root key: (kind, key version). */
    readonly auditKey: "sk/audit-key/v1";
};
export type AadPurpose = (typeof AAD_PURPOSE)[keyof typeof AAD_PURPOSE];
export declare function encodeAad(purpose: string, ...parts: Array<string | number>): Buffer;
