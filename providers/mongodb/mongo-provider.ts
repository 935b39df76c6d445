/**
 * The MongoDB credential provider: changes a user's SCRAM-SHA-256 password with `updateUser` as
 * the admin, and proves a credential with a fresh `MongoClient` that logs in with exactly it.
 *
 * Leased logins (createLogin, dropLogin, listLogins) live in mongo-leases.ts.
 *
 * Operations: `setPassword` only — MongoDB keeps one password per user (its row in
 * protocol/engines.ts), so the agent runs `single` and `alternating` with it. Arguments reach the server as BSON fields of
 * the command document, never spliced into text, so any username or password is safe to pass.
 *
 * @example
 *   const mongo = createMongoProvider();
 *   await mongo.initialize({ admin, target });               // → { serverVersion: 'MongoDB 7.0.14' }
 *   await mongo.setPassword({ username: 'app', password: pending });
 *   await mongo.verify({ username: 'app', password: pending });
 *   await mongo.close();
 */
import { MongoClient } from 'mongodb';
import type { Document } from 'mongodb';
import { SikkerKeyError } from '../../protocol/errors.js';
import { describeEndpoint, readCaFile } from '../provider-config.js';
import { quoteName } from '../provider-errors.js';
import { redact } from '../sanitize.js';
import type {
  CredentialProvider,
  InitializeRequest,
  InitializeResponse,
  PreflightRequest,
  PreflightResponse,
  Credential,
  VerifyResponse,
} from '../provider.js';
import { ENGINE_NAME, mongoClientOptions, readMongoEndpoint } from './mongo-config.js';
import type { MongoEndpoint } from './mongo-config.js';
import { toProviderError } from './mongo-errors.js';
import type { MongoErrorContext } from './mongo-errors.js';
import { mongoLeases } from './mongo-leases.js';
import type { CreateLoginRequest, DropLoginRequest, ListLoginsRequest } from '../provider.js';

export interface MongoProviderOptions {
  /** How long to wait for the server before giving up (default 5000 ms). */
  serverSelectionTimeoutMS?: number;
  /** TCP/TLS connect timeout (default: serverSelectionTimeoutMS). */
  connectTimeoutMS?: number;
  /** How long a command may wait for its reply (default 30000 ms): a hung server fails, never hangs. */
  socketTimeoutMS?: number;
}

const SCRAM_SHA_256 = 'SCRAM-SHA-256';

/** Built-in roles that grant changePassword and viewUser on a database (MongoDB "Built-In Roles"). */
const USER_ADMIN_ROLES_ANY_DB = new Set(['root', 'userAdminAnyDatabase', '__system']);
const USER_ADMIN_ROLES_ONE_DB = new Set(['userAdmin', 'dbOwner']);

/** What verification needs: read before the admin connects, kept even when the admin login fails. */
interface TargetSide {
  target: MongoEndpoint;
  targetCa: string | undefined;
}

/** The admin's client. */
interface Session extends TargetSide {
  admin: MongoEndpoint;
  adminCa: string | undefined;
  client: MongoClient;
  /** False once the client's topology closed (isConnected). */
  open: () => boolean;
}

interface PrivilegeDoc {
  resource?: { db?: unknown; collection?: unknown; cluster?: unknown; anyResource?: unknown };
  actions?: unknown;
}

export class MongoProvider implements CredentialProvider {
  readonly engine = 'mongodb' as const;
  readonly operations = ['setPassword'] as const;
  private session: Session | undefined;
  private targetSide: TargetSide | undefined;
  private readonly secrets = new Set<string>();
  private readonly serverSelectionTimeoutMS: number;
  private readonly connectTimeoutMS: number | undefined;
  private readonly socketTimeoutMS: number;

  constructor(options: MongoProviderOptions = {}) {
    this.serverSelectionTimeoutMS = options.serverSelectionTimeoutMS ?? 5000;
    this.connectTimeoutMS = options.connectTimeoutMS;
    this.socketTimeoutMS = options.socketTimeoutMS ?? 30_000;
  }

  async initialize(req: InitializeRequest): Promise<InitializeResponse> {
    await this.close();
    this.remember(req.admin['password']);
    this.remember(req.target['password']);
    // The target side first, and kept whatever happens to the admin: the agent proves the live
    // credential with it when the admin login fails.
    const target = readMongoEndpoint(req.target, 'target');
    const targetCa = await readCaFile(target, { secret: 'target', engine: ENGINE_NAME });
    this.targetSide = { target, targetCa };
    const admin = readMongoEndpoint(req.admin, 'admin');
    const adminCa = await readCaFile(admin, { secret: 'admin', engine: ENGINE_NAME });
    const { url, options } = mongoClientOptions(admin, { username: admin.username, password: admin.password }, this.tuning(adminCa));
    const client = new MongoClient(url, options);
    let open = true;
    client.on('topologyClosed', () => (open = false));
    const ctx = this.context(admin, 'admin', 'connect');
    try {
      // buildInfo needs no privilege, but the connection it runs on has logged in first.
      const info = await client.db(admin.authSource).command({ buildInfo: 1 });
      this.session = { admin, target, adminCa, targetCa, client, open: () => open };
      return { serverVersion: `${ENGINE_NAME} ${String(info.version)}`, flavour: 'mongodb' };
    } catch (err) {
      await closeQuietly(client);
      throw toProviderError(err, ctx);
    }
  }

