/**
 * Reading the connection fields of a database secret (DESIGN §11), shared by every provider:
 * validated once, defaults applied, frozen. A missing or invalid field is a
 * `SK_ERR_PROVIDER_CONFIG` naming the field and the secret, never a value of `password`.
 *
 * @example
 *   const admin = readEndpoint(req.admin, { secret: 'admin', defaultPort: 5432, engine: 'PostgreSQL' });
 *   // → { host: 'db.internal', port: 5432, username: 'sk_admin', tls: 'require', … }
 *   const tls = tlsOptions(admin, await readCaFile(admin, { secret: 'admin', engine: 'PostgreSQL' }));
 *   // → Node tls.ConnectionOptions (or undefined for "disable"), mapped by each provider onto its driver
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import { SikkerKeyError } from '../protocol/errors.js';
const TLS_MODES = ['disable', 'require', 'verify-full'];
/** A field's value, or undefined when absent or blank. */
export function field(secret, name) {
    const value = secret[name];
    return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}
export function readEndpoint(secret, opts) {
    const host = field(secret, 'host')?.trim();
    if (host === undefined)
        throw configError(opts, 'has no "host" field');
    const portText = field(secret, 'port')?.trim();
    const port = portText === undefined ? opts.defaultPort : Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw configError(opts, `has a "port" that is not a TCP port number (got ${JSON.stringify(portText)})`);
    }
    // usernames are taken verbatim: leading or trailing spaces can be part of a real name
    const username = secret['username'] !== undefined && secret['username'] !== '' ? secret['username'] : opts.defaultUsername;
    if (username === undefined)
        throw configError(opts, 'has no "username" field');
    const password = secret['password'] ?? '';
    if (opts.passwordRequired && password === '')
        throw configError(opts, 'has no "password" field');
    const tlsText = field(secret, 'tls')?.trim() ?? 'disable';
    if (!TLS_MODES.includes(tlsText)) {
        throw configError(opts, `has "tls" ${JSON.stringify(tlsText)}: use one of ${TLS_MODES.join(', ')}`);
    }
    return Object.freeze({
        host,
        port,
        username,
        password,
        database: field(secret, 'database'),
        tls: tlsText,
        caFile: field(secret, 'caFile'),
    });
}
/** Reads `caFile` once at initialize, so a wrong path fails before anything changes. */
export async function readCaFile(endpoint, opts) {
    if (endpoint.caFile === undefined)
        return undefined;
    try {
        return await readFile(endpoint.caFile, 'utf8');
    }
    catch (err) {
        const code = err.code;
        throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the ${opts.secret} secret's caFile ${JSON.stringify(endpoint.caFile)} cannot be read (${String(code ?? 'error')}): ` +
            'fix the path or the file permissions for the agent', { cause: err });
    }
}
/**
 * The one meaning of a secret's `tls` and `caFile` for every provider, as libpq gives `sslmode`
 * (PostgreSQL docs, "SSL Support"), built as Node `tls.ConnectionOptions`; each provider maps the
 * result onto its driver's option shape and adds nothing of its own:
 *
 * | `tls`         | `caFile`  | encrypted | certificate chain checked against | host name checked | libpq equivalent           |
 * |---------------|-----------|-----------|-----------------------------------|-------------------|----------------------------|
 * | `disable`     | ignored   | no        | —                                 | —                 | `disable`                  |
 * | `require`     | absent    | yes       | nothing (any certificate)         | no                | `require`                  |
 * | `require`     | given     | yes       | the caFile's CAs only             | no                | `require` + root cert = `verify-ca` |
 * | `verify-full` | absent    | yes       | Node's default CAs (its bundled list, plus NODE_EXTRA_CA_CERTS) | yes | `verify-full` with sslrootcert=system |
 * | `verify-full` | given     | yes       | the caFile's CAs only             | yes               | `verify-full`              |
 *
 * A certificate that fails a check ends the handshake; the providers report it as
 * SK_ERR_PROVIDER_TLS. The host name is checked against the certificate's names as Node's
 * `tls.checkServerIdentity` does (DNS names for a host name, IP addresses for an IP address).
 * `servername` (SNI) is set for a host name only: RFC 6066 forbids an IP address there.
 *
 * Shape, so a driver mapping can read it without knowing the mode: `undefined` for `disable`;
 * otherwise `rejectUnauthorized` (false only for `require` without caFile), `ca` when a caFile was
 * read, and `checkServerIdentity` — Node's own `tls.checkServerIdentity` when the name is checked,
 * a function that accepts every name when it is not.
 *
 * @example
 *   tlsOptions({ ...endpoint, host: 'db.internal', tls: 'require' }, caPem)
 *   // → { rejectUnauthorized: true, ca: caPem, checkServerIdentity: () => undefined, servername: 'db.internal' }
 */
export function tlsOptions(endpoint, ca) {
    if (endpoint.tls === 'disable')
        return undefined;
    const host = endpoint.host.replace(/^\[|\]$/g, '');
    const sni = isIP(host) === 0 ? { servername: host } : {};
    const trust = ca === undefined ? {} : { ca };
    if (endpoint.tls === 'require') {
        // encrypted; with a caFile the chain must lead to it (libpq's verify-ca), without one anything goes
        return { rejectUnauthorized: ca !== undefined, ...trust, checkServerIdentity: acceptAnyHostName, ...sni };
    }
    // verify-full: without a caFile, Node's default trust store (its bundled CAs, NODE_EXTRA_CA_CERTS)
    return { rejectUnauthorized: true, ...trust, checkServerIdentity, ...sni };
}
/** `checkServerIdentity` for the modes that do not check the host name (`require`). */
export const acceptAnyHostName = () => undefined;
/** Whether tlsOptions() asked for the host name to be checked: for drivers that take a flag (mysql2's verifyIdentity). */
export function checksHostName(options) {
    return options.checkServerIdentity === checkServerIdentity;
}
/**
 * Guards the request at runtime (it comes from JSON): a username and password that are non-empty
 * strings. Anything else would be quoted into something unintended — pg's escapeLiteral turns a
 * non-string into '' and mysql2's escape expands objects — so it is refused before any statement.
 */
export function checkCredential(username, password, engine) {
    checkUsernameValue(username, engine);
    if (typeof password !== 'string' || password === '') {
        throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the password for ${JSON.stringify(username)} is empty or not a string`);
    }
}
/** The username half of checkCredential, for operations that take no password. */
export function checkUsernameValue(username, engine) {
    if (typeof username !== 'string' || username === '') {
        throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the ${engine} username is empty or not a string`);
    }
}
/** The endpoint as host:port for messages (IPv6 in brackets). */
export function describeEndpoint(endpoint) {
    return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}
function configError(opts, what) {
    return new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the ${opts.engine} ${opts.secret} secret ${what}`);
}
//# sourceMappingURL=provider-config.js.map