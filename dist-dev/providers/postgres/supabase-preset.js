/**
 * The Supabase preset of the PostgreSQL provider. Supabase is PostgreSQL behind Supavisor, its
 * pooler; what differs is only where and how a credential is proven:
 *
 * - TLS is required on every connection: "tls" defaults to "require", and "disable" is refused.
 *   The modes mean what they mean for every provider (tlsOptions() in ../provider-config.ts):
 *   "require" alone encrypts only; "require" with caFile also checks that the certificate chains
 *   to it (not the name); "verify-full" checks chain and host name.
 * - Applications log in through the pooler as `<role>.<projectRef>` (Supavisor finds the project
 *   by the suffix, and answers "Tenant or user not found" without it), so verification does too.
 * - Supavisor caches credentials for a few seconds: right after ALTER ROLE it may still refuse the
 *   new password. A refused password that this provider has just set is therefore retried, a
 *   bounded number of seconds; after that the error names the cache (SK_ERR_PROVIDER_POOLER_CACHE),
 *   after checking at the direct address that the database itself takes the password. A password
 *   the provider did not just set is refused at once, so a wrong one is never waited on.
 * - `verifyVia: "direct"` verifies at the database's own address (host/port) as the plain role:
 *   the fallback when the pooler is not reachable from the agent, or its cache is in the way.
 *
 * Changes (ALTER ROLE) run on the admin secret's address exactly as written: the direct address
 * as `postgres`, or the pooler in session mode as `postgres.<projectRef>`.
 *
 * Target secret fields: host, port (direct, default 5432), poolerHost, poolerPort (default 6543),
 * projectRef, username (the role, without the suffix), password, database, tls, caFile (applies
 * to the pooler too), verifyVia ("pooler" | "direct"), poolerRetrySeconds (default 10, 0–120).
 *
 * @example
 *   const provider = postgresProvider({ preset: supabasePreset });
 *   await provider.initialize({
 *     admin: { host: 'db.abcd.supabase.co', port: '5432', username: 'postgres', password: adminPw, tls: 'require' },
 *     target: { host: 'db.abcd.supabase.co', port: '5432', poolerHost: 'aws-0-eu-west-1.pooler.supabase.com',
 *               poolerPort: '6543', projectRef: 'abcd', username: 'app', password: live, tls: 'require' },
 *   });
 *   await provider.verify({ username: 'app', password: live }); // logs in as "app.abcd" at the pooler
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';
import { describeEndpoint, field, readEndpoint } from '../provider-config.js';
import { quoteName } from '../provider-errors.js';
export const SUPABASE_POOLER_PORT = 6543;
export const DEFAULT_POOLER_RETRY_SECONDS = 10;
const MAX_POOLER_RETRY_SECONDS = 120;
// Supabase project refs are lower-case letters; a dot would make `<role>.<ref>` ambiguous.
const PROJECT_REF = /^[A-Za-z0-9_-]{1,64}$/;
const TENANT_NOT_FOUND = /tenant or user not found/i;
/** The preset; `postgresProvider({ preset: supabasePreset() })` is the `supabase` engine. */
export function supabasePreset(options = {}) {
    const firstDelay = options.firstRetryDelayMs ?? 250;
    return {
        engine: 'supabase',
        readEndpoint: readSupabaseEndpoint,
        verifier: ({ endpoint, secret }) => supabaseVerifier(endpoint, secret, firstDelay),
    };
}
function readSupabaseEndpoint(secret, which) {
    const tls = field(secret, 'tls')?.trim();
    if (tls === 'disable') {
        throw configError(`the Supabase ${which} secret has "tls" "disable", but Supabase requires TLS: use "require" (add "caFile" set to ` +
            'Supabase\'s CA certificate, from Dashboard → Database settings → SSL, to check the certificate chain too), ' +
            'or "verify-full" with that "caFile" to check the host name as well');
    }
    return readEndpoint({ ...secret, tls: tls ?? 'require' }, { secret: which, engine: 'Supabase', defaultPort: 5432, passwordRequired: which === 'admin' });
}
function supabaseVerifier(direct, secret, firstDelayMs) {
    const projectRef = field(secret, 'projectRef')?.trim();
    if (projectRef === undefined) {
        throw configError('the Supabase target secret has no "projectRef" field: set it to the project\'s reference (the <ref> in db.<ref>.supabase.co)');
    }
    if (!PROJECT_REF.test(projectRef)) {
        throw configError(`the Supabase target secret's "projectRef" ${quoteName(projectRef)} is not a project reference (letters and digits, as in db.<ref>.supabase.co)`);
    }
    if (direct.username.endsWith(`.${projectRef}`)) {
        throw configError(`the Supabase target secret's username ${quoteName(direct.username)} already ends with ".${projectRef}": ` +
            'store the role name alone; the pooler user <role>.<projectRef> is built from it');
    }
    const via = field(secret, 'verifyVia')?.trim() ?? 'pooler';
    if (via === 'direct')
        return { verify: ({ username, login }) => login({ endpoint: direct, user: username }) };
    if (via !== 'pooler')
        throw configError(`the Supabase target secret has "verifyVia" ${quoteName(via)}: use "pooler" (the default) or "direct"`);
    const poolerHost = field(secret, 'poolerHost')?.trim();
    if (poolerHost === undefined) {
        throw configError('the Supabase target secret has no "poolerHost" field: set it to the pooler\'s host (e.g. aws-0-<region>.pooler.supabase.com), ' +
            'or set "verifyVia" to "direct" to verify at the database\'s own address');
    }
    const poolerPort = numberField(secret, 'poolerPort', SUPABASE_POOLER_PORT, 1, 65535, 'a TCP port number');
    const retrySeconds = numberField(secret, 'poolerRetrySeconds', DEFAULT_POOLER_RETRY_SECONDS, 0, MAX_POOLER_RETRY_SECONDS, `a number of seconds from 0 to ${MAX_POOLER_RETRY_SECONDS}`);
    const pooler = Object.freeze({ ...direct, host: poolerHost, port: poolerPort });
    return {
        async verify({ username, justApplied, login }) {
            const at = { endpoint: pooler, user: `${username}.${projectRef}` };
            const started = Date.now();
            let delay = firstDelayMs;
            let attempts = 0;
            for (;;) {
                attempts++;
                let refused;
                try {
                    return await login(at);
                }
                catch (err) {
                    refused = poolerError(err, at);
                    // only the password just set may be a stale cache; any other refusal is the answer
                    if (!justApplied || !isSikkerKeyError(refused, 'SK_ERR_PROVIDER_AUTH_FAILED'))
                        throw refused;
                }
                if (Date.now() - started + delay > retrySeconds * 1000) {
                    return cacheVerdict({ username, at, direct, attempts, seconds: (Date.now() - started) / 1000, refused, login });
                }
                await sleep(delay);
                delay = Math.min(delay * 2, 2_000);
            }
        },
    };
}
/** The pooler's own refusals, in Supabase's terms. */
function poolerError(err, at) {
    const e = isSikkerKeyError(err) ? err : new SikkerKeyError('SK_ERR_PROVIDER_FAILED', String(err), { cause: err });
    const where = `the Supabase pooler at ${describeEndpoint(at.endpoint)}`;
    if (TENANT_NOT_FOUND.test(e.message)) {
        return new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `${where} does not know the user ${quoteName(at.user)} ("Tenant or user not found"): check the target secret's "projectRef" ` +
            'and "poolerHost" (the pooler of the project\'s region)', { cause: e.cause });
    }
    return new SikkerKeyError(e.code, `${where}, as ${quoteName(at.user)}: ${e.message}`, { cause: e.cause, ...(e.details ? { details: e.details } : {}) });
}
/**
 * The pooler kept refusing the password this provider just set. Whether that is its cache or a
 * password the database itself refuses (a role that cannot log in) is settled at the direct address.
 */