  async setPassword(req: Credential): Promise<void> {
    const session = this.require();
    this.remember(req.password);
    checkCredential(req.username, req.password);
    const db = session.target.authSource;
    const ctx = { ...this.context(session.admin, 'admin', 'update'), subject: req.username, subjectDb: db };
    try {
      // Fields of a command document: the server never parses the name or password out of text.
      await session.client.db(db).command({ updateUser: req.username, pwd: req.password, mechanisms: [SCRAM_SHA_256] });
    } catch (err) {
      throw toProviderError(err, ctx);
    }
  }

  async verify(req: Credential): Promise<VerifyResponse> {
    const side = this.requireTarget();
    this.remember(req.password);
    checkCredential(req.username, req.password);
    const target = side.target;
    const { url, options } = mongoClientOptions(target, { username: req.username, password: req.password }, this.tuning(side.targetCa));
    // A fresh client with a one-connection pool: nothing reused from the admin's connections.
    const client = new MongoClient(url, { ...options, maxPoolSize: 1 });
    const ctx = { ...this.context(target, 'target', 'verify', req.username), nameRoundTrips: scramNameRoundTrips(req.username) };
    try {
      const db = client.db(target.authSource);
      await db.command({ ping: 1 });
      // ping itself needs no login; this proves the connection is authenticated as this user.
      const status = await db.command({ connectionStatus: 1 });
      const users = (status.authInfo as { authenticatedUsers?: Array<{ user?: unknown; db?: unknown }> } | undefined)?.authenticatedUsers ?? [];
      if (!users.some((u) => u.user === req.username && u.db === target.authSource)) {
        throw new SikkerKeyError(
          'SK_ERR_PROVIDER_AUTH_FAILED',
          `${ENGINE_NAME} at ${describeEndpoint(target)} did not report the connection as logged in as ${quoteName(req.username)}`,
        );
      }
      const info = await db.command({ buildInfo: 1 });
      return { serverVersion: `${ENGINE_NAME} ${String(info.version)}` };
    } catch (err) {
      throw toProviderError(err, ctx);
    } finally {
      await closeQuietly(client);
    }
  }

  async preflight(req: PreflightRequest): Promise<PreflightResponse> {
    const session = this.require();
    const db = session.target.authSource;
    const admin = session.admin;
    const who = `the admin user ${quoteName(admin.username)}`;
    const problems: string[] = [];

    for (const name of req.usernames) {
      if (name === '') problems.push('a username is empty');
      if (name !== '' && !scramNameRoundTrips(name)) {
        problems.push(
          `user ${quoteName(name)} cannot log in through the mongodb driver: it escapes only the first "=" and "," ` +
            'of a SCRAM username, so MongoDB reads a different name and a new password could never be verified; rename the user',
        );
      }
    }

    const ctx = this.context(admin, 'admin', 'preflight');
    try {
      const status = await session.client.db(admin.authSource).command({ connectionStatus: 1, showPrivileges: true });
      if (!canChangePasswords(status, db)) {
        problems.push(
          `${who} (authSource ${quoteName(admin.authSource)}) lacks changePassword on database ${quoteName(db)}: ` +
            `grant it the role userAdmin on ${quoteName(db)}, or userAdminAnyDatabase on "admin"`,
        );
      }
    } catch (err) {
      throw toProviderError(err, ctx);
    }

    for (const name of req.usernames) {
      if (name === '') continue;
      try {
        const info = await session.client.db(db).command({ usersInfo: { user: name, db } });
        const users = Array.isArray(info.users) ? (info.users as Document[]) : [];
        if (users.length === 0) {
          problems.push(`user ${quoteName(name)} does not exist on database ${quoteName(db)}: create it, or fix "username" / "authSource"`);
        }
      } catch (err) {
        const mapped = toProviderError(err, { ...ctx, subject: name, subjectDb: db });
        if (mapped.code !== 'SK_ERR_PROVIDER_PRIVILEGE') throw mapped;
        problems.push(
          `${who} may not view users on database ${quoteName(db)} (viewUser), so whether ${quoteName(name)} exists is unknown: ` +
            `grant it the role userAdmin on ${quoteName(db)}, or userAdminAnyDatabase on "admin"`,
        );
      }
    }
    return { ok: problems.length === 0, problems };
  }

  // -- leased logins (mongo-leases.ts) -------------------------------------------------------

  async createLogin(req: CreateLoginRequest): Promise<void> {
    return this.leases().createLogin(req);
  }

  async dropLogin(req: DropLoginRequest): Promise<void> {
    return this.leases().dropLogin(req);
  }

