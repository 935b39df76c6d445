import type { Migration } from 'kysely';
import type { Dialect } from '../open-store.js';
/** The `operator_keys` columns whose change moves the counter (not `last_used_at`). */
export declare const OPERATOR_KEY_COLUMNS: readonly ["operator_id", "public_key", "label", "revoked_at"];
export declare function operatorKeysMigration(dialect: Dialect): Migration;
