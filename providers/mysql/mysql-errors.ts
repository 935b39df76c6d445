/**
 * MySQL and MariaDB errors → SikkerKeyError. Server errors are mapped by errno (stable across
 * both servers where they share a number; mysql2 names some MariaDB-only numbers after unrelated
 * MySQL errors, so names are not trusted), then network and TLS failures.
 *
 * A mysql2 error carries the whole statement in `sql` — with the password in it for ALTER USER —
 * so the original error is never kept as a cause: only its scrubbed copy.
 *
 * A table-privilege refusal (1142) names the command and table the server refused, and the hint
 * is the GRANT of exactly that (e.g. SELECT on `mysql`.`user`); other privilege errors, or a 1142
 * whose message does not read as expected, get the general CREATE USER hint.
 *
 * A statement that outlived the provider's statement timeout (mysql2's client-side `timeout`,
 * error code PROTOCOL_SEQUENCE_TIMEOUT) is SK_ERR_PROVIDER_CONNECT: the provider closed that
 * connection, and the message names the step and what usually holds a statement up (a lock).
 *
 * @example
 *   throw mysqlError(err, { step: 'update', engine: 'MariaDB', endpoint: 'db:3306', account: "'app'@'%'", admin: "'sk_admin'@'%'" });
 */
import { SikkerKeyError, type ErrorCode } from '../../protocol/errors.js';
import { redact } from '../sanitize.js';
import { classifyNetworkError, firstLine, messageOf, networkError, scrubCause, stringProp } from '../provider-errors.js';

export interface MysqlErrorContext {
  /** Values to keep out of the message and cause (the provider's secretValues()). */
  secrets?: Iterable<string>;
  step: 'admin-login' | 'login' | 'update' | 'retire' | 'preflight' | 'lease';
  /** "MySQL" or "MariaDB" (or "MySQL" before the server said which). */
  engine: string;
  endpoint: string;
  /** The account concerned as SQL, e.g. 'app'@'%' (the admin for admin-login). */
  account: string;
  /** The admin account as SQL, for fixes. */
  admin: string;
  /** The statement's leading keywords (e.g. "ALTER USER"), never its values: named when it timed out. */
  statement?: string;
  /** The statement timeout in force, for the message of a statement that outlived it. */
  timeoutMs?: number;
}

const AUTH = new Set([1045, 1698]);
// 1095 (ER_KILL_DENIED_ERROR, "You are not owner of thread"): ending another user's session
const PRIVILEGE = new Set([1227, 1044, 1095, 1142, 1143, 1370]);
const UNAVAILABLE = new Set([1040, 1129, 1203, 1053]);
const LOCKED = new Set([3118, 4151]); // MySQL, MariaDB: "this account is locked"
const EXPIRED = new Set([1820, 1862]);
/** ER_TABLEACCESS_DENIED_ERROR: "<command> command denied to user … for table …". */
const TABLE_ACCESS_DENIED = 1142;

/** mysql2's code for a query that outlived its `timeout` option. */
const QUERY_TIMEOUT = 'PROTOCOL_SEQUENCE_TIMEOUT';

/**
 * True when mysql2 gave up waiting for a statement (its per-query `timeout`). The statement may
 * still run on the server and its late answer would be read as the next statement's: that
 * connection must be destroyed, never used again.
 */
export function isQueryTimeout(err: unknown): boolean {
  return stringProp(err, 'code') === QUERY_TIMEOUT;
}

/** The statement's leading keywords ("ALTER USER", "GRANT"): never a value, which travels apart. */
export function statementKeywords(sql: string): string {
  return /^[A-Z]+(?: [A-Z]+)?/.exec(sql.trimStart())?.[0] ?? 'statement';
}

/** What a table-privilege refusal (errno 1142) says was denied: the command and the table. */
export interface DeniedTableAccess {
  /** The privilege's name as the server wrote it: "SELECT", "UPDATE", "CREATE VIEW", … */
  command: string;
  /** MariaDB names the schema; MySQL 8 names only the table. */
  schema?: string;
  table: string;
}

