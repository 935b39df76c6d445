import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SikkerKeyError } from '../../protocol/errors.js';
import { storeUnavailable } from '../store/store-errors.js';

/**
 * Turns every error into `{"error":{"code","message"}}` with a registered code. Input alone never
 * yields a 500: fastify's own errors (body too large, bad media type, validation) map onto ours,
 * and anything unexpected is logged (sanitized by the logger's redaction) and answered opaquely.
 */
export function toSikkerKeyError(err: unknown): SikkerKeyError {
  if (err instanceof SikkerKeyError) return err;
  const e = err as Partial<FastifyError> & { validation?: unknown };
  if (e.validation) return new SikkerKeyError('SK_ERR_VALIDATION', e.message ?? 'invalid request');
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SikkerKeyError('SK_ERR_BODY_TOO_LARGE', 'request body is over the size limit');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new SikkerKeyError('SK_ERR_BAD_REQUEST', e.message ?? 'malformed request');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new SikkerKeyError('SK_ERR_BAD_REQUEST', 'malformed request target');
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new SikkerKeyError('SK_ERR_BAD_REQUEST', e.message ?? 'bad request');
  }
  const unavailable = storeUnavailable(err);
  if (unavailable) return unavailable;
  return new SikkerKeyError('SK_ERR_INTERNAL', 'internal error', { cause: err });
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const skErr = toSikkerKeyError(err);
    if (skErr.code === 'SK_ERR_INTERNAL') {
      request.log.error({ err: skErr.cause instanceof Error ? { message: skErr.cause.message, stack: skErr.cause.stack } : undefined }, 'unexpected error');
    } else if (skErr.statusCode >= 500) {
      request.log.warn({ code: skErr.code }, skErr.message);
    }
    const retryAfter = skErr.details?.['retryAfter'];
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(Math.ceil(retryAfter)));
    void reply.code(skErr.statusCode).send(skErr.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(new SikkerKeyError('SK_ERR_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`).toBody());
  });
}

/**
 * Node's HTTP server answers some requests before fastify sees them: a request or its headers
 * slower than the listener's timeouts, headers over Node's size limit, bytes that are not HTTP.
 * fastify's default answer there is its own JSON shape without a code; this one writes ours
 * (`408 SK_ERR_REQUEST_TIMEOUT`, `431 SK_ERR_HEADERS_TOO_LARGE`, `400 SK_ERR_BAD_REQUEST`) and
 * closes the connection, as Node and fastify do. Passed to fastify as `clientErrorHandler`.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const skErr = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? new SikkerKeyError('SK_ERR_REQUEST_TIMEOUT', 'the request did not arrive within the server\'s timeouts')
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? new SikkerKeyError('SK_ERR_HEADERS_TOO_LARGE', 'the request headers are over the server\'s size limit')
      : new SikkerKeyError('SK_ERR_BAD_REQUEST', 'the request is not valid HTTP/1.1');
  const body = JSON.stringify(skErr.toBody());
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${skErr.statusCode} ${skErr.statusCode === 408 ? 'Request Timeout' : skErr.statusCode === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
