/**
 * The one error registry of SikkerKey. Every error any program returns, logs or prints carries
 * one of these stable codes; a client branches on `code`, a person reads `message`.
 *
 * Adding a code: add it here with its HTTP status and a one-line description. A test counts the
 * codes and checks each is documented, so a code never appears that this file does not list.
 *
 * @example
 *   throw new SikkerKeyError('SK_ERR_SIGNATURE_EXPIRED', 'signature expired 42 s ago');
 */
export declare const ERROR_CODES: {
    readonly SK_ERR_SIGNATURE_MISSING: {
        readonly status: 401;
        readonly what: "Signature, Signature-Input or Content-Digest header absent";
    };
    readonly SK_ERR_SIGNATURE_MALFORMED: {
        readonly status: 401;
        readonly what: "a signature header is not a valid structured field";
    };
    readonly SK_ERR_SIGNATURE_BAD_PARAMS: {
        readonly status: 401;
        readonly what: "signature parameters missing, duplicated, unknown or wrong";
    };
    readonly SK_ERR_SIGNATURE_BAD_COMPONENTS: {
        readonly status: 401;
        readonly what: "the covered components are not exactly the profile's";
    };
    readonly SK_ERR_SIGNATURE_EXPIRED: {
        readonly status: 401;
        readonly what: "the signature's expires (plus allowed skew) has passed";
    };
    readonly SK_ERR_SIGNATURE_FUTURE: {
        readonly status: 401;
        readonly what: "created is too far in the future";
    };
    readonly SK_ERR_SIGNATURE_LIFETIME: {
        readonly status: 401;
        readonly what: "expires - created exceeds 60 seconds";
    };
    readonly SK_ERR_SIGNATURE_NONCE: {
        readonly status: 401;
        readonly what: "nonce absent, too short, too long or not base64url";
    };
    readonly SK_ERR_SIGNATURE_ALG: {
        readonly status: 401;
        readonly what: "alg is present and is not ed25519";
    };
    readonly SK_ERR_SIGNATURE_TAG: {
        readonly status: 401;
        readonly what: "tag is not sikkerkey/v1";
    };
    readonly SK_ERR_SIGNATURE_NON_ASCII: {
        readonly status: 401;
        readonly what: "a covered value contains non-ASCII or control characters";
    };
    readonly SK_ERR_SIGNATURE_DIGEST_MISMATCH: {
        readonly status: 401;
        readonly what: "Content-Digest does not match the body bytes";
    };
    readonly SK_ERR_SIGNATURE_DIGEST_ALG: {
        readonly status: 401;
        readonly what: "Content-Digest uses no supported algorithm (sha-256, sha-512)";
    };
    readonly SK_ERR_SIGNATURE_UNKNOWN_KEY: {
        readonly status: 401;
        readonly what: "no identity with this key id may call this route";
    };
    readonly SK_ERR_SIGNATURE_INVALID: {
        readonly status: 401;
        readonly what: "the Ed25519 signature does not verify";
    };
    readonly SK_ERR_SIGNATURE_REPLAYED: {
        readonly status: 401;
        readonly what: "this nonce was already used with this key";
    };
    readonly SK_ERR_SIGNATURE_AUTHORITY: {
        readonly status: 401;
        readonly what: "@authority is not one this vault answers to";
    };
    readonly SK_ERR_RATE_LIMITED: {
        readonly status: 429;
        readonly what: "this address spent its failure budget; refused: requests failing without cryptography (unsigned, malformed, stale, digest mismatch, unknown key) and enrollments";
    };
    readonly SK_ERR_VERIFY_BUSY: {
        readonly status: 503;
        readonly what: "the vault is verifying as many signatures as it allows at once; retry after Retry-After";
    };
    readonly SK_ERR_IP_NOT_ALLOWED: {
        readonly status: 403;
        readonly what: "the source address is outside the allowed ranges";
    };
    readonly SK_ERR_FORBIDDEN: {
        readonly status: 403;
        readonly what: "the caller may not do this";
    };
    readonly SK_ERR_NO_GRANT: {
        readonly status: 403;
        readonly what: "the machine holds no grant for this secret or field";
    };
    readonly SK_ERR_MACHINE_DISABLED: {
        readonly status: 403;
        readonly what: "the machine is disabled";
    };
    readonly SK_ERR_MACHINE_PENDING_APPROVAL: {
        readonly status: 403;
        readonly what: "the machine waits for an operator's approval";
    };
    readonly SK_ERR_MACHINE_EXPIRED: {
        readonly status: 403;
        readonly what: "the machine's lifetime has ended";
    };
    readonly SK_ERR_MACHINE_CONSTRAINT: {
        readonly status: 403;
        readonly what: "a machine constraint (IP, country, time window) refused the request";
    };
    readonly SK_ERR_CONSTRAINT_UNKNOWN: {
        readonly status: 403;
        readonly what: "a constraint this server does not understand: refused (fail closed)";
    };
    readonly SK_ERR_KEY_REVOKED: {
        readonly status: 401;
        readonly what: "the key that signed the request was revoked";
    };
    readonly SK_ERR_ROLE_ESCALATION: {
        readonly status: 403;
        readonly what: "the operator's role may not grant or manage this role: owners manage every operator; admins may invite or add viewers only";
    };
    readonly SK_ERR_LAST_OWNER: {
        readonly status: 409;
        readonly what: "the change would leave no enabled owner with an unrevoked key";
    };
    readonly SK_ERR_INVITATION_INVALID: {
        readonly status: 401;
        readonly what: "the operator invitation is unknown, used, revoked or expired";
    };
    readonly SK_ERR_TOKEN_INVALID: {
        readonly status: 401;
        readonly what: "the enrollment or bootstrap token is unknown, used up, revoked or expired";
    };
    readonly SK_ERR_TOKEN_CONSTRAINT: {
        readonly status: 403;
        readonly what: "the token's constraints (CIDR, hostname) refused this enrollment";
    };
    readonly SK_ERR_ENROLL_PATTERN_UNSUPPORTED: {
        readonly status: 400;
        readonly what: "the hostname regex needs a backtracking engine (look-around, back-references); hostname regexes are RE2 syntax";
    };
    readonly SK_ERR_BAD_REQUEST: {
        readonly status: 400;
        readonly what: "the request is malformed";
    };
    readonly SK_ERR_VALIDATION: {
        readonly status: 400;
        readonly what: "the request body or query does not match the schema";
    };
    readonly SK_ERR_BODY_TOO_LARGE: {
        readonly status: 413;
        readonly what: "the request body is over the size limit";
    };
    readonly SK_ERR_REQUEST_TIMEOUT: {
        readonly status: 408;
        readonly what: "the request's headers or body did not arrive within the listener's timeouts";
    };
    readonly SK_ERR_HEADERS_TOO_LARGE: {
        readonly status: 431;
        readonly what: "the request's headers are over the HTTP server's size limit";
    };
    readonly SK_ERR_BODY_UNEXPECTED: {
        readonly status: 400;
        readonly what: "a GET, HEAD or DELETE request carries a body (no signature would cover its bytes)";
    };
    readonly SK_ERR_NOT_FOUND: {
        readonly status: 404;
        readonly what: "no such resource";
    };
    readonly SK_ERR_ROUTE_NOT_FOUND: {
        readonly status: 404;
        readonly what: "no such route";
    };
    readonly SK_ERR_METHOD_NOT_ALLOWED: {
        readonly status: 405;
        readonly what: "the route does not accept this method";
    };
    readonly SK_ERR_CONFLICT: {
        readonly status: 409;
        readonly what: "the resource already exists or changed meanwhile";
    };
    readonly SK_ERR_IN_USE: {
        readonly status: 409;
        readonly what: "the resource is named by something that needs it (a rotation policy, its agent or admin secret); --force to proceed where offered";
    };
    readonly SK_ERR_PROJECT_LOCKED: {
        readonly status: 423;
        readonly what: "the project is locked (a canary tripped); an operator must unlock it";
    };
    readonly SK_ERR_UNAVAILABLE: {
        readonly status: 503;
        readonly what: "the vault is shutting down or not ready";
    };
    readonly SK_ERR_INTERNAL: {
        readonly status: 500;
        readonly what: "an unexpected server error (a bug: report it)";
    };
    readonly SK_ERR_ROOT_KEY_MISSING: {
        readonly status: 500;
        readonly what: "no root key was supplied to the server";
    };
    readonly SK_ERR_ROOT_KEY_INVALID: {
        readonly status: 500;
        readonly what: "the root key is not 32 bytes of base64";
    };
    readonly SK_ERR_ROOT_KEY_WRONG: {
        readonly status: 500;
        readonly what: "the root key does not match this store's check value";
    };
    readonly SK_ERR_DECRYPT_FAILED: {
        readonly status: 500;
        readonly what: "a ciphertext failed authentication (moved, edited or wrong key)";
    };
    readonly SK_ERR_KEY_FILE: {
        readonly status: 400;
        readonly what: "a private key file is missing, unreadable, malformed or too permissive";
    };
    readonly SK_ERR_PUBLIC_KEY: {
        readonly status: 400;
        readonly what: "a public key is not a raw 32-byte Ed25519 key or an SPKI PEM";
    };
    readonly SK_ERR_STORE: {
        readonly status: 503;
        readonly what: "the store failed or is unreachable";
    };
    readonly SK_ERR_STORE_NOT_INITIALIZED: {
        readonly status: 500;
        readonly what: "the store has no vault in it: run sikkerkey-vault init";
    };
    readonly SK_ERR_STORE_ALREADY_INITIALIZED: {
        readonly status: 409;
        readonly what: "the store already holds a vault";
    };
    readonly SK_ERR_AUDIT_CHAIN: {
        readonly status: 500;
        readonly what: "the audit chain is broken";
    };
    readonly SK_ERR_AUDIT_KEYS_MISSING: {
        readonly status: 500;
        readonly what: "the audit MAC or signing key is missing from a store whose audit log was keyed";
    };
    readonly SK_ERR_AUDIT_CHECKPOINT: {
        readonly status: 400;
        readonly what: "an audit checkpoint is malformed, its signature fails, its key is not the vault's, or the log no longer holds it";
    };
    readonly SK_ERR_ROTATION_MANAGED: {
        readonly status: 409;
        readonly what: "the secret is under an enabled rotation policy";
    };
    readonly SK_ERR_ROTATION_IN_PROGRESS: {
        readonly status: 409;
        readonly what: "an unfinished rotation exists for this secret";
    };
    readonly SK_ERR_ROTATION_FENCED: {
        readonly status: 409;
        readonly what: "the report carries a stale fence: another claim owns the rotation";
    };
    readonly SK_ERR_ROTATION_STATE: {
        readonly status: 409;
        readonly what: "the rotation is not in a state that accepts this step";
    };
    readonly SK_ERR_ROTATION_NOT_CLAIMABLE: {
        readonly status: 403;
        readonly what: "this machine may not claim this rotation";
    };
    readonly SK_ERR_ROTATION_POLICY: {
        readonly status: 400;
        readonly what: "the rotation policy is invalid";
    };
    readonly SK_ERR_ROTATION_STRATEGY_UNSUPPORTED: {
        readonly status: 400;
        readonly what: "the engine does not support this strategy";
    };
    readonly SK_ERR_ROTATION_UNDO_REFUSED: {
        readonly status: 409;
        readonly what: "the database refused to undo a dual apply; the live password survives only as the retained one";
    };
    readonly SK_ERR_PROVIDER_AUTH_FAILED: {
        readonly status: 502;
        readonly what: "the database refused the credential";
    };
    readonly SK_ERR_PROVIDER_PRIVILEGE: {
        readonly status: 502;
        readonly what: "the admin credential lacks a privilege it needs";
    };
    readonly SK_ERR_PROVIDER_CONNECT: {
        readonly status: 502;
        readonly what: "the database could not be reached";
    };
    readonly SK_ERR_PROVIDER_TLS: {
        readonly status: 502;
        readonly what: "TLS to the database failed or was required and not offered";
    };
    readonly SK_ERR_PROVIDER_USER_NOT_FOUND: {
        readonly status: 502;
        readonly what: "the user or role to rotate does not exist";
    };
    readonly SK_ERR_PROVIDER_CONFIG: {
        readonly status: 400;
        readonly what: "the database secret lacks a field or has an invalid one";
    };
    readonly SK_ERR_PROVIDER_POOLER_CACHE: {
        readonly status: 502;
        readonly what: "the pooler still refuses a correct new password (its cache)";
    };
    readonly SK_ERR_PROVIDER_PASSWORD_REUSE: {
        readonly status: 502;
        readonly what: "the database's password-reuse policy refused the password";
    };
    readonly SK_ERR_PROVIDER_UNAVAILABLE: {
        readonly status: 502;
        readonly what: "the agent cannot load this engine's provider (its driver is missing or failed to start)";
    };
    readonly SK_ERR_PROVIDER_FAILED: {
        readonly status: 502;
        readonly what: "the database answered with an error we do not map";
    };
    readonly SK_ERR_CONFIG: {
        readonly status: 400;
        readonly what: "a configuration file, flag or variable is invalid";
    };
    readonly SK_ERR_USAGE: {
        readonly status: 400;
        readonly what: "a command was called with wrong arguments";
    };
    readonly SK_ERR_INSECURE_TRANSPORT: {
        readonly status: 400;
        readonly what: "plain http:// to a non-loopback address is refused";
    };
    readonly SK_ERR_TLS_PIN: {
        readonly status: 400;
        readonly what: "the server certificate does not match the pinned SPKI hash";
    };
    readonly SK_ERR_TLS_CERT: {
        readonly status: 400;
        readonly what: "the server certificate failed verification";
    };
    readonly SK_ERR_CONNECT: {
        readonly status: 503;
        readonly what: "the vault could not be reached";
    };
    readonly SK_ERR_RESPONSE: {
        readonly status: 502;
        readonly what: "the vault answered with something the client cannot read";
    };
};
export type ErrorCode = keyof typeof ERROR_CODES;
/** The one base class. `statusCode` is the HTTP status the server answers with. */
export declare class SikkerKeyError extends Error {
    readonly code: ErrorCode;
    readonly statusCode: number;
    /** Extra, non-secret fields for the error body (e.g. `retryAfter`, `rotationId`). */
    readonly details: Readonly<Record<string, unknown>> | undefined;
    constructor(code: ErrorCode, message?: string, options?: {
        cause?: unknown;
        details?: Record<string, unknown>;
    });
    /** The wire form: `{"error":{"code","message",…details}}`. */
    toBody(): {
        error: {
            code: ErrorCode;
            message: string;
        } & Record<string, unknown>;
    };
}
export declare function isErrorCode(value: unknown): value is ErrorCode;
export declare function isSikkerKeyError(value: unknown, code?: ErrorCode): value is SikkerKeyError;
