/**
 * The PostgreSQL provider (node-postgres). One admin connection changes passwords with
 * `ALTER ROLE <escapeIdentifier(role)> WITH PASSWORD <escapeLiteral(verifier)>`; every
 * verification is a fresh connection to the target with exactly the credential under test.
 *
 * Leased logins (createLogin, renewLogin, dropLogin, listLogins) live in postgres-leases.ts.
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
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { SikkerKeyError } from '../../protocol/errors.js';
import type {
  CredentialProvider,
  DatabaseSecret,
  InitializeRequest,
  InitializeResponse,
  PreflightRequest,
  PreflightResponse,
  Credential,
  VerifyResponse,
} from '../provider.js';
import { checkCredential, describeEndpoint, readCaFile, readEndpoint, tlsOptions, type Endpoint } from '../provider-config.js';
import { quoteName } from '../provider-errors.js';
import { pgError, type PgErrorContext } from './postgres-errors.js';
import { passwordLiteral } from './postgres-password.js';
import { postgresLeases } from './postgres-leases.js';
import { ADMIN_QUERY, ROLE_QUERY, pgPreflightProblems, type PgAdminRow, type PgRoleRow } from './postgres-preflight.js';

/** Adapts the provider to a hosted PostgreSQL (Supabase) without forking it. */
export interface PostgresPreset {
  readonly engine: 'postgres' | 'supabase';
  /**
   * Reads one secret's endpoint the way the variant needs it (its defaults, e.g. TLS on; its
   * refusals, e.g. TLS off); throws SK_ERR_PROVIDER_CONFIG. Default: plain PostgreSQL rules.
   */
  readEndpoint?(secret: DatabaseSecret, which: 'admin' | 'target'): Endpoint;
  /**
   * How verification logs in (e.g. through a pooler as `<role>.<projectRef>`, with retries),
   * read from the target secret at initialize — before the admin connects, so it works after a
   * failed admin login too. Throws SK_ERR_PROVIDER_CONFIG for fields it cannot use.
   */
  verifier?(target: { endpoint: Endpoint; secret: DatabaseSecret }): PostgresVerifier;
}

/** Where and as whom one verification attempt logs in. */
export interface PostgresLogin {
  endpoint: Endpoint;
  user: string;
}

/**
 * Runs one verification. `login` is one fresh connection plus a probe query, throwing a mapped
 * SikkerKeyError (a refused login is SK_ERR_PROVIDER_AUTH_FAILED); the verifier decides where,
 * as whom, and how often.
 *
 * @example
 *   const direct: PostgresVerifier = { verify: ({ username, login }) => login({ endpoint: target, user: username }) };
 */
export interface PostgresVerifier {
  verify(req: {
    username: string;
    /** True when this provider set exactly this password for this user (a refusal may then be a pooler's stale cache). */
    justApplied: boolean;
    login(at: PostgresLogin): Promise<VerifyResponse>;
  }): Promise<VerifyResponse>;
}

export interface PostgresProviderOptions {
  preset?: PostgresPreset;
  /** Per connection attempt; default 10 s. */
  connectTimeoutMs?: number;
  /** For the admin's statements (ALTER ROLE waits on a lock held by another session); default 30 s. */
  statementTimeoutMs?: number;
}

const plainPostgres: PostgresPreset = { engine: 'postgres' };
const MAX_ROLE_BYTES = 63; // NAMEDATALEN - 1: longer names are silently truncated by the server

/** What verification needs: read before the admin connects, kept even when the admin login fails. */
interface TargetSide {
  target: Endpoint;
  /** The target's caFile, read once; it applies to every address verification uses. */
  targetCa: string | undefined;
  verifier: PostgresVerifier;
}

/** The admin connection and what the server told it. */
interface Session {
  client: pg.Client;
  admin: Endpoint;
  versionNum: number;
  versionText: string;
  passwordEncryption: string;
  scramIterations: number;
  /** False once pg reported the connection ended or failed (isConnected). */
  open: () => boolean;
}

