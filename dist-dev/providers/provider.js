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
export { ENGINES } from '../protocol/engines.js';
//# sourceMappingURL=provider.js.map