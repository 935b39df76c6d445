import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SikkerKeyError } from '../../protocol/errors.js';
/**
 * Turns every error into `{"error":{"code","message"}}` with a registered code. Input alone never
 * yields a 500: fastify's own errors (body too large, bad media type, validation) map onto ours,
 * and anything unexpected is logged (sanitized by the logger's redaction) and answered opaquely.
 */
export declare function toSikkerKeyError(err: unknown): SikkerKeyError;
export declare function installErrorHandling(app: FastifyInstance): void;
/**
 * Node's HTTP server answers some requests before fastify sees them: a request or its headers
 * slower than the listener's timeouts, headers over Node's size limit, bytes that are not HTTP.
 * fastify's default answer there is its own JSON shape without a code; this one writes ours
 * (`408 SK_ERR_REQUEST_TIMEOUT`, `431 SK_ERR_HEADERS_TOO_LARGE`, `400 SK_ERR_BAD_REQUEST`) and
 * closes the connection, as Node and fastify do. Passed to fastify as `clientErrorHandler`.
 */
export declare function clientErrorHandler(err: Error & {
    code?: string;
}, socket: Socket): void;
