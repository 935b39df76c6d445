import { MongoClient } from 'mongodb';
import { SikkerKeyError } from '../../protocol/errors.js';
import type { ErrorCode } from '../../protocol/errors.js';
import type { DatabaseSecret } from '../../providers/provider.js';
import type { MongoWireTestServer } from './mongo-wire-server.js';
export declare function mongoSecret(srv: Pick<MongoWireTestServer, 'host' | 'port'>, username: string, password: string, extra?: Record<string, string>): DatabaseSecret;
/** Runs `fn` with a client logged in as `username` on the double, and closes it. */
export declare function asUser<T>(srv: MongoWireTestServer, username: string, password: string, fn: (client: MongoClient) => Promise<T>, authSource?: string): Promise<T>;
/** Awaits a rejection: a SikkerKeyError with `code`, and none of `secrets` in any of its text. */
export declare function expectProviderError(promise: Promise<unknown>, code: ErrorCode, secrets: readonly string[]): Promise<SikkerKeyError>;
