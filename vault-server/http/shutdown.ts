/**
 * The drain after SIGTERM (`app.close()`): from the first moment of closing, every new request —
 * one arriving on a kept-alive connection too — is answered `503 SK_ERR_UNAVAILABLE` with
 * `Retry-After` and `Connection: close`, in our error shape (fastify's own 503 body is not one a
 * client could read), while requests already inside a handler run to their end (and their answer
 * closes its connection too). `/healthz` still
 * answers: the process is up until it exits; `/readyz` says not-ready so a load balancer moves on.
 *
 * No kept-alive connection may outlive the drain: Node's `server.close()` ends only the
 * connections idle at that moment, and one whose answer is still on its way then (already past
 * the onSend hooks, e.g. waiting for its batch's fsync, or being written) would afterwards sit
 * idle until the keep-alive timeout (72 s, far past --shutdown-timeout): the drain would time out
 * and exit 1 whenever its client sent nothing more on it. So every answer unfinished when the
 * drain begins closes its connection once sent.
 *
 * @example
 *   installShutdownGate(app);   // in the composition root, before the routes
 *   await app.close();          // new requests now get 503 + Retry-After: 2
 */
import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { SikkerKeyError } from '../../protocol/errors.js';

/** Seconds a client is told to wait before trying again (a restart, or another replica). */
export const SHUTDOWN_RETRY_AFTER_SECONDS = 2;

/**
 * A signal that aborts when the vault begins to close (preClose), for what a route holds open — a
 * long-poll, a watch — to answer at once instead of at the end of its wait. Any number may listen:
 * every held request does (thousands with a fleet of agents), which past 10 listeners would
 * otherwise print a MaxListenersExceededWarning.
 */
export function closingSignal(app: FastifyInstance): AbortSignal {
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());
  setMaxListeners(0, closing.signal);
  return closing.signal;
}

/** A held request's abort signal ({@link heldRequest}), and what ended it. */
export interface HeldRequest {
  /** Aborts when the client goes away or the vault starts closing. */
  readonly signal: AbortSignal;
  /** Whether the client went away (its connection closed before the answer). */
  clientGone(): boolean;
  /** Removes the listeners (call it in `finally`): the closing signal lives as long as the vault. */
  release(): void;
}

/**
 * The abort signal of a request the vault holds open (a long-poll, a watch, a lease wait). The
 * client's departure is the response's `close` (a POST request's own `close` fires as soon as its
 * body was read, so it cannot tell a client that left). The closing signal gets a listener that
 * `release()` removes — not AbortSignal.any, which on Node 20 keeps every signal made from a
 * long-lived one reachable: one leak per held request for the life of the process.
 */
export function heldRequest(closing: AbortSignal, reply: { raw: ServerResponse }): HeldRequest {
  const held = new AbortController();
  let gone = false;
  const leave = (): void => {
    gone = true;
    held.abort();
  };
  const close = (): void => held.abort();
  reply.raw.once('close', leave);
  if (closing.aborted) held.abort();
  else closing.addEventListener('abort', close, { once: true });
  return {
    signal: held.signal,
    clientGone: () => gone,
    release: () => {
      closing.removeEventListener('abort', close);
      reply.raw.off('close', leave);
    },
  };
}

export function installShutdownGate(app: FastifyInstance): void {
  let closing = false;
  // Every answer not yet sent in full (the server's own event: it also sees requests fastify's
  // hooks never reach, such as a malformed URL's).
  const unfinished = new Set<ServerResponse>();
  app.server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (closing) {
      closeWhenSent(res);
      return;
    }
    unfinished.add(res);
    const done = (): void => { unfinished.delete(res); };
    res.once('finish', done);
    res.once('close', done);
  });
  app.addHook('preClose', async () => {
    closing = true;
    for (const res of unfinished) closeWhenSent(res);
    unfinished.clear();
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!closing || request.url === '/healthz') return;
    void reply.header('connection', 'close');
    throw new SikkerKeyError('SK_ERR_UNAVAILABLE', 'the vault is shutting down; try again shortly', { details: { retryAfter: SHUTDOWN_RETRY_AFTER_SECONDS } });
  });
  // Every answer sent while closing ends its connection too (/healthz, which the gate lets
  // through, included).
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) void reply.header('connection', 'close');
    return payload;
  });
}

/**
 * An answer not yet sent when the drain begins (or begun since): its connection closes once it is sent. Headers not yet
 * written get `Connection: close` (Node then ends the socket after the body); headers already
 * written (the body still being flushed) cannot change, so the socket is ended when it finishes.
 */
function closeWhenSent(res: ServerResponse): void {
  if (res.writableFinished) return;
  if (!res.headersSent) {
    res.setHeader('connection', 'close');
    return;
  }
  const socket = res.socket;
  res.once('finish', () => { socket?.end(); });
}
