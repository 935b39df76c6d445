/**
 * The drain after SIGTERM (`app.close()`): from the first moment of closing, every new request —
 * one arriving on a kept-alive connection too — is answered `503 SK_ERR_UNAVAILABLE` with
 * `Retry-After` and `Connection: close`, in our error shape (fastify's own 503 body is not one a
 * client could read), while requests already inside a handler run to their end (and their answer
 * closes its connection too). `/healthz` still
 * answers: the process is up until it exits; `/readyz` says not-ready so a load balancer moves on.
 *
 * @example
 *   installShutdownGate(app);   // in the composition root, before the routes
 *   await app.close();          // new requests now get 503 + Retry-After: 2
 */
import type { FastifyInstance } from 'fastify';
import { SikkerKeyError } from '../../protocol/errors.js';

/** Seconds a client is told to wait before trying again (a restart, or another replica). */
export const SHUTDOWN_RETRY_AFTER_SECONDS = 2;

export function installShutdownGate(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!closing || request.url === '/healthz') return;
    void reply.header('connection', 'close');
    throw new SikkerKeyError('SK_ERR_UNAVAILABLE', 'the vault is shutting down; try again shortly', { details: { retryAfter: SHUTDOWN_RETRY_AFTER_SECONDS } });
  });
  // A request already in its handler when the drain began answers normally, but on a kept-alive
  // connection that would then idle on: the server closes only the connections idle when it
  // starts closing, so the drain would wait out the keep-alive timeout (longer than
  // --shutdown-timeout) and exit non-zero. Every answer sent while closing ends its connection.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) void reply.header('connection', 'close');
    return payload;
  });
}
