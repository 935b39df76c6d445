/** `POST /v1/agent/rotations/{id}/claim` → 200: the only message carrying plaintext credentials. */
const CLAIM_RESPONSE = {
    id: false, kind: false, project: false, secret: false, engine: false, strategy: false, flavour: false, fence: false, leaseSeconds: false,
    attempt: false, maybeApplied: false, username: false, usernames: false,
    pendingPassword: true, livePassword: true, retirePassword: true,
    target: true, admin: true,
};
/** `GET /v1/projects/{p}/secrets/{name}` → 200 (and `PUT`'s body: `value` or `fields`). */
const SECRET_VALUE = {
    project: false, name: false, version: false,
    value: true, fields: true,
};
/**
 * Secret-bearing names outside those types: enrollment and bootstrap tokens (shown once, sent
 * once), a provider's or driver's `password`, the vault's root key.
 */
const OTHER = ['token', 'password', 'rootKey'];
function secretKeys(classified) {
    return Object.entries(classified).filter(([, secret]) => secret).map(([name]) => name);
}
/** Every secret-bearing field name, once each. */
export const SECRET_FIELD_NAMES = Object.freeze([...new Set([...secretKeys(CLAIM_RESPONSE), ...secretKeys(SECRET_VALUE), ...OTHER])]);
/** pino `redact` paths for those names: at the top of a log object and one level down. */
export const SECRET_REDACT_PATHS = Object.freeze(SECRET_FIELD_NAMES.flatMap((name) => [name, `*.${name}`]));
//# sourceMappingURL=secret-fields.js.map