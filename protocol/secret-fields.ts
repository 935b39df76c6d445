/**
 * The one list of field names that carry a secret, derived from the wire types: every field of
 * each secret-bearing message is classified below, and the compiler refuses a classification
 * that misses a field or names one the type does not have — so a new credential field on the
 * wire cannot reach a log line unredacted. The vault's and the agent's loggers both redact
 * `SECRET_REDACT_PATHS`.
 *
 * @example
 *   pino({ redact: { paths: [...SECRET_REDACT_PATHS], censor: '[redacted]' } });
 */
import type { ClaimResponse } from './api-types.js';
import type { SecretValue } from './client.js';

/** Every field of every member of a union (ClaimResponse is one per job kind). */
type AllKeys<T> = T extends unknown ? keyof T : never;
/** `true`: the field carries a credential or secret material. */
type Classified<T> = Record<AllKeys<T>, boolean>;

/** `POST /v1/agent/rotations/{id}/claim` → 200: the only message carrying plaintext credentials. */
const CLAIM_RESPONSE = {
  id: false, kind: false, project: false, secret: false, engine: false, strategy: false, flavour: false, fence: false, leaseSeconds: false,
  attempt: false, maybeApplied: false, username: false, usernames: false,
  pendingPassword: true, livePassword: true, retirePassword: true,
  target: true, admin: true,
} as const satisfies Classified<ClaimResponse>;

/** `GET /v1/projects/{p}/secrets/{name}` → 200 (and `PUT`'s body: `value` or `fields`). */
const SECRET_VALUE = {
  project: false, name: false, version: false, noStore: false,
  value: true, fields: true,
} as const satisfies Classified<SecretValue>;

/**
 * Secret-bearing names outside those types: enrollment and bootstrap tokens (shown once, sent
 * once), a provider's or driver's `password`, the vault's root key.
 */
const OTHER = ['token', 'password', 'rootKey'] as const;

function secretKeys(classified: Record<string, boolean>): string[] {
  return Object.entries(classified).filter(([, secret]) => secret).map(([name]) => name);
}

/** Every secret-bearing field name, once each. */
export const SECRET_FIELD_NAMES: readonly string[] = Object.freeze([...new Set([...secretKeys(CLAIM_RESPONSE), ...secretKeys(SECRET_VALUE), ...OTHER])]);

/** pino `redact` paths for those names: at the top of a log object and one level down. */
export const SECRET_REDACT_PATHS: readonly string[] = Object.freeze(SECRET_FIELD_NAMES.flatMap((name) => [name, `*.${name}`]));
