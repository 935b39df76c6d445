/**
 * The contract every database provider implements, modelled on Vault's dbplugin v5: one request
 * object in, one response object out, so fields can be added without breaking providers.
 *
 * Roles: the vault generates every credential; the agent drives the provider; the provider only
 * talks to its database engine. A provider never generates passwords.
 *
 * @example
 *   const pg = await loadProvider('postgres');
 *   await pg.initialize({ admin, target });
 *   await pg.updateCredential({ username: 'app', password: pending, strategy: 'single' });
 *   await pg.verifyCredential({ username: 'app', password: pending });
 *   await pg.close();
 */

import type { Engine, Strategy } from '../protocol/api-types.js';

export type { Engine, Strategy } from '../protocol/api-types.js';
export { ENGINES } from '../protocol/api-types.js';

/**
 * A database secret as stored in the vault: structured, every value a string.
 * Common fields: host, port, username, password. Per engine: database, authSource,
 * accountHost (MySQL, default '%'), projectRef, poolerHost, poolerPort (Supabase),
 * tls ('disable' | 'require' | 'verify-full'), caFile.
 */
export type DatabaseSecret = Readonly<Record<string, string>>;

export interface InitializeRequest {
  /** The admin secret: where and as whom to connect to change credentials. */
  admin: DatabaseSecret;
  /** The rotated secret: its host/port/database are where verification logs in. */
  target: DatabaseSecret;
}
export interface InitializeResponse {
  /** What the server said it is, e.g. "PostgreSQL 15.19" or "MariaDB 10.11.19". */
  serverVersion: string;
}

export interface UpdateCredentialRequest {
  username: string;
  password: string;
  /**
   * `single`: replace the password. `dual`: add `password` beside the current one (Redis `>new`,
   * MySQL `RETAIN CURRENT PASSWORD`). `alternating`: replace the password of a user that is not live.
   */
  strategy: Strategy;
}
/** Applying the same request twice leaves the database as applying it once. */
export type UpdateCredentialResponse = Record<string, never>;

export interface VerifyCredentialRequest {
  username: string;
  password: string;
}
/** Resolves when a fresh connection logged in and a probe query answered; throws a SikkerKeyError otherwise. */
export interface VerifyCredentialResponse {
  serverVersion: string;
}

/** `dual` only: remove the old password once the grace period has passed. */
export interface RetireCredentialRequest {
  username: string;
  /** The password to remove (Redis `<old`); MySQL discards the retained one. */
  oldPassword: string;
}

export interface PreflightRequest {
  /** Every user the policy will change (two under `alternating`). */
  usernames: string[];
  strategy: Strategy;
}
export interface PreflightResponse {
  ok: boolean;
  /** One line per problem, in words an operator can act on (which privilege, on what). */
  problems: string[];
}

export interface CredentialProvider {
  readonly engine: Engine;
  /**
   * Connects as the admin and learns the server's version. Call once before anything else.
   *
   * The target side (endpoint, CA, preset fields such as a pooler) is read and kept BEFORE the
   * admin connects, so that when the admin login fails (wrong password, unreachable admin host)
   * `verifyCredential` can still prove whether the live credential works. A malformed target
   * secret (SK_ERR_PROVIDER_CONFIG) leaves nothing to verify against.
   */
  initialize(req: InitializeRequest): Promise<InitializeResponse>;
  /** Idempotent: sets the credential; throws a SikkerKeyError with a provider error code. */
  updateCredential(req: UpdateCredentialRequest): Promise<UpdateCredentialResponse>;
  /**
   * A fresh connection to the target with exactly this credential, plus a probe query. Needs no
   * admin connection: it may be called after initialize failed on the admin login, as long as the
   * secrets were well-formed (the agent proves the live credential that way before it reports a
   * failure). A refused login is SK_ERR_PROVIDER_AUTH_FAILED; anything else means "unknown".
   *
   * @example
   *   try { await provider.initialize({ admin, target }); }
   *   catch { await provider.verifyCredential({ username: 'app', password: live }); } // still works
   */
  verifyCredential(req: VerifyCredentialRequest): Promise<VerifyCredentialResponse>;
  retireCredential?(req: RetireCredentialRequest): Promise<void>;
  preflight?(req: PreflightRequest): Promise<PreflightResponse>;
  /** Closes every connection; safe to call twice. */
  close(): Promise<void>;
  /** Every secret value this provider was handed, for the error sanitizer. */
  secretValues(): string[];
}
