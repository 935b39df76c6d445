/** The vault's store: the folder's public face. */
export { openStore, migrationStatus, describeUrl, SQLITE_FILE_NAME, SQLITE_BUSY_TIMEOUT_MS } from './open-store.js';
export type { Dialect, OpenStoreOptions, Store, StoreLocation } from './open-store.js';
export { forShare, forUpdate, isUniqueViolation, transaction } from './locks.js';
export type { DialectOf, RowLockOptions, TransactionOptions } from './locks.js';
export { createNonceStore, StoreNonceStore } from './nonce-store.js';
export type { NonceStore, StoreNonceStoreOptions } from './nonce-store.js';
export { UNFINISHED_ROTATION_STATES } from './database.js';
export type * from './database.js';
export { MIGRATION_NAMES } from './migrations/index.js';
