/**
 * The MongoDB provider's public face. The registry imports this module lazily and calls
 * `mongodbProvider()`, so the `mongodb` driver is only in memory when a MongoDB policy exists.
 *
 * @example
 *   const { mongodbProvider } = await import('./mongodb/index.js');
 *   const mongo = mongodbProvider();
 *   await mongo.initialize({ admin, target });
 */
import { createMongoProvider } from './mongo-provider.js';
export { MongoProvider, createMongoProvider, scramNameRoundTrips } from './mongo-provider.js';
/** The registry's entry point (`<engine>Provider()` like the others): a new, uninitialised provider. */
export function mongodbProvider(options = {}) {
    return createMongoProvider(options);
}
//# sourceMappingURL=index.js.map