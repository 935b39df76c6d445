/**
 * The contract every database provider implements, modelled on Vault's dbplugin v5: one request
 * object in, one response object out, so fields can be added without breaking providers.
 *
 * Providers speak the database's words, not the vault's: they set, add, remove and discard
 * passwords and log in with one. Which of those an engine has follows from how it keeps passwords
 * (`PasswordSlots` in protocol/engines.ts). What a strategy means, and what undoing a failed
 * apply takes, is decided by the agent (agent/rotation/decide.ts), never by a provider.
 *
 * Roles: the vault generates every credential; the agent drives the provider; the provider only
 * talks to its database engine. A provider never generates passwords.
 *
 * @example
 *   const pg = await loadProvider('postgres');
 *   await pg.initialize({ admin, target });
 *   await pg.setPassword({ username: 'app', password: pending });
 *   await pg.verify({ username: 'app', password: pending });
 *   await pg.close();
 */

import type { Engine, Flavour, PasswordOperation, Strategy } from '../protocol/engines.js';
import type { LeaseGrant } from '../protocol/api-types.js';

export type { Engine, Flavour, PasswordOperation, Strategy } from '../protocol/engines.js';
export { ENGINES } from '../protocol/engines.js';

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
  /** Which row of the engine table answered (MySQL 8 or MariaDB behind the `mysql` provider). */
  flavour: Flavour;
}

/** One user and one password: what every password operation and every login takes. */
export interface Credential {
  username: string;
  password: string;
}

/** Resolves when a fresh connection logged in and a probe query answered; throws a SikkerKeyError otherwise. */
export interface VerifyResponse {
  serverVersion: string;
}

export interface PreflightRequest {
  /** Every user the policy will change (two under `alternating`). */
  usernames: string[];
  /** Checked against the engine table for the flavour the server turned out to be. */
  strategy: Strategy;
}
export interface PreflightResponse {
  ok: boolean;
  /** One line per problem, in words an operator can act on (which privilege, on what). */
  problems: string[];
}

/**
 * A leased login to create (docs/leases-agent.md): the vault generated the name and password;
 * `grant` is the lease role's, in the engine's words (PostgreSQL `memberOf`, MySQL `grantRole`,
 * Redis `acl`, MongoDB `roles`); `validUntil` (ms epoch) is where the engine has an expiry
 * (PostgreSQL VALID UNTIL).
 */
export interface CreateLoginRequest {
  username: string;
  password: string;
  grant: LeaseGrant;
  validUntil: number;
}
export interface RenewLoginRequest {
  username: string;
  validUntil: number;
}
export interface DropLoginRequest {
  username: string;
  /** PostgreSQL: who gets what the login owned (REASSIGN OWNED … TO); default: the admin. */
  reassignTo?: string;
}
export interface ListLoginsRequest {
  /** Only logins whose name starts with this (e.g. `sk`). */
  prefix: string;
}

/**
 * Every operation is idempotent: applying the same request twice leaves the database as applying
 * it once, so the agent may repeat a step after a crash or a lost answer.
 */
export interface CredentialProvider {
  readonly engine: Engine;
  /** The password operations this provider implements (a test holds it to the engine table). */
  readonly operations: readonly PasswordOperation[];
  /**
   * Connects as the admin and learns the server's version and flavour. Call once before anything else.
   *
   * The target side (endpoint, CA, preset fields such as a pooler) is read and kept BEFORE the
   * admin connects, so that when the admin login fails (wrong password, unreachable admin host)
   * `verify` can still prove whether the live credential works. A malformed target secret
   * (SK_ERR_PROVIDER_CONFIG) leaves nothing to verify against.
   */
  initialize(req: InitializeRequest): Promise<InitializeResponse>;
  /**
   * Afterwards `password` logs in as `username` and no other password set by this operation does.
   * Single-slot engines replace the password; Redis replaces the whole set (`resetpass`); MySQL 8
   * replaces the primary and leaves a retained password unchanged.
   */
  setPassword(req: Credential): Promise<void>;
  /** Adds `password` and keeps the current one working (Redis `>new`; MySQL 8 `RETAIN CURRENT PASSWORD`). */
  addPassword?(req: Credential): Promise<void>;
  /** Removes exactly `password` and no other (Redis `<old`); removing one the user lacks is a no-op. */
  removePassword?(req: Credential): Promise<void>;
  /** Empties the retained slot (MySQL 8 `DISCARD OLD PASSWORD`); a no-op when it is empty. */
  discardRetained?(req: { username: string }): Promise<void>;
  /**
   * A fresh connection to the target with exactly this credential, plus a probe query. Needs no
   * admin connection: it may be called after initialize failed on the admin login, as long as the
   * secrets were well-formed (the agent proves the live credential that way before it reports a
   * failure). A refused login is SK_ERR_PROVIDER_AUTH_FAILED; anything else means "unknown".
   *
   * @example
   *   try { await provider.initialize({ admin, target }); }
   *   catch { await provider.verify({ username: 'app', password: live }); } // still works
   */
  verify(req: Credential): Promise<VerifyResponse>;
  /** Checks, changing nothing, that the admin may change every user; never throws for a missing privilege. */
  preflight(req: PreflightRequest): Promise<PreflightResponse>;
  /**
   * Leases (optional; postgres, supabase, mysql, redis, mongodb). Creates the login with the
   * grant; an existing login of that name gets the password and grant again (idempotent).
   */
  createLogin?(req: CreateLoginRequest): Promise<void>;
  /** Moves the login's expiry (PostgreSQL VALID UNTIL); absent where the engine has none. */
  renewLogin?(req: RenewLoginRequest): Promise<void>;
  /** Ends the login's sessions and removes it; a login that does not exist is a no-op. */
  dropLogin?(req: DropLoginRequest): Promise<void>;
  /** The names of the logins starting with `prefix`, sorted. */
  listLogins?(req: ListLoginsRequest): Promise<string[]>;
  /**
   * Whether the admin connection initialize() opened is still open as far as the client knows (no
   * close, end or error seen): synchronous, no round trip. False before initialize() and after
   * close(). The agent's pool closes a kept provider that answers false instead of lending it.
   */
  isConnected?(): boolean;
  /** Closes every connection; safe to call twice. */
  close(): Promise<void>;
  /** Every secret value this provider was handed, for the error sanitizer. */
  secretValues(): string[];
}
