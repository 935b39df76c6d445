import type { Migration } from 'kysely';
import type { Dialect } from '../open-store.js';
/** The tables whose every change moves the counter. */
export declare const COUNTED_TABLES: readonly ["projects", "project_keys", "secrets", "secret_versions", "grants", "operators", "ai_agents"];
/** The `machines` columns whose change moves it (not `last_seen_at`). */
export declare const MACHINE_COLUMNS: readonly ["name", "public_key", "key_id", "status", "expires_at", "ip_allowlist", "country_allowlist", "time_window", "constraints", "labels"];
export declare function changeCounterMigration(dialect: Dialect): Migration;
