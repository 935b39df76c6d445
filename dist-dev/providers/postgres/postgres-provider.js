/**
 * The PostgreSQL provider (node-postgres). One admin connection changes passwords with
 * `ALTER ROLE <escapeIdentifier(role)> WITH PASSWORD <escapeLiteral(verifier)>`; every
 * verification is a fresh connection to the target with exactly the credential under test.
 *
 * Operations: `setPassword` only — PostgreSQL keeps one password per role (its row in
 * protocol/engines.ts); the agent runs `single` and `alternating` with it and never asks for `dual`.
 *
 * Presets adapt it to hosted variants without touching the core: Supabase (`supabase-preset.ts`)
 * requires TLS and verifies through its pooler as `<role>.<projectRef>`.
 *
 * The target side (endpoint, CA, the preset's verifier) is read before the admin connects, so a
 * failed admin login still leaves `verify` working (the agent proves the live credential).
 *
 * @example
 *   const provider = postgresProvider();
 *   await provider.initialize({ admin, target });
 *   await provider.setPassword({ username: 'app', password: pending });
 *   await provider.verify({ username: 'app', password: pending });
 *   await provider.close();
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { SikkerKeyError } from '../../protocol/errors.js';
import { checkCredential, describeEndpoint, readCaFile, readEndpoint, tlsOptions } from '../provider-config.js';
import { quoteName } from '../provider-errors.js';
import { pgError } from './postgres-errors.js';
import { passwordLiteral } from './postgres-password.js';
import { ADMIN_QUERY, ROLE_QUERY, pgPreflightProblems } from './postgres-preflight.js';
const plainPostgres = { engine: 'postgres' };
const MAX_ROLE_BYTES = 63; // NAMEDATALEN - 1: longer names are silently truncated by the server
export const postgresProvider = (options = {}) => {
    const preset = options.preset ?? plainPostgres;
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
    const secrets = new Set();
    // user → digest of the password this provider last set for it: "just applied" for the verifier
    const applied = new Map();
    let targetSide;
    let session;
    // values come from JSON: only non-empty strings are secrets to look for
    const remember = (...values) => {
        for (const v of values)
            if (typeof v === 'string' && v !== '')
                secrets.add(v);
    };
    const readSecret = (secret, which) => preset.readEndpoint?.(secret, which) ??
        readEndpoint(secret, { secret: which, engine: 'PostgreSQL', defaultPort: 5432, passwordRequired: which === 'admin' });
    const clientConfig = (endpoint, user, password, ca) => ({
        host: endpoint.host,
        port: endpoint.port,
        user,
        password,
        // libpq would default to the user's name; "postgres" exists on nearly every server
        database: endpoint.database ?? 'postgres',
        ssl: sslOptions(endpoint, ca),
        connectionTimeoutMillis: connectTimeoutMs,
        application_name: 'sikkerkey-agent',
    });
    const requireSession = () => {
        if (session === undefined)
            throw new SikkerKeyError('SK_ERR_INTERNAL', 'the PostgreSQL provider was used before initialize() connected the admin');
        return session;
    };
    const requireTarget = () => {
        if (targetSide === undefined)
            throw new SikkerKeyError('SK_ERR_INTERNAL', 'the PostgreSQL provider verified a credential before initialize() read the target secret');
        return targetSide;
    };
    const context = (s, step, username) => ({
        step,
        endpoint: describeEndpoint(s.admin),
        username,
        admin: s.admin.username,
        privilegeHint: privilegeHint(s, username),
        secrets,
    });
    /** One fresh login with exactly this credential, plus a probe query. */
    const login = async (t, at, username, password) => {
        const client = new pg.Client(clientConfig(at.endpoint, at.user, password, t.targetCa));
        client.on('error', () => undefined);
        try {
            await client.connect();
            const { rows } = await client.query("SELECT current_setting('server_version') AS version");
            return { serverVersion: `PostgreSQL ${rows[0]?.version.split(' ')[0] ?? 'unknown'}` };
        }
        catch (err) {
            throw pgError(err, { step: 'login', endpoint: describeEndpoint(at.endpoint), username, admin: session?.admin.username ?? '', secrets });
        }
        finally {
            await client.end().catch(() => undefined);
        }
    };
    const close = async () => {
        const s = session;
        session = undefined;
        targetSide = undefined;
        applied.clear();
        if (s !== undefined)
            await s.client.end().catch(() => undefined);
    };
    return {
        engine: preset.engine,
        operations: ['setPassword'],
        async initialize(req) {
            remember(req.admin['password'], req.target['password']);
            await close();
            // the target side first, and kept whatever happens to the admin: the agent proves the live
            // credential with it when the admin login fails
            const target = readSecret(req.target, 'target');
            const verifier = preset.verifier?.({ endpoint: target, secret: req.target }) ?? plainVerifier(target);
            const targetCa = await readCaFile(target, { secret: 'target', engine: 'PostgreSQL' });
            targetSide = { target, targetCa, verifier };
            const admin = readSecret(req.admin, 'admin');
            const adminCa = await readCaFile(admin, { secret: 'admin', engine: 'PostgreSQL' });
            const client = new pg.Client({ ...clientConfig(admin, admin.username, admin.password, adminCa), statement_timeout: statementTimeoutMs });
            // an idle connection that dies emits 'error'; unhandled, it would crash the agent. The next
            // query on it fails and is mapped there.
            client.on('error', () => undefined);
            const ctx = { step: 'admin-login', endpoint: describeEndpoint(admin), username: admin.username, admin: admin.username, secrets };
            try {
                await client.connect();
                const { rows } = await client.query(`SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num,
                  current_setting('password_encryption') AS enc, current_setting('scram_iterations', true) AS iter`);
                const row = rows[0];
                if (row === undefined)
                    throw new Error('SELECT current_setting(...) returned no row');
                const versionText = `PostgreSQL ${row.version.split(' ')[0] ?? row.version}`;
                session = {
                    client, admin, versionText,
                    versionNum: Number(row.num),
                    passwordEncryption: row.enc,
                    scramIterations: row.iter === null || row.iter === '' ? 4096 : Number(row.iter),
                };
                return { serverVersion: versionText, flavour: preset.engine };
            }
            catch (err) {
                await client.end().catch(() => undefined);
                throw pgError(err, ctx);
            }
        },
        async setPassword(req) {
            remember(req.password);
            const s = requireSession();
            checkCredential(req.username, req.password, 'PostgreSQL');
            checkRoleName(req.username);
            const literal = await passwordLiteral({
                password: req.password,
                role: req.username,
                encryption: s.passwordEncryption,
                iterations: s.scramIterations,
            });
            try {
                // setting the same password again is a no-op in effect: idempotent by nature
                await s.client.query(`ALTER ROLE ${pg.escapeIdentifier(req.username)} WITH PASSWORD ${pg.escapeLiteral(literal)}`);
            }
            catch (err) {
                throw pgError(err, context(s, 'update', req.username));
            }
            applied.set(req.username, digest(req.password));
        },
        async verify(req) {
            remember(req.password);
            const t = requireTarget();
            checkCredential(req.username, req.password, 'PostgreSQL');
            return t.verifier.verify({
                username: req.username,
                justApplied: applied.get(req.username) === digest(req.password),
                login: (at) => login(t, at, req.username, req.password),
            });
        },
        async preflight(req) {
            const s = requireSession();
            const problems = [];
            for (const name of req.usernames) {
                try {
                    checkRoleName(name);
                }
                catch (err) {
                    problems.push(err.message);
                }
            }
            try {
                const admin = (await s.client.query(ADMIN_QUERY)).rows[0];
                if (admin === undefined)
                    throw new Error('the admin role is not in pg_roles');
                const roles = (await s.client.query(ROLE_QUERY, [req.usernames])).rows;
                problems.push(...pgPreflightProblems({
                    admin, roles, usernames: req.usernames, versionNum: s.versionNum, endpoint: describeEndpoint(s.admin),
                }));
            }
            catch (err) {
                throw pgError(err, context(s, 'preflight', s.admin.username));
            }
            return { ok: problems.length === 0, problems };
        },
        close,
        secretValues: () => [...secrets],
    };
};
/** Plain PostgreSQL: one login at the target's own address, as the role itself. */
function plainVerifier(target) {
    return { verify: ({ username, login }) => login({ endpoint: target, user: username }) };
}
// Only to recognise "the password this provider just set"; never stored anywhere else.
function digest(password) {
    return createHash('sha256').update(password, 'utf8').digest('base64');
}
/**
 * tlsOptions() as pg's `ssl`: pg hands the object to tls.connect as it is (plus `host`, and
 * `servername` for a host name), so Node checks an IP address against the certificate too.
 * `false`, not undefined, for "disable": pg would otherwise read PGSSLMODE from the environment.
 */
function sslOptions(endpoint, ca) {
    return tlsOptions(endpoint, ca) ?? false;
}
function checkRoleName(name) {
    if (name === '')
        throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', 'the role name is empty');
    if (Buffer.byteLength(name, 'utf8') > MAX_ROLE_BYTES) {
        throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `role name ${quoteName(name)} is longer than PostgreSQL's ${MAX_ROLE_BYTES} bytes: the server would silently use a truncated name`);
    }
}
function privilegeHint(s, role) {
    const admin = pg.escapeIdentifier(s.admin.username);
    return s.versionNum >= 160000
        ? `on PostgreSQL 16+ the admin needs CREATEROLE and ADMIN OPTION on the role: run ALTER ROLE ${admin} CREATEROLE; ` +
            `GRANT ${pg.escapeIdentifier(role)} TO ${admin} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE (superuser and, before 16, replication roles need a superuser admin)`
        : `the admin needs CREATEROLE (run ALTER ROLE ${admin} CREATEROLE); superuser and replication roles need a superuser admin`;
}
//# sourceMappingURL=postgres-provider.js.map