// MariaDB: "SELECT command denied to user 'sk_admin'@'10.0.0.5' for table `mysql`.`user`" (names
// quoted with backticks, a backtick doubled); MySQL 8: "SELECT command denied to user
// 'sk_admin'@'10.0.0.5' for table 'user'" (no schema). Anchored at the end: the user name between
// can hold anything.
const TABLE_DENIED = /^([A-Z]+(?: [A-Z]+){0,2}) command denied to user .* for table (?:`((?:[^`]|``)+)`\.`((?:[^`]|``)+)`|'([^']+)')$/;

/**
 * The command and table named by the server's 1142 message, or undefined when it says something
 * else (a translated message, a message mysql2 cut short): the caller then falls back to a
 * general hint.
 *
 * @example
 *   deniedTableAccess("SELECT command denied to user 'a'@'%' for table `mysql`.`user`") // → { command: 'SELECT', schema: 'mysql', table: 'user' }
 */
export function deniedTableAccess(message: string): DeniedTableAccess | undefined {
  const m = TABLE_DENIED.exec(firstLine(message).trim());
  if (m === null) return undefined;
  const command = m[1] ?? '';
  const unquote = (name: string): string => name.replace(/``/g, '`');
  if (m[4] !== undefined) return { command, table: m[4] };
  if (m[2] === undefined || m[3] === undefined) return undefined;
  return { command, schema: unquote(m[2]), table: unquote(m[3]) };
}

/** An identifier as SQL: backticks, a backtick inside doubled. */
function quoteId(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * The GRANT a privilege refusal calls for, by what was refused: ending a session needs CONNECTION
 * ADMIN; MariaDB's `SET DEFAULT ROLE … FOR` writes the mysql schema (1044 there); anything else is
 * the general CREATE USER. (A 1142 naming its table is handled before, with that table's GRANT.)
 */
function privilegeHint(errno: number, ctx: MysqlErrorContext): string {
  if (errno === 1095 || ctx.statement === 'KILL CONNECTION' || ctx.statement === 'KILL') {
    return `GRANT CONNECTION ADMIN ON *.* TO ${ctx.admin} (SUPER before MariaDB 10.5.2; CONNECTION_ADMIN on MySQL 8), and PROCESS to see the sessions`;
  }
  if (errno === 1044 && ctx.statement === 'SET DEFAULT') return `GRANT UPDATE ON mysql.* TO ${ctx.admin} (MariaDB's SET DEFAULT ROLE … FOR writes there)`;
  return `GRANT CREATE USER ON *.* TO ${ctx.admin}`;
}

/** True when the error is the server's answer (it has a SQLSTATE). */
export function isServerError(err: unknown): boolean {
  return stringProp(err, 'sqlState') !== undefined && Number(stringProp(err, 'errno')) > 0;
}

export function mysqlError(err: unknown, ctx: MysqlErrorContext): SikkerKeyError {
  if (err instanceof SikkerKeyError) return err;
  const secret = ctx.step === 'login' ? 'target' : 'admin';
  // before the network checks: mysql2's "Query inactivity timeout" would read as "cannot reach"
  if (isQueryTimeout(err)) return timedOut(err, ctx);
  if (!isServerError(err)) {
    const failure = classifyNetworkError(err);
    if (failure !== undefined) return networkError(failure, { engine: ctx.engine, endpoint: ctx.endpoint, secret }, err);
    return make('SK_ERR_PROVIDER_FAILED', `${ctx.engine} at ${ctx.endpoint}: ${firstLine(messageOf(err))}`, err, ctx);
  }

  const errno = Number(stringProp(err, 'errno'));
  const said = `${firstLine(stringProp(err, 'sqlMessage') ?? messageOf(err))} (errno ${errno})`;
  const at = `${ctx.engine} at ${ctx.endpoint}`;
  const login = ctx.step === 'login' || ctx.step === 'admin-login';

  if (login && AUTH.has(errno)) {
    return ctx.step === 'login'
      ? make('SK_ERR_PROVIDER_AUTH_FAILED', `${at} refused the login of ${ctx.account} with the credential being verified: ${said}`, err, ctx)
      : make('SK_ERR_PROVIDER_AUTH_FAILED', `${at} refused the admin login of ${ctx.admin}: ${said}; check the admin secret's username and password`, err, ctx);
  }
  if (login && errno === 1130) {
    return make('SK_ERR_PROVIDER_AUTH_FAILED', `${at} does not let this host log in as ${ctx.account}: ${said}; check the account's host part`, err, ctx);
  }
  if (login && LOCKED.has(errno)) {
    return make('SK_ERR_PROVIDER_AUTH_FAILED', `${at}: account ${ctx.account} is locked: ${said}; run ALTER USER ${ctx.account} ACCOUNT UNLOCK`, err, ctx);
  }
  if (login && (EXPIRED.has(errno) || errno === 3955)) {
    return make('SK_ERR_PROVIDER_AUTH_FAILED', `${at} refused ${ctx.account}: ${said}`, err, ctx);
  }
  if (login && errno === 1044) {
    return make('SK_ERR_PROVIDER_CONFIG', `${at}: ${ctx.account} may not use the database in the ${secret} secret: ${said}; fix "database" or grant access`, err, ctx);
  }
  if (errno === 1049) {
    return make('SK_ERR_PROVIDER_CONFIG', `${at}: ${said}; fix the ${secret} secret's "database" field`, err, ctx);
  }
  if (errno === TABLE_ACCESS_DENIED) {
    const denied = deniedTableAccess(stringProp(err, 'sqlMessage') ?? messageOf(err));
    if (denied !== undefined) {
      const doing = ctx.statement === undefined ? ctx.step : `${ctx.statement}, ${ctx.step}`;
      const grant = denied.schema === undefined
        ? `GRANT ${denied.command} ON <schema>.${quoteId(denied.table)} TO ${ctx.admin} (with the schema of table ${quoteId(denied.table)})`
        : `GRANT ${denied.command} ON ${quoteId(denied.schema)}.${quoteId(denied.table)} TO ${ctx.admin}`;
      return make(
        'SK_ERR_PROVIDER_PRIVILEGE',
        `admin ${ctx.admin} lacks the ${denied.command} privilege on ${denied.schema === undefined ? '' : `${quoteId(denied.schema)}.`}${quoteId(denied.table)} ` +
          `on ${at} (${doing} for ${ctx.account}): ${said}; run ${grant}`,
        err,
        ctx,
      );
    }
  }
  if (PRIVILEGE.has(errno)) {
    return make('SK_ERR_PROVIDER_PRIVILEGE', `admin ${ctx.admin} may not change ${ctx.account} on ${at}: ${said}; run ${privilegeHint(errno, ctx)}`, err, ctx);
  }
  if (errno === 1396 || errno === 1133) {
    // 1396 (ER_CANNOT_USER) is what ALTER USER answers for an account that does not exist
    return make('SK_ERR_PROVIDER_USER_NOT_FOUND', `${at} has no account ${ctx.account}: check the secret's username and accountHost (default '%')`, err, ctx);
  }
  if (UNAVAILABLE.has(errno)) {
    return make('SK_ERR_PROVIDER_CONNECT', `${at} is not accepting this connection now: ${said}`, err, ctx);
  }
  if (errno === 1819) {
    return make('SK_ERR_PROVIDER_FAILED', `${at}'s password policy (validate_password) rejected the new password for ${ctx.account}: ${said}; make the rotation policy's passwords satisfy it`, err, ctx);
  }
  if (errno === 3638) {
    // ER_CREDENTIALS_CONTRADICT_TO_HISTORY: password_history / password_reuse_interval
    return make('SK_ERR_PROVIDER_PASSWORD_REUSE', `${at}'s password-reuse policy refused a password it has seen for ${ctx.account}: ${said}`, err, ctx);
  }
  if (errno === 1290 || errno === 1836) {
    return make('SK_ERR_PROVIDER_FAILED', `${at} is read-only (a replica?): ${said}; point the admin secret at the primary`, err, ctx);
  }
  // an unforeseen answer to a statement that carries a password (a syntax error "near '…'") might
  // quote it: the server's words are left out there, only the numbers are kept
  const words = ctx.step === 'update' || ctx.step === 'retire' || ctx.step === 'lease' ? `errno ${errno}, SQLSTATE ${stringProp(err, 'sqlState') ?? '?'}` : said;
  return make('SK_ERR_PROVIDER_FAILED', `${at} answered an error we do not map (${ctx.step}, ${ctx.account}): ${words}`, err, ctx);
}

function timedOut(err: unknown, ctx: MysqlErrorContext): SikkerKeyError {
  const within = ctx.timeoutMs === undefined ? 'within the statement timeout' : `within ${ctx.timeoutMs} ms`;
  const statement = ctx.statement === undefined ? '' : ` (${ctx.statement})`;
  const what: Record<MysqlErrorContext['step'], string> = {
    'admin-login': `the first queries of the admin login as ${ctx.admin}`,
    login: `the query of the login as ${ctx.account} being verified`,
    update: `changing the password of ${ctx.account}`,
    retire: `discarding the retained password of ${ctx.account}`,
    preflight: `a preflight check of ${ctx.account}`,
    lease: `a leased-login statement for ${ctx.account}`,
  };
  const closed = ctx.step === 'login' ? 'the verifying connection was closed' : 'the admin connection was closed';
  return make(
    'SK_ERR_PROVIDER_CONNECT',
    `${ctx.engine} at ${ctx.endpoint} did not answer ${what[ctx.step]}${statement} ${within}: another session probably holds a lock ` +
      `it waits for (FLUSH TABLES WITH READ LOCK, a metadata lock on the account tables, a long transaction); ` +
      `the statement was abandoned and ${closed}`,
    err,
    ctx,
  );
}

function make(code: ErrorCode, message: string, cause: unknown, ctx: { secrets?: Iterable<string> }): SikkerKeyError {
  const values = [...(ctx.secrets ?? [])];
  const clean = (text: string): string => redact(text, values);
  return new SikkerKeyError(code, clean(message), { cause: scrubCause(cause, clean) });
}
