/**
 * MongoDB driver errors → SikkerKeyError. What the `mongodb` driver (7.x) really throws, as the
 * tests observe it through the real driver:
 * - a refused login is a `MongoServerError` with code 18 AuthenticationFailed (wrong password and
 *   unknown user alike: MongoDB does not say which), thrown by the first command;
 * - a missing privilege is code 13 Unauthorized; an unknown user for `updateUser` is 11 UserNotFound;
 * - an unreachable or TLS-failing server is a `MongoServerSelectionError` whose `reason` (a
 *   topology description) holds, per server, the network error with Node's error as `cause`.
 * Messages name users and endpoints, never a secret; driver text is passed through a redactor.
 *
 * @example
 *   try { await db.command({ updateUser: name, pwd, mechanisms: ['SCRAM-SHA-256'] }); }
 *   catch (err) { throw toProviderError(err, { action: 'update', ...ctx }); }
 */
import { SikkerKeyError } from '../../protocol/errors.js';
import type { ErrorCode } from '../../protocol/errors.js';
import { classifyNetworkError, errorChain, firstLine, messageOf, networkError, quoteName, scrubCause } from '../provider-errors.js';
import type { NetworkFailure } from '../provider-errors.js';
import type { TlsMode } from '../provider-config.js';
import { ENGINE_NAME } from './mongo-config.js';

export interface MongoErrorContext {
  /** What we were doing, for the message. */
  action: 'connect' | 'update' | 'verify' | 'preflight' | 'lease';
  /** Whose connection: the admin's (initialize, update, preflight) or the target's (verify). */
  secret: 'admin' | 'target';
  /** host:port */
  endpoint: string;
  /** The user that logs in on this connection. */
  loginUser: string;
  /** The database that user authenticates against. */
  authSource: string;
  /** The user whose credential is being changed or checked (update/verify), if any. */
  subject?: string;
  /** The database the subject is defined on. */
  subjectDb?: string;
  tls: TlsMode;
  /** False when the driver mangles the login name in SCRAM (see scramNameRoundTrips). */
  nameRoundTrips?: boolean;
  /** Removes every secret value from driver text. */
  redact: (text: string) => string;
}

/** MongoDB server error codes we map (src/mongo/base/error_codes.yml). */
const CODE = {
  BadValue: 2,
  UserNotFound: 11,
  Unauthorized: 13,
  AuthenticationFailed: 18,
  RoleNotFound: 31,
  MechanismUnavailable: 334,
  NotWritablePrimary: 10107,
  NotPrimaryNoSecondaryOk: 13435,
  NotPrimaryOrSecondary: 13436,
  PrimarySteppedDown: 189,
} as const;

interface ServerErrorLike {
  code: number;
  codeName: string | undefined;
  errmsg: string;
}

/** The first error in the chain (or in a server-selection `reason`) that the server sent. */
function serverErrorIn(err: unknown): ServerErrorLike | undefined {
  for (const e of deepChain(err)) {
    if (typeof e !== 'object' || e === null) continue;
    const rec = e as Record<string, unknown>;
    // MongoServerError carries the reply's fields; network errors have no numeric code.
    if (typeof rec.code === 'number' && (typeof rec.codeName === 'string' || typeof rec.errmsg === 'string')) {
      return {
        code: rec.code,
        codeName: typeof rec.codeName === 'string' ? rec.codeName : undefined,
        errmsg: typeof rec.errmsg === 'string' ? rec.errmsg : messageOf(e),
      };
    }
  }
  return undefined;
}

/**
 * The chain of causes, plus the per-server errors a MongoServerSelectionError keeps in
 * `reason.servers` (a Map of ServerDescription) — that is where ECONNREFUSED or a TLS failure is.
 */
export function deepChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): void => {
    if (depth > 6) return;
    for (const link of errorChain(e)) {
      if (seen.has(link)) continue;
      seen.add(link);
      out.push(link);
      const reason = typeof link === 'object' && link !== null ? (link as { reason?: unknown }).reason : undefined;
      const servers = typeof reason === 'object' && reason !== null ? (reason as { servers?: unknown }).servers : undefined;
      if (servers instanceof Map) {
        for (const description of servers.values()) {
          const serverError = typeof description === 'object' && description !== null ? (description as { error?: unknown }).error : undefined;
          if (serverError) visit(serverError, depth + 1);
        }
      }
    }
  };
  visit(err, 0);
  return out;
}

function isNamed(err: unknown, ...names: string[]): boolean {
  return errorChain(err).some((e) => e instanceof Error && names.includes(e.name));
}

/** Network/TLS classification, with what only MongoDB over TLS shows: a close mid-handshake. */
function classifyMongoNetwork(err: unknown, tls: TlsMode): NetworkFailure | undefined {
  const chain = deepChain(err);
  if (tls !== 'disable') {
    for (const e of chain) {
      const msg = messageOf(e);
      // Node: "Client network socket disconnected before secure TLS connection was established"
      // — the server closed the socket during our ClientHello (e.g. it does not speak TLS).
      if (/before secure TLS connection was established/i.test(msg)) {
        return { code: 'SK_ERR_PROVIDER_TLS', reason: 'the server closed the connection during the TLS handshake' };
      }
    }
  }
  for (const e of chain) {
    const failure = classifyNetworkError(e);
    if (failure) return failure;
  }
  if (isNamed(err, 'MongoServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoTopologyClosedError')) {
    return { code: 'SK_ERR_PROVIDER_CONNECT', reason: firstLine(messageOf(err)) };
  }
  return undefined;
}

