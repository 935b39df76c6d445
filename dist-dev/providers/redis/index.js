/** The Redis provider: the folder's only public face. */
export { redisProvider } from './redis-provider.js';
//# sourceMappingURL=index.js.map