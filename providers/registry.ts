/**
 * Loads one engine's provider on demand. Each engine's module (and with it its driver: pg,
 * mysql2, ioredis, mongodb) is imported only when that engine is asked for, so an agent that
 * rotates only PostgreSQL never loads the other drivers (FINDINGS: each driver costs memory; all
 * five together push the agent from ~54 to ~76 MiB).
 *
 * The provider comes back unwrapped; compose the cross-cutting wrappers at the call site.
 *
 * @example
 *   const provider = withSanitizer(await loadProvider('postgres'));
 */
import { SikkerKeyError } from '../protocol/errors.js';
import { ENGINES, type CredentialProvider, type Engine } from './provider.js';

type Loader = () => Promise<CredentialProvider>;

const loaders: Record<Engine, Loader> = {
  postgres: async () => (await import('./postgres/index.js')).postgresProvider(),
  // a preset of the PostgreSQL provider: same module, same driver
  supabase: async () => (await import('./postgres/index.js')).supabaseProvider(),
  mysql: async () => (await import('./mysql/index.js')).mysqlProvider(),
  redis: async () => (await import('./redis/index.js')).redisProvider(),
  mongodb: () => loadMongodb(),
};

/** The provider for `engine`, its module imported now. Unknown engines are a config error. */
export async function loadProvider(engine: Engine): Promise<CredentialProvider> {
  if (!(ENGINES as readonly string[]).includes(engine)) {
    throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', `unknown provider ${JSON.stringify(engine)}: use one of ${ENGINES.join(', ')}`);
  }
  return loaders[engine]();
}

// A driver that is not installed (a trimmed build) is a configuration problem, not a crash.
async function loadMongodb(): Promise<CredentialProvider> {
  try {
    return (await import('./mongodb/index.js')).mongodbProvider();
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new SikkerKeyError('SK_ERR_PROVIDER_CONFIG', 'the mongodb provider is not available in this build (its driver is missing)', { cause: err });
    }
    throw err;
  }
}
