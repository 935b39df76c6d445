import type { PostgresPreset } from './postgres-provider.js';
export declare const SUPABASE_POOLER_PORT = 6543;
export declare const DEFAULT_POOLER_RETRY_SECONDS = 10;
export interface SupabasePresetOptions {
    /** Waits between pooler attempts (tests may shorten them); default 250 ms doubling to 2 s. */
    firstRetryDelayMs?: number;
}
/** The preset; `postgresProvider({ preset: supabasePreset() })` is the `supabase` engine. */
export declare function supabasePreset(options?: SupabasePresetOptions): PostgresPreset;
