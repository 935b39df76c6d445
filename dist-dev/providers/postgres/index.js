import { postgresProvider } from './postgres-provider.js';
import { supabasePreset } from './supabase-preset.js';
export { postgresProvider } from './postgres-provider.js';
export { DEFAULT_POOLER_RETRY_SECONDS, SUPABASE_POOLER_PORT, supabasePreset } from './supabase-preset.js';
/**
 * The `supabase` engine: the PostgreSQL provider with the Supabase preset (TLS required,
 * verification through the pooler as `<role>.<projectRef>` with a bounded retry for its cache).
 *
 * @example
 *   const provider = supabaseProvider();
 *   await provider.initialize({ admin, target }); // target: host, port, poolerHost, poolerPort, projectRef, username, password
 */
export function supabaseProvider(options = {}) {
    const { firstRetryDelayMs, ...rest } = options;
    return postgresProvider({ ...rest, preset: supabasePreset(firstRetryDelayMs === undefined ? {} : { firstRetryDelayMs }) });
}
//# sourceMappingURL=index.js.map