export function toProviderError(err: unknown, ctx: MongoErrorContext): SikkerKeyError {
  if (err instanceof SikkerKeyError) return err;
  const cause = scrubCause(err, ctx.redact);
  const make = (code: ErrorCode, message: string): SikkerKeyError => new SikkerKeyError(code, message, { cause });
  const where = `${ENGINE_NAME} at ${ctx.endpoint}`;
  const subject = ctx.subject ?? ctx.loginUser;
  const subjectDb = ctx.subjectDb ?? ctx.authSource;

  const server = serverErrorIn(err);
  if (server) {
    const said = `${server.codeName ?? 'error'} ${server.code}: ${firstLine(ctx.redact(server.errmsg))}`;
    switch (server.code) {
      case CODE.AuthenticationFailed:
        return make(
          'SK_ERR_PROVIDER_AUTH_FAILED',
          `${where} refused the credential of user ${quoteName(ctx.loginUser)} (authSource ${quoteName(ctx.authSource)}) ` +
            `while ${actionWords(ctx)}: wrong password or no such user there (MongoDB does not say which)` +
            (ctx.nameRoundTrips === false ? '; also, the driver cannot send this username intact in SCRAM (see preflight)' : ''),
        );
      case CODE.Unauthorized:
        return make(
          'SK_ERR_PROVIDER_PRIVILEGE',
          `the ${ctx.secret} user ${quoteName(ctx.loginUser)} may not ${privilegeWords(ctx, subject, subjectDb)} on ${where} ` +
            `(${said}): grant it the role userAdmin on ${quoteName(subjectDb)}, or userAdminAnyDatabase on "admin"`,
        );
      case CODE.UserNotFound:
        return make(
          'SK_ERR_PROVIDER_USER_NOT_FOUND',
          `user ${quoteName(subject)} does not exist on database ${quoteName(subjectDb)} of ${where}: ` +
            'create it first, or fix the secret\'s "username" / "authSource"',
        );
      case CODE.MechanismUnavailable:
        return make('SK_ERR_PROVIDER_FAILED', `${where} does not offer SCRAM-SHA-256 authentication (${said}): enable it in authenticationMechanisms`);
      case CODE.NotWritablePrimary:
      case CODE.NotPrimaryNoSecondaryOk:
      case CODE.NotPrimaryOrSecondary:
      case CODE.PrimarySteppedDown:
        return make(
          'SK_ERR_PROVIDER_FAILED',
          `${where} is not the primary of its replica set (${said}): point the ${ctx.secret} secret's "host" at the primary`,
        );
      default:
        return make('SK_ERR_PROVIDER_FAILED', `${where} answered ${said} while ${actionWords(ctx)}`);
    }
  }

  const network = classifyMongoNetwork(err, ctx.tls);
  if (network) {
    const base = networkError(network, { engine: ENGINE_NAME, endpoint: ctx.endpoint, secret: ctx.secret }, err);
    // A TLS-only server closes a plain connection mid-handshake: say so when that is what we saw.
    const closedByServer = /closed|ECONNRESET/.test(network.reason);
    const hint =
      network.code === 'SK_ERR_PROVIDER_CONNECT' && ctx.tls === 'disable' && closedByServer
        ? ' (the server closed the connection: one that requires TLS does so to plain clients, then set "tls")'
        : '';
    // The command may have reached the server before the connection failed: say so, the
    // rotation must treat the change as maybe applied and verify before anything else.
    const unknownOutcome =
      ctx.action === 'update' || ctx.action === 'lease' ? '; whether the server applied the password change is unknown: verify before retrying' : '';
    return make(network.code, ctx.redact(base.message) + hint + unknownOutcome);
  }

  if (isNamed(err, 'MongoParseError', 'MongoInvalidArgumentError', 'MongoMissingCredentialsError', 'MongoAPIError')) {
    return make('SK_ERR_PROVIDER_CONFIG', `the ${ctx.secret} secret cannot be used to connect to ${where}: ${firstLine(ctx.redact(messageOf(err)))}`);
  }
  // @mongodb-js/saslprep refuses passwords with characters RFC 4013 prohibits, client side.
  if (/Prohibited character|Bidirectional|RandALCat|LCat/i.test(messageOf(err))) {
    return make(
      'SK_ERR_PROVIDER_CONFIG',
      `the password of ${quoteName(ctx.loginUser)} holds characters SASLprep (RFC 4013) prohibits: MongoDB's SCRAM-SHA-256 cannot use it`,
    );
  }
  return make('SK_ERR_PROVIDER_FAILED', `${where} failed while ${actionWords(ctx)}: ${firstLine(ctx.redact(messageOf(err)))}`);
}

function actionWords(ctx: MongoErrorContext): string {
  switch (ctx.action) {
    case 'connect':
      return `connecting as ${quoteName(ctx.loginUser)}`;
    case 'update':
      return `changing the password of ${quoteName(ctx.subject ?? '')}`;
    case 'verify':
      return `logging in as ${quoteName(ctx.loginUser)}`;
    case 'preflight':
      return 'checking the admin\'s privileges';
    case 'lease':
      return `creating or dropping the leased user ${quoteName(ctx.subject ?? '')}`;
  }
}

function privilegeWords(ctx: MongoErrorContext, subject: string, db: string): string {
  switch (ctx.action) {
    case 'update':
      return `change the password of ${quoteName(subject)} (changePassword on database ${quoteName(db)})`;
    case 'preflight':
      return `view users on database ${quoteName(db)} (viewUser)`;
    case 'lease':
      return `create or drop user ${quoteName(subject)} (createUser, dropUser, grantRole on database ${quoteName(db)}; killAnySession on the cluster)`;
    default:
      return `run the command it needs on database ${quoteName(db)}`;
  }
}
