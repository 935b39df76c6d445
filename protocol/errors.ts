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

export const ERROR_CODES = {
  // -- request signing (RFC 9421 profile) ---------------------------------------------------
  SK_ERR_SIGNATURE_MISSING: { status: 401, what: 'Signature, Signature-Input or Content-Digest header absent' },
  SK_ERR_SIGNATURE_MALFORMED: { status: 401, what: 'a signature header is not a valid structured field' },
  SK_ERR_SIGNATURE_BAD_PARAMS: { status: 401, what: 'signature parameters missing, duplicated, unknown or wrong' },
  SK_ERR_SIGNATURE_BAD_COMPONENTS: { status: 401, what: 'the covered components are not exactly the profile\'s' },
  SK_ERR_SIGNATURE_EXPIRED: { status: 401, what: 'the signature\'s expires (plus allowed skew) has passed' },
  SK_ERR_SIGNATURE_FUTURE: { status: 401, what: 'created is too far in the future' },
  SK_ERR_SIGNATURE_LIFETIME: { status: 401, what: 'expires - created exceeds 60 seconds' },
  SK_ERR_SIGNATURE_NONCE: { status: 401, what: 'nonce absent, too short, too long or not base64url' },
  SK_ERR_SIGNATURE_ALG: { status: 401, what: 'alg is present and is not ed25519' },
  SK_ERR_SIGNATURE_TAG: { status: 401, what: 'tag is not sikkerkey/v1' },
  SK_ERR_SIGNATURE_NON_ASCII: { status: 401, what: 'a covered value contains non-ASCII or control characters' },
  SK_ERR_SIGNATURE_DIGEST_MISMATCH: { status: 401, what: 'Content-Digest does not match the body bytes' },
  SK_ERR_SIGNATURE_DIGEST_ALG: { status: 401, what: 'Content-Digest uses no supported algorithm (sha-256, sha-512)' },
  SK_ERR_SIGNATURE_UNKNOWN_KEY: { status: 401, what: 'no identity with this key id may call this route' },
  SK_ERR_SIGNATURE_INVALID: { status: 401, what: 'the Ed25519 signature does not verify' },
  SK_ERR_SIGNATURE_REPLAYED: { status: 401, what: 'this nonce was already used with this key' },
  SK_ERR_SIGNATURE_AUTHORITY: { status: 401, what: '@authority is not one this vault answers to' },

  // -- authentication and authorisation ----------------------------------------------------
  SK_ERR_RATE_LIMITED: { status: 429, what: 'this address spent its failure budget; refused: requests failing without cryptography (unsigned, malformed, stale, digest mismatch, unknown key) and enrollments' },
  SK_ERR_VERIFY_BUSY: { status: 503, what: 'the vault is verifying as many signatures as it allows at once; retry after Retry-After' },
  SK_ERR_IP_NOT_ALLOWED: { status: 403, what: 'the source address is outside the allowed ranges' },
  SK_ERR_FORBIDDEN: { status: 403, what: 'the caller may not do this' },
  SK_ERR_NO_GRANT: { status: 403, what: 'the machine holds no grant for this secret or field' },
  SK_ERR_MACHINE_DISABLED: { status: 403, what: 'the machine is disabled' },
  SK_ERR_MACHINE_PENDING_APPROVAL: { status: 403, what: 'the machine waits for an operator\'s approval' },
  SK_ERR_MACHINE_EXPIRED: { status: 403, what: 'the machine\'s lifetime has ended' },
  SK_ERR_MACHINE_NOT_APPROVED: { status: 409, what: 'the machine was disabled before it was ever approved: `machine enable` does not approve it; an operator approves it (sikkerkey machine approve)' },
  SK_ERR_MACHINE_CONSTRAINT: { status: 403, what: 'a machine constraint (IP, country, time window) refused the request' },
  SK_ERR_CONSTRAINT_UNKNOWN: { status: 403, what: 'a constraint this server does not understand: refused (fail closed)' },
  SK_ERR_KEY_REVOKED: { status: 401, what: 'the key that signed the request was revoked' },
  SK_ERR_ROLE_ESCALATION: { status: 403, what: 'the operator\'s role may not grant or manage this role: owners manage every operator; admins may invite or add viewers only' },
  SK_ERR_LAST_OWNER: { status: 409, what: 'the change would leave no enabled owner with an unrevoked key' },
  SK_ERR_INVITATION_INVALID: { status: 401, what: 'the operator invitation is unknown, used, revoked or expired' },
  SK_ERR_TOKEN_INVALID: { status: 401, what: 'the enrollment or bootstrap token is unknown, used up, revoked or expired' },
  SK_ERR_TOKEN_CONSTRAINT: { status: 403, what: 'the token\'s constraints (CIDR, hostname) refused this enrollment' },
  SK_ERR_SCOPE_MISSING: { status: 403, what: 'the AI agent does not hold the scope this route needs (docs/api.md, "AI agent scopes")' },
  SK_ERR_SCOPE_UNKNOWN: { status: 400, what: 'a scope is not in the AI agent scope catalog (docs/api.md, "AI agent scopes")' },
  SK_ERR_AI_AGENT_DISABLED: { status: 403, what: 'the AI agent is disabled (sikkerkey ai-agent enable)' },
  SK_ERR_AI_AGENT_REVOKED: { status: 401, what: 'the AI agent was revoked; its key is refused for good' },
  SK_ERR_AI_AGENT_RATE_LIMITED: { status: 429, what: 'this AI agent\'s key is over its request rate; retry after Retry-After' },
  SK_ERR_AI_AGENT_SECRET_IN_USE: { status: 403, what: 'an AI agent may not write or roll back a secret a rotation policy uses (its target or admin secret): an operator does' },
  SK_ERR_ENROLL_PATTERN_UNSUPPORTED: { status: 400, what: 'the hostname regex needs a backtracking engine (look-around, back-references); hostname regexes are RE2 syntax' },

  // -- requests ----------------------------------------------------------------------------
  SK_ERR_BAD_REQUEST: { status: 400, what: 'the request is malformed' },
  SK_ERR_VALIDATION: { status: 400, what: 'the request body or query does not match the schema' },
  SK_ERR_BODY_TOO_LARGE: { status: 413, what: 'the request body is over the size limit' },
  SK_ERR_REQUEST_TIMEOUT: { status: 408, what: 'the request\'s headers or body did not arrive within the listener\'s timeouts' },
  SK_ERR_HEADERS_TOO_LARGE: { status: 431, what: 'the request\'s headers are over the HTTP server\'s size limit' },
  SK_ERR_BODY_UNEXPECTED: { status: 400, what: 'a GET, HEAD or DELETE request carries a body (no signature would cover its bytes)' },
  SK_ERR_NOT_FOUND: { status: 404, what: 'no such resource' },
  SK_ERR_ROUTE_NOT_FOUND: { status: 404, what: 'no such route' },
  SK_ERR_METHOD_NOT_ALLOWED: { status: 405, what: 'the route does not accept this method' },
  SK_ERR_CONFLICT: { status: 409, what: 'the resource already exists or changed meanwhile' },
  SK_ERR_IN_USE: { status: 409, what: 'the resource is named by something that needs it (a rotation policy, its agent or admin secret); --force to proceed where offered' },
  SK_ERR_SECRET_EXPIRED: { status: 410, what: 'the secret\'s access policy has expired it (ttl: expiresAt passed or maxReads served); an operator may extend the policy' },
  SK_ERR_POLICY_TIME_WINDOW: { status: 403, what: 'the secret\'s access policy refuses reads at this time (timeWindow)' },
  SK_ERR_POLICY_IP: { status: 403, what: 'the secret\'s access policy refuses reads from this address (ipAllowlist)' },
  SK_ERR_POLICY_COSIGN: { status: 403, what: 'the secret\'s access policy needs a second machine\'s co-sign for this read, and none unused is within the window (coSign)' },
  SK_ERR_POLICY_RATE: { status: 429, what: 'the secret\'s access policy read cap is reached (rateCap); retry after Retry-After' },
  SK_ERR_PROJECT_LOCKED: { status: 423, what: 'the project is locked (a canary tripped); an operator must unlock it' },
  SK_ERR_WEBHOOK_EVENT_UNKNOWN: { status: 400, what: 'an event name is not in the webhook event catalog (docs/webhooks.md, "Events")' },
  SK_ERR_WEBHOOK_URL_INVALID: { status: 400, what: 'a webhook URL is not an absolute http:// or https:// URL' },
  SK_ERR_UNAVAILABLE: { status: 503, what: 'the vault is shutting down or not ready' },
  SK_ERR_UI_NOT_BUILT: { status: 404, what: 'the dashboard\'s files (dist/ui/index.html) are missing: run `npm run build`, whose UI step writes dist/ui/' },
  SK_ERR_INTERNAL: { status: 500, what: 'an unexpected server error (a bug: report it)' },

  // -- keys and encryption -----------------------------------------------------------------
  SK_ERR_ROOT_KEY_MISSING: { status: 500, what: 'no root key was supplied to the server' },
  SK_ERR_ROOT_KEY_INVALID: { status: 500, what: 'the root key is not 32 bytes of base64' },
  SK_ERR_ROOT_KEY_WRONG: { status: 500, what: 'the root key does not match this store\'s check value' },
  SK_ERR_DECRYPT_FAILED: { status: 500, what: 'a ciphertext failed authentication (moved, edited or wrong key)' },
  SK_ERR_KEY_FILE: { status: 400, what: 'a private key file is missing, unreadable, malformed or too permissive' },
  SK_ERR_PUBLIC_KEY: { status: 400, what: 'a public key is not a raw 32-byte Ed25519 key or an SPKI PEM' },

  // -- store -------------------------------------------------------------------------------
  SK_ERR_STORE: { status: 503, what: 'the store failed or is unreachable' },
  SK_ERR_STORE_NOT_INITIALIZED: { status: 500, what: 'the store has no vault in it: run sikkerkey-vault init' },
  SK_ERR_STORE_ALREADY_INITIALIZED: { status: 409, what: 'the store already holds a vault' },
  SK_ERR_STORE_SCHEMA: { status: 503, what: 'the store\'s schema is not the one this vault runs on: migrations are pending (run sikkerkey-vault migrate), or it was migrated by a newer version' },
  SK_ERR_AUDIT_CHAIN: { status: 500, what: 'the audit chain is broken' },
  SK_ERR_AUDIT_KEYS_MISSING: { status: 500, what: 'the audit MAC or signing key is missing from a store whose audit log was keyed' },
  SK_ERR_AUDIT_CHECKPOINT: { status: 400, what: 'an audit checkpoint is malformed, its signature fails, its key is not the vault\'s, or the log no longer holds it' },
  SK_ERR_AUDIT_CURSOR: { status: 400, what: 'an audit listing cursor was not handed out by this vault (pass nextCursor back unchanged)' },
  SK_ERR_AUDIT_RETENTION: { status: 400, what: 'a project\'s audit retention would be shorter than the vault\'s (`serve --audit-retention`): a project may only keep its events longer' },
  SK_ERR_AUDIT_SINK: { status: 502, what: 'the audit sink cannot be reached or was refused (a syslog+tls receiver whose certificate is not trusted, a connection refused)' },
  SK_ERR_AUDIT_EXPORT: { status: 400, what: 'an audit export file is malformed or does not verify (an edited, inserted or reordered line)' },

  // -- rotation ----------------------------------------------------------------------------
  SK_ERR_ROTATION_MANAGED: { status: 409, what: 'the secret is under an enabled rotation policy' },
  SK_ERR_ROTATION_IN_PROGRESS: { status: 409, what: 'an unfinished rotation exists for this secret' },
  SK_ERR_ROTATION_FENCED: { status: 409, what: 'the report carries a stale fence: another claim owns the rotation' },
  SK_ERR_ROTATION_STATE: { status: 409, what: 'the rotation is not in a state that accepts this step' },
  SK_ERR_ROTATION_NOT_CLAIMABLE: { status: 403, what: 'this machine may not claim this rotation' },
  SK_ERR_ROTATION_POLICY: { status: 400, what: 'the rotation policy is invalid' },
  SK_ERR_ROTATION_STRATEGY_UNSUPPORTED: { status: 400, what: 'the engine does not support this strategy' },
  SK_ERR_ROTATION_AWAITING_APPROVAL: { status: 409, what: 'the rotation policy was set or changed by an AI agent and runs only once an operator approves it (sikkerkey rotation approve)' },
  SK_ERR_ROTATION_UNDO_REFUSED: { status: 409, what: 'the database refused to undo a dual apply; the live password survives only as the retained one' },

  // -- leased credentials (docs/leases.md) ---------------------------------------------------
  SK_ERR_LEASE_NOT_FOUND: { status: 404, what: 'no such lease (or lease role), or not one this caller may see' },
  SK_ERR_LEASE_LIMIT: { status: 409, what: 'a lease limit is reached: the role\'s --max-leases (409), or the machine\'s concurrent live leases of the role (429, with Retry-After)' },
  SK_ERR_LEASE_MAX_TTL: { status: 409, what: 'the lease is already at its maximum lifetime (the role\'s --max-ttl); lease anew' },
  SK_ERR_LEASE_STATE: { status: 409, what: 'the lease (or its job) is not in a state that accepts this step, e.g. renewing a revoked lease' },

  // -- providers (the agent maps driver errors onto these) ----------------------------------
  SK_ERR_PROVIDER_AUTH_FAILED: { status: 502, what: 'the database refused the credential' },
  SK_ERR_PROVIDER_PRIVILEGE: { status: 502, what: 'the admin credential lacks a privilege it needs' },
  SK_ERR_PROVIDER_CONNECT: { status: 502, what: 'the database could not be reached' },
  SK_ERR_PROVIDER_TLS: { status: 502, what: 'TLS to the database failed or was required and not offered' },
  SK_ERR_PROVIDER_USER_NOT_FOUND: { status: 502, what: 'the user or role to rotate does not exist' },
  SK_ERR_PROVIDER_CONFIG: { status: 400, what: 'the database secret lacks a field or has an invalid one' },
  SK_ERR_PROVIDER_POOLER_CACHE: { status: 502, what: 'the pooler still refuses a correct new password (its cache)' },
  SK_ERR_PROVIDER_PASSWORD_REUSE: { status: 502, what: 'the database\'s password-reuse policy refused the password' },
  SK_ERR_PROVIDER_UNAVAILABLE: { status: 502, what: 'the agent cannot load this engine\'s provider (its driver is missing or failed to start)' },
  SK_ERR_PROVIDER_FAILED: { status: 502, what: 'the database answered with an error we do not map' },

  // -- clients and configuration -----------------------------------------------------------
  SK_ERR_CONFIG: { status: 400, what: 'a configuration file, flag or variable is invalid' },
  SK_ERR_USAGE: { status: 400, what: 'a command was called with wrong arguments' },
  SK_ERR_INSECURE_TRANSPORT: { status: 400, what: 'plain http:// to a non-loopback address is refused' },
  SK_ERR_TLS_PIN: { status: 400, what: 'the server certificate does not match the pinned SPKI hash' },
  SK_ERR_TLS_CERT: { status: 400, what: 'the server certificate failed verification' },
  SK_ERR_CONNECT: { status: 503, what: 'the vault could not be reached' },
  SK_ERR_RESPONSE: { status: 502, what: 'the vault answered with something the client cannot read' },
  SK_ERR_CACHE_STALE: { status: 503, what: 'the vault cannot be reached and the agent\'s offline cache holds this secret only from longer ago than cacheMaxAge' },
  SK_ERR_TEMPLATE_WRITE: { status: 500, what: 'the agent could not write a rendered template file (its directory is missing, not writable, or the disk is full)' },

  // -- webhooks ----------------------------------------------------------------------------
  SK_ERR_WEBHOOK_TARGET_FORBIDDEN: { status: 400, what: 'a webhook URL is not https, does not resolve, or resolves to a non-public address outside --webhook-allow-cidr' },
} as const satisfies Record<string, { status: number; what: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The one base class. `statusCode` is the HTTP status the server answers with. */
export class SikkerKeyError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** Extra, non-secret fields for the error body (e.g. `retryAfter`, `rotationId`). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message?: string, options?: {
    cause?: unknown; details?: Record<string, unknown>;
    /** Another 4xx status than the registry's, where the registry says so (SK_ERR_LEASE_LIMIT: 409 or 429). */
    status?: number;
  }) {
    super(message ?? ERROR_CODES[code].what, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SikkerKeyError';
    this.code = code;
    this.statusCode = options?.status ?? ERROR_CODES[code].status;
    this.details = options?.details;
  }

  /** The wire form: `{"error":{"code","message",…details}}`. */
  toBody(): { error: { code: ErrorCode; message: string } & Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

export function isSikkerKeyError(value: unknown, code?: ErrorCode): value is SikkerKeyError {
  return value instanceof SikkerKeyError && (code === undefined || value.code === code);
}
