/** The PostgreSQL provider and its Supabase preset: the folder's only public face. */
import type { CredentialProvider } from '../provider.js';
import { type PostgresProviderOptions } from './postgres-provider.js';
import { type SupabasePresetOptions } from './supabase-preset.js';
export { postgresProvider, type PostgresLogin, type PostgresPreset, type PostgresProviderOptions, type PostgresVerifier } from './postgres-provider.js';
export { DEFAULT_POOLER_RETRY_SECONDS, SUPABASE_POOLER_PORT, supabasePreset, type SupabasePresetOptions } from './supabase-preset.js';
/**
 * The `supabase` engine: the PostgreSQL provider with the Supabase preset (TLS required,
 * verification through the pooler as `<role>.<projectRef>` with a bounded retry for its cache).
 *
 * @example
 *   const provider = supabaseProvider();
 *   await provider.initialize({ admin, target }); // target: host, port, poolerHost, poolerPort, projectRef, username, password
 */
export declare function supabaseProvider(options?: Omit<PostgresProviderOptions, 'preset'> & SupabasePresetOptions): CredentialProvider;
