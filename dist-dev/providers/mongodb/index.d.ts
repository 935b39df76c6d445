import type { MongoProviderOptions } from './mongo-provider.js';
import type { CredentialProvider } from '../provider.js';
export { MongoProvider, createMongoProvider, scramNameRoundTrips } from './mongo-provider.js';
export type { MongoProviderOptions } from './mongo-provider.js';
/** The registry's entry point (`<engine>Provider()` like the others): a new, uninitialised provider. */
export declare function mongodbProvider(options?: MongoProviderOptions): CredentialProvider;
