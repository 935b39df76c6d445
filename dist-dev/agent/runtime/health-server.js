import http from 'node:http';
import { SikkerKeyError } from '../../protocol/errors.js';
/**
 * `/healthz` (the process is up), `/readyz` (the vault answered recently), `/metrics`
 * (Prometheus text) on a local port. Nothing here reveals a credential or a key.
 */
export async function startHealthServer(listen, state) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(listen);
    if (!m)
        throw new SikkerKeyError('SK_ERR_CONFIG', `health.listen ${JSON.stringify(listen)}: expected host:port`);
    const server = http.createServer((req, res) => {
        const send = (status, type, body) => {
            res.writeHead(status, { 'content-type': type }).end(body);
        };
        if (req.url === '/healthz')
            return send(200, 'application/json', '{"status":"ok"}');
        if (req.url === '/readyz')
            return state.ready() ? send(200, 'application/json', '{"status":"ready"}') : send(503, 'application/json', '{"status":"not-ready"}');
        if (req.url === '/metrics') {
            void state.metrics.registry.metrics().then((text) => send(200, state.metrics.registry.contentType, text), () => send(500, 'text/plain', 'metrics failed'));
            return;
        }
        send(404, 'application/json', '{"error":{"code":"SK_ERR_ROUTE_NOT_FOUND","message":"no such route"}}');
    });
    await new Promise((resolve, reject) => {
        server.once('error', (err) => reject(new SikkerKeyError('SK_ERR_CONFIG', `health.listen ${listen}: ${err.code ?? err.message}`)));
        server.listen(Number(m[2]), m[1].replace(/^\[|\]$/g, ''), resolve);
    });
    return server;
}
//# sourceMappingURL=health-server.js.map