/**
 * What every provider shares when it turns a driver's error into a SikkerKeyError: recognising
 * network and TLS failures (the same Node errors under every driver), and keeping only the
 * harmless fields of a driver error as the `cause`. Engine codes (SQLSTATE, MySQL errno, Redis
 * reply prefixes) are mapped in each engine's `<engine>-errors.ts`.
 *
 * @example
 *   const failure = classifyNetworkError(err);
 *   if (failure) throw networkError(failure, { engine: 'PostgreSQL', endpoint: '10.0.0.5:5432', secret: 'admin' }, err);
 */
import { SikkerKeyError } from '../protocol/errors.js';
const CONNECT_CODES = new Set([
    'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN',
    'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'EADDRNOTAVAIL', 'PROTOCOL_CONNECTION_LOST', 'ESOCKET',
]);
// OpenSSL and Node name their TLS failures with these prefixes (certificate, handshake, protocol)
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|EPROTO$|HANDSHAKE_NO_SSL_SUPPORT$|HANDSHAKE_SSL_ERROR$)/;
const TLS_MESSAGE = /does not support (SSL|secure connection)|SSL routines|wrong version number|certificate|TLS handshake|self[- ]signed/i;
const TIMEOUT_MESSAGE = /timeout expired|timed out|timeout/i;
/** The error and every error it wraps (`cause`, AggregateError's `errors`), outermost first. */
export function errorChain(err) {
    const seen = new Set();
    const out = [];
    const visit = (e) => {
        if (e === undefined || e === null || seen.has(e) || out.length > 20)
            return;
        seen.add(e);
        out.push(e);
        if (typeof e === 'object') {
            visit(e.cause);
            const inner = e.errors;
            if (Array.isArray(inner))
                inner.forEach(visit);
        }
    };
    visit(err);
    return out;
}
export function stringProp(err, name) {
    if (typeof err !== 'object' || err === null)
        return undefined;
    const value = err[name];
    return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}
export function messageOf(err) {
    return err instanceof Error ? err.message : typeof err === 'string' ? err : String(err);
}
/** Network or TLS failure anywhere in the chain, or undefined when the server answered. */
export function classifyNetworkError(err) {
    const chain = errorChain(err);
    for (const e of chain) {
        const code = stringProp(e, 'code');
        if (code !== undefined && TLS_CODE.test(code)) {
            // mysql2 replaces Node's precise code (self-signed, altname mismatch) by this generic one:
            // the reason is then in the message
            return { code: 'SK_ERR_PROVIDER_TLS', reason: code === 'HANDSHAKE_SSL_ERROR' ? `${code}: ${firstLine(messageOf(e))}` : code };
        }
    }
    for (const e of chain) {
        if (TLS_MESSAGE.test(messageOf(e)) && stringProp(e, 'sqlState') === undefined) {
            return { code: 'SK_ERR_PROVIDER_TLS', reason: firstLine(messageOf(e)) };
        }
    }
    for (const e of chain) {
        const code = stringProp(e, 'code');
        if (code !== undefined && CONNECT_CODES.has(code))
            return { code: 'SK_ERR_PROVIDER_CONNECT', reason: code };
    }
    for (const e of chain) {
        const msg = messageOf(e);
        if (TIMEOUT_MESSAGE.test(msg) || /Connection terminated|Connection is closed|connect E[A-Z]+|isn't writeable/i.test(msg)) {
            return { code: 'SK_ERR_PROVIDER_CONNECT', reason: firstLine(msg) };
        }
    }
    return undefined;
}
/** A SikkerKeyError for a network or TLS failure, with what to check. */
export function networkError(failure, ctx, cause) {
    const where = `${ctx.engine} at ${ctx.endpoint}`;
    const message = failure.code === 'SK_ERR_PROVIDER_TLS'
        ? `TLS to ${where} failed (${failure.reason}): check the ${ctx.secret} secret's "tls" and "caFile" ` +
            'fields against what the server offers (a server without TLS needs tls "disable")'
        : `cannot reach ${where} (${failure.reason}): check the ${ctx.secret} secret's "host" and "port", ` +
            'that the server is running, and that the agent may connect to it';
    return new SikkerKeyError(failure.code, message, { cause: scrubCause(cause) });
}
// Fields of driver errors that are safe to keep: mysql2 errors carry `sql` (the statement, with
// the password in it), pg errors carry nothing secret but `where`/`internalQuery` could.
const SAFE_FIELDS = ['code', 'errno', 'sqlState', 'severity', 'routine', 'syscall', 'address', 'port', 'sqlMessage', 'detail', 'hint'];
/**
 * A copy of a driver error with only harmless fields (message, name, code, errno, …), its own
 * causes scrubbed the same way. Loggers serialise every enumerable field of an error, so the
 * original must never travel on as a `cause`.
 */
export function scrubCause(err, redact = (t) => t, depth = 0) {
    if (err === undefined || err === null)
        return err;
    if (!(err instanceof Error))
        return redact(String(err));
    const copy = new Error(redact(err.message));
    copy.name = err.name;
    copy.stack = err.stack === undefined ? undefined : redact(err.stack);
    const target = copy;
    for (const name of SAFE_FIELDS) {
        const value = err[name];
        if (typeof value === 'string')
            target[name] = redact(value);
        else if (typeof value === 'number')
            target[name] = value;
    }
    const inner = err.cause;
    if (inner !== undefined && depth < 10) {
        Object.defineProperty(copy, 'cause', { value: scrubCause(inner, redact, depth + 1), enumerable: false, writable: true, configurable: true });
    }
    return copy;
}
export function firstLine(text) {
    const line = text.split('\n')[0] ?? '';
    return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
/** Names in messages: JSON-quoted, so odd characters stay visible and unambiguous. */
export function quoteName(name) {
    return JSON.stringify(name);
}
//# sourceMappingURL=provider-errors.js.map