import { type ConnectionOptions } from 'node:tls';
import type { DatabaseSecret } from './provider.js';
/** The secret's `tls` field, with libpq's meanings (see tlsOptions for the table). */
export type TlsMode = 'disable' | 'require' | 'verify-full';
/** Where and as whom to connect; `password` may be empty for servers that need none (Redis `nopass`). */
export interface Endpoint {
    readonly host: string;
    readonly port: number;
    readonly username: string;
    readonly password: string;
    readonly database: string | undefined;
    readonly tls: TlsMode;
    readonly caFile: string | undefined;
}
export interface ReadEndpointOptions {
    /** Which secret this is, for messages: 'admin' or 'target'. */
    secret: 'admin' | 'target';
    /** For messages: "PostgreSQL", "MySQL", "Redis". */
    engine: string;
    defaultPort: number;
    /** Username when the secret has none (Redis: `default`); absent means the field is required. */
    defaultUsername?: string;
    /** The admin secret must carry a password unless the engine allows none. */
    passwordRequired: boolean;
}
/** A field's value, or undefined when absent or blank. */
export declare function field(secret: DatabaseSecret, name: string): string | undefined;
export declare function readEndpoint(secret: DatabaseSecret, opts: ReadEndpointOptions): Endpoint;
/** Reads `caFile` once at initialize, so a wrong path fails before anything changes. */
export declare function readCaFile(endpoint: Endpoint, opts: Pick<ReadEndpointOptions, 'secret' | 'engine'>): Promise<string | undefined>;
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
export declare function tlsOptions(endpoint: Pick<Endpoint, 'host' | 'tls'>, ca: string | undefined): ConnectionOptions | undefined;
/** `checkServerIdentity` for the modes that do not check the host name (`require`). */
export declare const acceptAnyHostName: () => undefined;
/** Whether tlsOptions() asked for the host name to be checked: for drivers that take a flag (mysql2's verifyIdentity). */
export declare function checksHostName(options: ConnectionOptions): boolean;
/**
 * Guards the request at runtime (it comes from JSON): a username and password that are non-empty
 * strings. Anything else would be quoted into something unintended — pg's escapeLiteral turns a
 * non-string into '' and mysql2's escape expands objects — so it is refused before any statement.
 */
export declare function checkCredential(username: unknown, password: unknown, engine: string): void;
/** The username half of checkCredential, for operations that take no password. */
export declare function checkUsernameValue(username: unknown, engine: string): void;
/** The endpoint as host:port for messages (IPv6 in brackets). */
export declare function describeEndpoint(endpoint: Pick<Endpoint, 'host' | 'port'>): string;
