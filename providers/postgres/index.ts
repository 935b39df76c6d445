/** The PostgreSQL provider: the folder's only public face. */
export { postgresProvider, type PostgresPreset, type PostgresProviderOptions } from './postgres-provider.js';
