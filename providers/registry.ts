/**
 * Loads one engine's provider on demand. Each engine's module (and with it its driver: pg,
 * mysql2, mongodb — named per engine in protocol/engines.ts; Redis speaks RESP itself) is imported only when that
 * engine is asked for, so an agent that rotates only PostgreSQL never loads the other drivers
 * (FINDINGS: each driver costs memory; all five together push the agent from ~54 to ~76 MiB).
 *
 * A driver that cannot be loaded (missing from a trimmed build, or failing as it starts) is
 * SK_ERR_PROVIDER_UNAVAILABLE naming the package: the agent fails that job and goes on.
 *
 * The provider comes back unwrapped; compose the cross-cutting wrappers at the call site.
 *
 * @example
 *   const provider = withSanitizer(await loadProvider('postgres'));
 */
import { SikkerKeyError } from '../protocol/errors.js';
import { ENGINES, flavoursOf, isEngine } from '../protocol/engines.js';
import type { CredentialProvider, Engine } from './provider.js';

type Loader = () => Promise<CredentialProvider>;

const loaders: Record<Engine, Loader> = {
  postgres: async () => (await import('./postgres/index.js')).postgresProvider(),
  // a preset of the PostgreSQL provider: same module, same driver
  supabase: async () => (await import('./postgres/index.js')).supabaseProvider(),
  mysql: async () => (await import('./mysql/index.js')).mysqlProvider(),
  redis: async () => (await import('./redis/index.js')).redisProvider(),
  mongodb: async () => (await import('./mongodb/index.js')).mongodbProvider(),
};

/** The provider for `engine`, its module imported now. Unknown engines are a config error. */
export async function loadProvider(engine: Engine): Promise<CredentialProvider> {
  if (!isEngine(engine)) {
    throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `unknown provider ${JSON.stringify(engine)}: use one of ${ENGINES.join(', ')}`);
  }
  try {
    return await loaders[engine]();
  } catch (err) {
    const drivers = [...new Set(flavoursOf(engine).map((f) => f.driver ?? 'built in'))].join(', ');
    const missing = (err as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND';
    throw new SikkerKeyError(
      'SK_ERR_PROVIDER_UNAVAILABLE',
      missing
        ? `the ${engine} provider is not available in this installation: its driver (${drivers}) is missing`
        : `the ${engine} provider failed to load (driver ${drivers}): ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}
