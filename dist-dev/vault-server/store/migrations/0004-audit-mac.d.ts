/**
 * The keyed audit log (issue "Hardening", item 3): every event gets `mac` = HMAC-SHA256(audit MAC
 * key, hash) and the head gets its own MAC, so rewriting history needs the root key, not just
 * write access to the database.
 *
 * Only the columns are added here: a migration runs without the root key. The keys themselves
 * are generated, the existing chain verified and its events MAC'd by `ensureAuditKeys`
 * (vault-server/modules/audit/audit-keys.ts), which runs once the root key has opened the vault.
 */
import type { Migration } from 'kysely';
import type { Dialect } from '../open-store.js';
export declare function auditMacMigration(_dialect: Dialect): Migration;
