/**
 * What every provider shares when it turns a driver's error into a SikkerKeyError: recognising
 * network and TLS failures (the same Node errors under every driver), and keeping only the
 * harmless fields of a driver error as the `cause`. Engine codes (SQLSTATE, MySQL errno, Redis
 * reply prefixes) are mapped in each engine's `<engine>-errors.ts`.
 *
 * @example
 *   const failure = classifyNetworkError(err);
 *   if (failure) throw networkError(failure, { engine: 'PostgreSQL', endpoint: '10.0.0.5:5432', secret: 'admin' }, err);
 */
import { SikkerKeyError } from '../protocol/errors.js';
export interface NetworkFailure {
    code: 'SK_ERR_PROVIDER_CONNECT' | 'SK_ERR_PROVIDER_TLS';
    /** Short, secret-free: the system error code or what went wrong. */
    reason: string;
}
/** The error and every error it wraps (`cause`, AggregateError's `errors`), outermost first. */
export declare function errorChain(err: unknown): unknown[];
export declare function stringProp(err: unknown, name: string): string | undefined;
export declare function messageOf(err: unknown): string;
/** Network or TLS failure anywhere in the chain, or undefined when the server answered. */
export declare function classifyNetworkError(err: unknown): NetworkFailure | undefined;
export interface ErrorContext {
    /** "PostgreSQL", "MySQL", "MariaDB", "Redis". */
    engine: string;
    /** host:port. */
    endpoint: string;
    /** Which secret's connection failed. */
    secret: 'admin' | 'target';
}
/** A SikkerKeyError for a network or TLS failure, with what to check. */
export declare function networkError(failure: NetworkFailure, ctx: ErrorContext, cause: unknown): SikkerKeyError;
/**
 * A copy of a driver error with only harmless fields (message, name, code, errno, …), its own
 * causes scrubbed the same way. Loggers serialise every enumerable field of an error, so the
 * original must never travel on as a `cause`.
 */
export declare function scrubCause(err: unknown, redact?: (text: string) => string, depth?: number): unknown;
export declare function firstLine(text: string): string;
/** Names in messages: JSON-quoted, so odd characters stay visible and unambiguous. */
export declare function quoteName(name: string): string;
