/**
 * The rotation rules that need no store: which strategies a policy may use, what a database
 * secret must hold, how long leases and backoffs are, and which state a failure report leads to.
 * Pure functions only (types from protocol/, no Kysely, no context): the agent's tests use
 * `failOutcome` for their fake vault, so the two sides decide a failure the same way.
 */
import { SikkerKeyError } from '../../../protocol/errors.js';
import { refusal } from '../../../protocol/engines.js';
/**
 * Refuses a strategy the engine cannot run, in protocol/engines.ts's words. Before any preflight
 * (`flavour` null) a strategy is allowed when some flavour of the engine runs it (`mysql` +
 * `dual`: MySQL 8 can); once a preflight reported the flavour (and version), that flavour decides
 * (MariaDB: no `dual`; MySQL below 8.0.14: no `dual`).
 */
export function assertStrategySupported(target, strategy) {
    const why = refusal(target, strategy);
    if (why !== undefined)
        throw new SikkerKeyError('SK_ERR_ROTATION_STRATEGY_UNSUPPORTED', why);
}
/** The fields a database secret must hold before it can be rotated. */
export const REQUIRED_DATABASE_FIELDS = ['host', 'port', 'username', 'password'];
export function assertDatabaseFields(fields, what) {
    const missing = REQUIRED_DATABASE_FIELDS.filter((f) => !fields[f]);
    if (missing.length > 0) {
        throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', `${what} lacks the field(s) ${missing.join(', ')}: a database secret holds host, port, username and password`);
    }
}
/** How long a claim holds before another agent may take the rotation over. */
export const LEASE_SECONDS = 30;
/** Unproven failures (live not verified) before the rotation is declared stuck. */
export const MAX_UNPROVEN_ATTEMPTS = 5;
/** Backoff before an unproven failure is retried: 2^attempt seconds (max 5 min), ±25 % jitter. */
export function retryDelayMs(attempt, random = Math.random) {
    const base = Math.min(300_000, 1000 * 2 ** Math.min(attempt, 12));
    return Math.round(base * (0.75 + random() * 0.5));
}
/**
 * The state an agent's failure report (`POST …/fail`) puts a claimed job in. `attempt` is the
 * attempt the report is about (the claim that counted it). In this order:
 * - a preflight changed nothing: `failed`;
 * - `undoRefused` (the database refused to undo a dual apply; the live password survives only as
 *   the retained one): `stuck`, and the vault marks the policy failing, since another dual apply
 *   would drop the live password; an operator resolves it (`rotation resolve --use live|pending`);
 * - a rotate job whose agent proved the live credential logs in: `failed` (pending discarded);
 * - neither credential logs in, or `MAX_UNPROVEN_ATTEMPTS` unproven attempts: `stuck`;
 * - otherwise (nothing proven): back to `pending`, retried with backoff, maybe_applied kept.
 * A retire job never ends `failed` here: its old password may be gone or not, so it is retried
 * until it succeeds or is stuck.
 *
 * @example
 *   failOutcome({ kind: 'rotate', attempt: 1 }, { liveVerified: true });                      // 'failed'
 *   failOutcome({ kind: 'rotate', attempt: 1 }, { liveVerified: true, undoRefused: true });   // 'stuck'
 *   failOutcome({ kind: 'retire', attempt: 1 }, { liveVerified: true });                      // 'pending'
 */
export function failOutcome(row, body) {
    if (row.kind === 'preflight')
        return 'failed';
    if (body.undoRefused === true)
        return 'stuck';
    if (body.liveVerified && row.kind === 'rotate')
        return 'failed';
    // nothing was changed and no earlier claim may have applied: the live credential is as it was
    if (body.untouched === true)
        return 'failed';
    if (body.neitherWorks === true || row.attempt >= MAX_UNPROVEN_ATTEMPTS)
        return 'stuck';
    return 'pending';
}
//# sourceMappingURL=rotation-rules.js.map