  async listLogins(req: ListLoginsRequest): Promise<string[]> {
    return this.leases().listLogins(req);
  }

  private leases(): ReturnType<typeof mongoLeases> {
    const session = this.require();
    return mongoLeases({
      db: (name) => session.client.db(name ?? session.target.authSource),
      fail: (err, username) =>
        toProviderError(err, { ...this.context(session.admin, 'admin', 'lease'), subject: username, subjectDb: session.target.authSource }),
      remember: (value) => this.remember(value),
    });
  }

  /**
   * The admin client is open. Its pool replaces a connection the server closed by itself (the
   * next command checks out a new one), so only a closed client counts as not connected.
   */
  isConnected(): boolean {
    return this.session?.open() ?? false;
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.targetSide = undefined;
    if (session) await closeQuietly(session.client);
  }

  secretValues(): string[] {
    return [...this.secrets];
  }

  // -- internals -----------------------------------------------------------------------------

  private require(): Session {
    if (this.session === undefined) {
      throw new SikkerKeyError('SK_ERR_INTERNAL', `the ${ENGINE_NAME} provider was used before initialize() succeeded`);
    }
    return this.session;
  }

  private requireTarget(): TargetSide {
    if (this.targetSide === undefined) {
      throw new SikkerKeyError('SK_ERR_INTERNAL', `the ${ENGINE_NAME} provider verified a credential before initialize() read the target secret`);
    }
    return this.targetSide;
  }

  private remember(value: string | undefined): void {
    if (typeof value === 'string' && value !== '') this.secrets.add(value);
  }

  private tuning(ca: string | undefined): Parameters<typeof mongoClientOptions>[2] {
    return {
      ca,
      serverSelectionTimeoutMS: this.serverSelectionTimeoutMS,
      socketTimeoutMS: this.socketTimeoutMS,
      ...(this.connectTimeoutMS === undefined ? {} : { connectTimeoutMS: this.connectTimeoutMS }),
    };
  }

  private context(endpoint: MongoEndpoint, secret: 'admin' | 'target', action: MongoErrorContext['action'], loginUser?: string): MongoErrorContext {
    return {
      action,
      secret,
      endpoint: describeEndpoint(endpoint),
      loginUser: loginUser ?? endpoint.username,
      authSource: endpoint.authSource,
      tls: endpoint.tls,
      redact: (text) => redact(text, this.secrets),
    };
  }

}

/** A new, uninitialised MongoDB provider. */
export function createMongoProvider(options: MongoProviderOptions = {}): MongoProvider {
  return new MongoProvider(options);
}

/**
 * Whether MongoDB reads back the name the driver sends in SCRAM. mongodb 7.x's `cleanUsername`
 * uses `String.replace` with a string, which escapes only the FIRST "=" and ","; mongod splits
 * the message at every raw "," and decodes every "=2C" then "=3D" (replace-all). A name with a
 * second "," — or a later "=2C"/"=3D" — therefore arrives as another name and never logs in.
 */
export function scramNameRoundTrips(name: string): boolean {
  const sent = name.replace('=', '=3D').replace(',', '=2C');
  if (sent.includes(',')) return false;
  return sent.split('=2C').join(',').split('=3D').join('=') === name;
}

function checkCredential(username: string, password: string): void {
  if (typeof username !== 'string' || username === '') {
    throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the ${ENGINE_NAME} username is empty`);
  }
  if (username.includes('\0')) {
    throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the ${ENGINE_NAME} username ${quoteName(username)} contains a NUL character`);
  }
  if (typeof password !== 'string' || password === '') {
    throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the new password for ${quoteName(username)} is empty`);
  }
}

/** From `connectionStatus` with showPrivileges; falls back to built-in role names without them. */
function canChangePasswords(status: Document, db: string): boolean {
  const authInfo = (status.authInfo ?? {}) as Document;
  const privileges = authInfo.authenticatedUserPrivileges;
  if (Array.isArray(privileges)) {
    return (privileges as PrivilegeDoc[]).some((p) => {
      if (!Array.isArray(p.actions) || !(p.actions as unknown[]).includes('changePassword')) return false;
      const r = p.resource ?? {};
      if (r.anyResource === true) return true;
      return r.collection === '' && (r.db === db || r.db === '');
    });
  }
  const roles = Array.isArray(authInfo.authenticatedUserRoles) ? (authInfo.authenticatedUserRoles as Array<{ role?: unknown; db?: unknown }>) : [];
  return roles.some(
    (r) =>
      (r.db === 'admin' && typeof r.role === 'string' && USER_ADMIN_ROLES_ANY_DB.has(r.role)) ||
      (r.db === db && typeof r.role === 'string' && USER_ADMIN_ROLES_ONE_DB.has(r.role)),
  );
}

async function closeQuietly(client: MongoClient): Promise<void> {
  try {
    await client.close();
  } catch {
    // closing is best effort: the connection may already be gone
  }
}
