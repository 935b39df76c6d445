/**
 * Errors that mean "the store is not answering right now", not "this request is wrong": a
 * PostgreSQL restart or failover (connection refused, terminated, `admin_shutdown`,
 * `cannot_connect_now`), `--statement-timeout` cancelling a statement, a serialization failure or
 * deadlock, a pool that could not get a connection in time, SQLite busy past its timeout. They
 * are answered `503 SK_ERR_STORE` with `Retry-After`, so clients and agents retry (against
 * another replica, behind a load balancer), and never as a 500.
 *
 * @example
 *   storeUnavailable(Object.assign(new Error('terminating connection'), { code: '57P01' })) // SikkerKeyError SK_ERR_STORE
 */
import { SikkerKeyError } from '../../protocol/errors.js';

/** SQLSTATE codes and classes of a store that is restarting, overloaded or cancelled the statement. */
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '40001', '40P01', '53300', '55P03']);
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'SQLITE_BUSY', 'SQLITE_LOCKED']);
/** pg's own messages for a connection it lost or could not get (they carry no code). */
const TRANSIENT_MESSAGES = [/^Connection terminated/, /^timeout exceeded when trying to connect/, /Client has encountered a connection error/, /^Connection terminated due to connection timeout/];

export function storeUnavailable(err: unknown): SikkerKeyError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, message } = err as { code?: unknown; message?: unknown };
  const transient = (typeof code === 'string' && (TRANSIENT_SQLSTATES.has(code) || code.startsWith('08') || TRANSIENT_NODE_CODES.has(code)))
    || (typeof message === 'string' && TRANSIENT_MESSAGES.some((re) => re.test(message)));
  if (!transient) return undefined;
  const why = code === '57014' ? 'a statement ran past --statement-timeout' : 'the store is unavailable or restarting';
  // No driver message: it may name hosts, users or parameters.
  return new SikkerKeyError('SK_ERR_STORE', `${why}; retry`, { details: { retryAfter: 1 }, cause: err });
}