export const postgresProvider = (options: PostgresProviderOptions = {}): CredentialProvider => {
  const preset = options.preset ?? plainPostgres;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  const secrets = new Set<string>();
  // user → digest of the password this provider last set for it: "just applied" for the verifier
  const applied = new Map<string, string>();
  let targetSide: TargetSide | undefined;
  let session: Session | undefined;

  // values come from JSON: only non-empty strings are secrets to look for
  const remember = (...values: unknown[]): void => {
    for (const v of values) if (typeof v === 'string' && v !== '') secrets.add(v);
  };
  const readSecret = (secret: DatabaseSecret, which: 'admin' | 'target'): Endpoint =>
    preset.readEndpoint?.(secret, which) ??
    readEndpoint(secret, { secret: which, engine: 'PostgreSQL', defaultPort: 5432, passwordRequired: which === 'admin' });

  const clientConfig = (endpoint: Endpoint, user: string, password: string, ca: string | undefined): pg.ClientConfig => ({
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

  const requireSession = (): Session => {
    if (session === undefined) throw new SikkerKeyError('SK_ERR_INTERNAL', 'the PostgreSQL provider was used before initialize() connected the admin');
    return session;
  };
  const requireTarget = (): TargetSide => {
    if (targetSide === undefined) throw new SikkerKeyError('SK_ERR_INTERNAL', 'the PostgreSQL provider verified a credential before initialize() read the target secret');
    return targetSide;
  };

  const context = (s: Session, step: PgErrorContext['step'], username: string): PgErrorContext => ({
    step,
    endpoint: describeEndpoint(s.admin),
    username,
    admin: s.admin.username,
    privilegeHint: privilegeHint(s, username),
    secrets,
  });

  /** One fresh login with exactly this credential, plus a probe query. */
  const login = async (t: TargetSide, at: PostgresLogin, username: string, password: string): Promise<VerifyResponse> => {
    const client = new pg.Client(clientConfig(at.endpoint, at.user, password, t.targetCa));
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ version: string }>("SELECT current_setting('server_version') AS version");
      return { serverVersion: `PostgreSQL ${rows[0]?.version.split(' ')[0] ?? 'unknown'}` };
    } catch (err) {
      throw pgError(err, { step: 'login', endpoint: describeEndpoint(at.endpoint), username, admin: session?.admin.username ?? '', secrets });
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  const close = async (): Promise<void> => {
    const s = session;
    session = undefined;
    targetSide = undefined;
    applied.clear();
    if (s !== undefined) await s.client.end().catch(() => undefined);
  };

  return {
    engine: preset.engine,
    operations: ['setPassword'],

    async initialize(req: InitializeRequest): Promise<InitializeResponse> {
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
      // query on it fails and is mapped there; isConnected() says so before.
      let open = true;
      client.on('error', () => (open = false));
      client.on('end', () => (open = false));
      const ctx: PgErrorContext = { step: 'admin-login', endpoint: describeEndpoint(admin), username: admin.username, admin: admin.username, secrets };
      try {
        await client.connect();
        const { rows } = await client.query<{ version: string; num: string; enc: string; iter: string | null }>(
          `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num,
                  current_setting('password_encryption') AS enc, current_setting('scram_iterations', true) AS iter`,
        );
        const row = rows[0];
        if (row === undefined) throw new Error('SELECT current_setting(...) returned no row');
        const versionText = `PostgreSQL ${row.version.split(' ')[0] ?? row.version}`;
        session = {
          client, admin, versionText,
          versionNum: Number(row.num),
          passwordEncryption: row.enc,
          scramIterations: row.iter === null || row.iter === '' ? 4096 : Number(row.iter),
          open: () => open,
        };
        return { serverVersion: versionText, flavour: preset.engine };
      } catch (err) {
        await client.end().catch(() => undefined);
        throw pgError(err, ctx);
      }
    },

    async setPassword(req: Credential): Promise<void> {
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
      } catch (err) {
        throw pgError(err, context(s, 'update', req.username));
      }
      applied.set(req.username, digest(req.password));
    },

    async verify(req: Credential): Promise<VerifyResponse> {
      remember(req.password);
      const t = requireTarget();
      checkCredential(req.username, req.password, 'PostgreSQL');
      return t.verifier.verify({
        username: req.username,
        justApplied: applied.get(req.username) === digest(req.password),
        login: (at) => login(t, at, req.username, req.password),
      });
    },

    async preflight(req: PreflightRequest): Promise<PreflightResponse> {
      const s = requireSession();
      const problems: string[] = [];
      for (const name of req.usernames) {
        try {
          checkRoleName(name);
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
      try {
        const admin = (await s.client.query<PgAdminRow>(ADMIN_QUERY)).rows[0];
        if (admin === undefined) throw new Error('the admin role is not in pg_roles');
        const roles = (await s.client.query<PgRoleRow>(ROLE_QUERY, [req.usernames])).rows;
        problems.push(
          ...pgPreflightProblems({
            admin, roles, usernames: req.usernames, versionNum: s.versionNum, endpoint: describeEndpoint(s.admin),
          }),
        );
      } catch (err) {
        throw pgError(err, context(s, 'preflight', s.admin.username));
      }
      return { ok: problems.length === 0, problems };
    },

    // leased logins (postgres-leases.ts)
    ...postgresLeases({ session: requireSession, checkRoleName, secrets }),

    isConnected: () => session?.open() ?? false,

    close,

    secretValues: () => [...secrets],
  } satisfies CredentialProvider;
};

/** Plain PostgreSQL: one login at the target's own address, as the role itself. */
function plainVerifier(target: Endpoint): PostgresVerifier {
  return { verify: ({ username, login }) => login({ endpoint: target, user: username }) };
}

// Only to recognise "the password this provider just set"; never stored anywhere else.
function digest(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('base64');
}

/**
 * tlsOptions() as pg's `ssl`: pg hands the object to tls.connect as it is (plus `host`, and
 * `servername` for a host name), so Node checks an IP address against the certificate too.
 * `false`, not undefined, for "disable": pg would otherwise read PGSSLMODE from the environment.
 */
function sslOptions(endpoint: Endpoint, ca: string | undefined): false | ConnectionOptions {
  return tlsOptions(endpoint, ca) ?? false;
}

function checkRoleName(name: string): void {
  if (name === '') throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', 'the role name is empty');
  if (Buffer.byteLength(name, 'utf8') > MAX_ROLE_BYTES) {
    throw new SikkerKeyError(
      'SK_ERR_PROVIDER_CONFIG',
      `role name ${quoteName(name)} is longer than PostgreSQL's ${MAX_ROLE_BYTES} bytes: the server would silently use a truncated name`,
    );
  }
}

function privilegeHint(s: Session, role: string): string {
  const admin = pg.escapeIdentifier(s.admin.username);
  return s.versionNum >= 160000
    ? `on PostgreSQL 16+ the admin needs CREATEROLE and ADMIN OPTION on the role: run ALTER ROLE ${admin} CREATEROLE; ` +
        `GRANT ${pg.escapeIdentifier(role)} TO ${admin} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE (superuser and, before 16, replication roles need a superuser admin)`
    : `the admin needs CREATEROLE (run ALTER ROLE ${admin} CREATEROLE); superuser and replication roles need a superuser admin`;
}