async function cacheVerdict(req) {
    let directly;
    try {
        await req.login({ endpoint: req.direct, user: req.username });
        directly = `logs in at the direct address ${describeEndpoint(req.direct)}`;
    }
    catch (err) {
        if (isSikkerKeyError(err, 'SK_ERR_PROVIDER_AUTH_FAILED')) {
            throw new SikkerKeyError('SK_ERR_PROVIDER_AUTH_FAILED', `role ${quoteName(req.username)} is refused both by the Supabase pooler and at the direct address ${describeEndpoint(req.direct)} ` +
                'with the password just set: check that the role may log in (LOGIN, VALID UNTIL)', { cause: err.cause });
        }
        directly = `could not be checked at the direct address (${isSikkerKeyError(err) ? err.code : 'error'})`;
    }
    throw new SikkerKeyError('SK_ERR_PROVIDER_POOLER_CACHE', `the Supabase pooler at ${describeEndpoint(req.at.endpoint)} still refuses role ${quoteName(req.username)} (as ${quoteName(req.at.user)}) ` +
        `with the password just set, after ${req.attempts} attempts in ${req.seconds.toFixed(1)} s; the password ${directly}. ` +
        'The pooler caches credentials for a while after a change, so a later attempt will likely pass; to wait longer, raise the ' +
        'target secret\'s "poolerRetrySeconds", or set "verifyVia" to "direct" to verify at the database\'s own address', { cause: req.refused.cause });
}
function numberField(secret, name, fallback, min, max, what) {
    const text = field(secret, name)?.trim();
    if (text === undefined)
        return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max || (name.endsWith('Port') && !Number.isInteger(value))) {
        throw configError(`the Supabase target secret's "${name}" is not ${what} (got ${JSON.stringify(text)})`);
    }
    return value;
}
function configError(message) {
    return new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', message);
}
//# sourceMappingURL=supabase-preset.js.map