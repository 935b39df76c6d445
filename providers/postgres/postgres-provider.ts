/**
 * The PostgreSQL provider (node-postgres). One admin connection changes passwords with
 * `ALTER ROLE <escapeIdentifier(role)> WITH PASSWORD <escapeLiteral(verifier)>`; every
 * verification is a fresh connection to the target with exactly the credential under test.
 *
 * Strategies: `single` and `alternating` (the same statement on the role that is not live).
 * PostgreSQL has no second password per role, so `dual` is refused.
 *
 * Presets adapt it to hosted variants without touching the core: Supabase (later) requires TLS and
 * verifies through its pooler as `<role>.<projectRef>`.
 *
 * @example
 *   const provider = postgresProvider();
 *   await provider.initialize({ admin, target });
 *   await provider.updateCredential({ username: 'app', password: pending, strategy: 'single' });
 *   await provider.verifyCredential({ username: 'app', password: pending });
 *   await provider.close();
 */
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
  UpdateCredentialRequest,
  UpdateCredentialResponse,
  VerifyCredentialRequest,
  VerifyCredentialResponse,
} from '../provider.js';
import { describeEndpoint, readCaFile, readEndpoint, type Endpoint } from '../provider-config.js';
import { quoteName } from '../provider-errors.js';
import { pgError, type PgErrorContext } from './postgres-errors.js';
import { passwordLiteral } from './postgres-password.js';
import { ADMIN_QUERY, ROLE_QUERY, pgPreflightProblems, type PgAdminRow, type PgRoleRow } from './postgres-preflight.js';

/** Adapts the provider to a hosted PostgreSQL (Supabase) without forking it. */
export interface PostgresPreset {
  readonly engine: 'postgres' | 'supabase';
  /** Rejects secrets the variant cannot work with (e.g. TLS off); throws SK_ERR_PROVIDER_CONFIG. */
  checkSecrets?(req: { admin: Endpoint; target: Endpoint; targetSecret: DatabaseSecret }): void;
  /** Where and as whom a verification logs in (e.g. a pooler and `<role>.<projectRef>`). */
  verifyLogin?(req: { target: Endpoint; targetSecret: DatabaseSecret; username: string }): { endpoint: Endpoint; user: string };
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

interface Session {
  client: pg.Client;
  admin: Endpoint;
  target: Endpoint;
  targetSecret: DatabaseSecret;
  adminCa: string | undefined;
  targetCa: string | undefined;
  versionNum: number;
  versionText: string;
  passwordEncryption: string;
  scramIterations: number;
}

export const postgresProvider = (options: PostgresProviderOptions = {}): CredentialProvider => {
  const preset = options.preset ?? plainPostgres;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  const secrets = new Set<string>();
  let session: Session | undefined;

  const remember = (...values: (string | undefined)[]): void => {
    for (const v of values) if (v !== undefined && v !== '') secrets.add(v);
  };

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
    if (session === undefined) throw new SikkerKeyError('SK_ERR_INTERNAL', 'the PostgreSQL provider was used before initialize()');
    return session;
  };

  const context = (s: Session, step: PgErrorContext['step'], username: string): PgErrorContext => ({
    step,
    endpoint: describeEndpoint(step === 'login' ? s.target : s.admin),
    username,
    admin: s.admin.username,
    privilegeHint: privilegeHint(s, username),
    secrets,
  });

  const close = async (): Promise<void> => {
    const s = session;
    session = undefined;
    if (s !== undefined) await s.client.end().catch(() => undefined);
  };

  return {
    engine: preset.engine,

    async initialize(req: InitializeRequest): Promise<InitializeResponse> {
      remember(req.admin['password'], req.target['password']);
      await close();
      const admin = readEndpoint(req.admin, { secret: 'admin', engine: 'PostgreSQL', defaultPort: 5432, passwordRequired: true });
      const target = readEndpoint(req.target, { secret: 'target', engine: 'PostgreSQL', defaultPort: 5432, passwordRequired: false });
      preset.checkSecrets?.({ admin, target, targetSecret: req.target });
      const adminCa = await readCaFile(admin, { secret: 'admin', engine: 'PostgreSQL' });
      const targetCa = await readCaFile(target, { secret: 'target', engine: 'PostgreSQL' });

      const client = new pg.Client({ ...clientConfig(admin, admin.username, admin.password, adminCa), statement_timeout: statementTimeoutMs });
      // an idle connection that dies emits 'error'; unhandled, it would crash the agent. The next
      // query on it fails and is mapped there.
      client.on('error', () => undefined);
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
          client, admin, target, targetSecret: req.target, adminCa, targetCa, versionText,
          versionNum: Number(row.num),
          passwordEncryption: row.enc,
          scramIterations: row.iter === null || row.iter === '' ? 4096 : Number(row.iter),
        };
        return { serverVersion: versionText };
      } catch (err) {
        await client.end().catch(() => undefined);
        throw pgError(err, ctx);
      }
    },

    async updateCredential(req: UpdateCredentialRequest): Promise<UpdateCredentialResponse> {
      remember(req.password);
      const s = requireSession();
      if (req.strategy === 'dual') {
        throw new SikkerKeyError(
          'SK_ERR_ROTATION_STRATEGY_UNSUPPORTED',
          'PostgreSQL has no second password per role, so strategy "dual" cannot work: use "alternating" (two roles, members of one owner role)',
        );
      }
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
      return {};
    },

    async verifyCredential(req: VerifyCredentialRequest): Promise<VerifyCredentialResponse> {
      remember(req.password);
      const s = requireSession();
      const login = preset.verifyLogin?.({ target: s.target, targetSecret: s.targetSecret, username: req.username }) ?? {
        endpoint: s.target,
        user: req.username,
      };
      const client = new pg.Client(clientConfig(login.endpoint, login.user, req.password, s.targetCa));
      client.on('error', () => undefined);
      try {
        await client.connect();
        const { rows } = await client.query<{ version: string }>("SELECT current_setting('server_version') AS version");
        return { serverVersion: `PostgreSQL ${rows[0]?.version.split(' ')[0] ?? 'unknown'}` };
      } catch (err) {
        throw pgError(err, { ...context(s, 'login', req.username), endpoint: describeEndpoint(login.endpoint) });
      } finally {
        await client.end().catch(() => undefined);
      }
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
            admin, roles, usernames: req.usernames, versionNum: s.versionNum, strategy: req.strategy, endpoint: describeEndpoint(s.admin),
          }),
        );
      } catch (err) {
        throw pgError(err, context(s, 'preflight', s.admin.username));
      }
      return { ok: problems.length === 0, problems };
    },

    close,

    secretValues: () => [...secrets],
  } satisfies CredentialProvider;
};

function sslOptions(endpoint: Endpoint, ca: string | undefined): false | ConnectionOptions {
  switch (endpoint.tls) {
    case 'disable':
      return false;
    case 'require':
      // like libpq's sslmode=require: encrypted, certificate not checked
      return { rejectUnauthorized: false };
    case 'verify-full':
      // pg sets servername for host names; Node checks the certificate against the host
      return ca === undefined ? { rejectUnauthorized: true } : { rejectUnauthorized: true, ca };
  }
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
