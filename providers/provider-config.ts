/**
 * Reading the connection fields of a database secret (DESIGN §11), shared by every provider:
 * validated once, defaults applied, frozen. A missing or invalid field is a
 * `SK_ERR_PROVIDER_CONFIG` naming the field and the secret, never a value of `password`.
 *
 * @example
 *   const admin = readEndpoint(req.admin, { secret: 'admin', defaultPort: 5432, engine: 'PostgreSQL' });
 *   // → { host: 'db.internal', port: 5432, username: 'sk_admin', tls: 'require', … }
 */
import { readFile } from 'node:fs/promises';
import { SikkerKeyError } from '../protocol/errors.js';
import type { DatabaseSecret } from './provider.js';

export type TlsMode = 'disable' | 'require' | 'verify-full';
const TLS_MODES: readonly TlsMode[] = ['disable', 'require', 'verify-full'];

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
export function field(secret: DatabaseSecret, name: string): string | undefined {
  const value = secret[name];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

export function readEndpoint(secret: DatabaseSecret, opts: ReadEndpointOptions): Endpoint {
  const host = field(secret, 'host')?.trim();
  if (host === undefined) throw configError(opts, 'has no "host" field');

  const portText = field(secret, 'port')?.trim();
  const port = portText === undefined ? opts.defaultPort : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw configError(opts, `has a "port" that is not a TCP port number (got ${JSON.stringify(portText)})`);
  }

  // usernames are taken verbatim: leading or trailing spaces can be part of a real name
  const username = secret['username'] !== undefined && secret['username'] !== '' ? secret['username'] : opts.defaultUsername;
  if (username === undefined) throw configError(opts, 'has no "username" field');

  const password = secret['password'] ?? '';
  if (opts.passwordRequired && password === '') throw configError(opts, 'has no "password" field');

  const tlsText = field(secret, 'tls')?.trim() ?? 'disable';
  if (!(TLS_MODES as readonly string[]).includes(tlsText)) {
    throw configError(opts, `has "tls" ${JSON.stringify(tlsText)}: use one of ${TLS_MODES.join(', ')}`);
  }

  return Object.freeze({
    host,
    port,
    username,
    password,
    database: field(secret, 'database'),
    tls: tlsText as TlsMode,
    caFile: field(secret, 'caFile'),
  });
}

/** Reads `caFile` once at initialize, so a wrong path fails before anything changes. */
export async function readCaFile(endpoint: Endpoint, opts: Pick<ReadEndpointOptions, 'secret' | 'engine'>): Promise<string | undefined> {
  if (endpoint.caFile === undefined) return undefined;
  try {
    return await readFile(endpoint.caFile, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new SikkerKeyError(
      'SK_ERR_PROVIDER_CONFIG',
      `the ${opts.secret} secret's caFile ${JSON.stringify(endpoint.caFile)} cannot be read (${String(code ?? 'error')}): ` +
        'fix the path or the file permissions for the agent',
      { cause: err },
    );
  }
}

/**
 * Guards the request at runtime (it comes from JSON): a username and password that are non-empty
 * strings. Anything else would be quoted into something unintended — pg's escapeLiteral turns a
 * non-string into '' and mysql2's escape expands objects — so it is refused before any statement.
 */
export function checkCredential(username: unknown, password: unknown, engine: string): void {
  if (typeof username !== 'string' || username === '') {
    throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the ${engine} username is empty or not a string`);
  }
  if (typeof password !== 'string' || password === '') {
    throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the password for ${JSON.stringify(username)} is empty or not a string`);
  }
}

/** The endpoint as host:port for messages (IPv6 in brackets). */
export function describeEndpoint(endpoint: Pick<Endpoint, 'host' | 'port'>): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

function configError(opts: Pick<ReadEndpointOptions, 'secret' | 'engine'>, what: string): SikkerKeyError {
  return new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `the ${opts.engine} ${opts.secret} secret ${what}`);
}
