/**
 * PostgreSQL errors → SikkerKeyError. SQLSTATE codes (server answers) are mapped first, then
 * network and TLS failures. Messages name the role and the server, never a password.
 *
 * @example
 *   try { await client.connect(); } catch (err) {
 *     throw pgError(err, { step: 'admin-login', endpoint: '10.0.0.5:5432', username: 'sk_admin', admin: 'sk_admin' });
 *   }
 */
import { SikkerKeyError, type ErrorCode } from '../../protocol/errors.js';
import { redact } from '../sanitize.js';
import { classifyNetworkError, firstLine, messageOf, networkError, quoteName, scrubCause, stringProp } from '../provider-errors.js';

export interface PgErrorContext {
  /** Values to keep out of the message and cause (the provider's secretValues()). */
  secrets?: Iterable<string>;
  /** What was being done: logging in as the admin, logging in as the user under test, or changing a password. */
  step: 'admin-login' | 'login' | 'update' | 'preflight' | 'lease';
  /** host:port. */
  endpoint: string;
  /** The role concerned (the admin for admin-login). */
  username: string;
  admin: string;
  /** How to fix a privilege error on this server version. */
  privilegeHint?: string;
}

const AUTH = new Set(['28P01', '28000']);
const UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300', '53000']);

/** True when the error is PostgreSQL's answer (an ErrorResponse with a SQLSTATE). */
export function isServerError(err: unknown): boolean {
  const code = stringProp(err, 'code');
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) && stringProp(err, 'severity') !== undefined;
}

export function pgError(err: unknown, ctx: PgErrorContext): SikkerKeyError {
  if (err instanceof SikkerKeyError) return err;
  const secret = ctx.step === 'login' ? 'target' : 'admin';
  if (!isServerError(err)) {
    const failure = classifyNetworkError(err);
    if (failure !== undefined) return networkError(failure, { engine: 'PostgreSQL', endpoint: ctx.endpoint, secret }, err);
    return make('SK_ERR_PROVIDER_FAILED', `PostgreSQL at ${ctx.endpoint}: ${firstLine(messageOf(err))}`, err, ctx);
  }

  const sqlstate = stringProp(err, 'code') ?? '';
  const said = `${firstLine(messageOf(err))} (SQLSTATE ${sqlstate})`;
  const role = quoteName(ctx.username);
  const admin = quoteName(ctx.admin);
  const at = `PostgreSQL at ${ctx.endpoint}`;

  if (AUTH.has(sqlstate)) {
    return ctx.step === 'login'
      ? make('SK_ERR_PROVIDER_AUTH_FAILED', `${at} refused the login of role ${role} with the credential being verified: ${said}`, err, ctx)
      : make('SK_ERR_PROVIDER_AUTH_FAILED', `${at} refused the admin login of ${admin}: ${said}; check the admin secret's username and password, and pg_hba.conf`, err, ctx);
  }
  if (sqlstate === '42501') {
    const hint = ctx.privilegeHint === undefined ? '' : `; ${ctx.privilegeHint}`;
    return make('SK_ERR_PROVIDER_PRIVILEGE', `admin ${admin} may not change role ${role} on ${at}: ${said}${hint}`, err, ctx);
  }
  if (sqlstate === '42704') {
    return make('SK_ERR_PROVIDER_USER_NOT_FOUND', `role ${role} does not exist on ${at}: check the secret's username, or create the role`, err, ctx);
  }
  if (sqlstate === '3D000') {
    return make('SK_ERR_PROVIDER_CONFIG', `${at}: ${said}; fix the ${secret} secret's "database" field`, err, ctx);
  }
  if (sqlstate === '25006') {
    return make('SK_ERR_PROVIDER_FAILED', `${at} is read-only (a standby?): ${said}; point the admin secret at the primary`, err, ctx);
  }
  if (sqlstate === '57014' || sqlstate === '55P03') {
    return make('SK_ERR_PROVIDER_FAILED', `${at} timed out changing role ${role}: ${said}; another session may hold a lock on it`, err, ctx);
  }
  if (UNAVAILABLE.has(sqlstate) || sqlstate.startsWith('08')) {
    return make('SK_ERR_PROVIDER_CONNECT', `${at} is not accepting this connection now: ${said}`, err, ctx);
  }
  // a syntax error quotes the statement ("at or near …"); in ALTER ROLE that could be the literal
  const words = sqlstate.startsWith('42') && (ctx.step === 'update' || ctx.step === 'lease') ? `SQLSTATE ${sqlstate}` : said;
  return make('SK_ERR_PROVIDER_FAILED', `${at} answered an error we do not map while ${stepWords(ctx)}: ${words}`, err, ctx);
}

function stepWords(ctx: PgErrorContext): string {
  switch (ctx.step) {
    case 'admin-login': return 'logging in as the admin';
    case 'login': return `logging in as ${quoteName(ctx.username)}`;
    case 'update': return `changing the password of ${quoteName(ctx.username)}`;
    case 'preflight': return 'checking privileges';
    case 'lease': return `creating, renewing or dropping the leased login ${quoteName(ctx.username)}`;
  }
}

function make(code: ErrorCode, message: string, cause: unknown, ctx: { secrets?: Iterable<string> }): SikkerKeyError {
  const values = [...(ctx.secrets ?? [])];
  const clean = (text: string): string => redact(text, values);
  return new SikkerKeyError(code, clean(message), { cause: scrubCause(cause, clean) });
}
