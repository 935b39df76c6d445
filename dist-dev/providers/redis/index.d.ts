/** The Redis provider: the folder's only public face. */
export { redisProvider, type RedisProviderOptions } from './redis-provider.js';
