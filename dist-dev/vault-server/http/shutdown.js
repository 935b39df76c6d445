import { SikkerKeyError } from '../../protocol/errors.js';
/** Seconds a client is told to wait before trying again (a restart, or another replica). */
export const SHUTDOWN_RETRY_AFTER_SECONDS = 2;
export function installShutdownGate(app) {
    let closing = false;
    // Every answer not yet sent in full (the server's own event: it also sees requests fastify's
    // hooks never reach, such as a malformed URL's).
    const unfinished = new Set();
    app.server.on('request', (_req, res) => {
        if (closing) {
            closeWhenSent(res);
            return;
        }
        unfinished.add(res);
        const done = () => { unfinished.delete(res); };
        res.once('finish', done);
        res.once('close', done);
    });
    app.addHook('preClose', async () => {
        closing = true;
        for (const res of unfinished)
            closeWhenSent(res);
        unfinished.clear();
    });
    app.addHook('onRequest', async (request, reply) => {
        if (!closing || request.url === '/healthz')
            return;
        void reply.header('connection', 'close');
        throw new SikkerKeyError('SK_ERR_UNAVAILABLE', 'the vault is shutting down; try again shortly', { details: { retryAfter: SHUTDOWN_RETRY_AFTER_SECONDS } });
    });
    // Every answer sent while closing ends its connection too (/healthz, which the gate lets
    // through, included).
    app.addHook('onSend', async (_request, reply, payload) => {
        if (closing)
            void reply.header('connection', 'close');
        return payload;
    });
}
/**
 * An answer not yet sent when the drain begins (or begun since): its connection closes once it is sent. Headers not yet
 * written get `Connection: close` (Node then ends the socket after the body); headers already
 * written (the body still being flushed) cannot change, so the socket is ended when it finishes.
 */
function closeWhenSent(res) {
    if (res.writableFinished)
        return;
    if (!res.headersSent) {
        res.setHeader('connection', 'close');
        return;
    }
    const socket = res.socket;
    res.once('finish', () => { socket?.end(); });
}
//# sourceMappingURL=shutdown.js.map