/**
 * A test tool: a TCP proxy on 127.0.0.1 that forwards to a target and records every byte in both
 * directions — to prove what an eavesdropper on a link would see — and that can be cut (open
 * connections reset, new ones refused) and restored, to take a service away from a client.
 *
 * @example
 *   const proxy = await startRecordingProxy({ target: { host: '127.0.0.1', port: vaultPort } });
 *   // … point a client at 127.0.0.1:proxy.port …
 *   assert.equal(proxy.recorded().includes(Buffer.from(password)), false);
 *   await proxy.close();
 */
import { createServer, connect as tcpConnect } from 'node:net';
export async function startRecordingProxy(opts = {}) {
    let target = opts.target;
    const record = opts.record ?? true;
    const all = [];
    const up = [];
    const down = [];
    const open = new Set();
    let accepted = 0;
    let isCut = false;
    const server = createServer((client) => {
        if (isCut || target === undefined) {
            client.resetAndDestroy();
            return;
        }
        accepted += 1;
        const upstream = tcpConnect({ host: target.host ?? '127.0.0.1', port: target.port });
        open.add(client);
        open.add(upstream);
        const end = () => {
            client.destroy();
            upstream.destroy();
            open.delete(client);
            open.delete(upstream);
        };
        client.on('data', (d) => {
            if (record) {
                all.push(d);
                up.push(d);
            }
            upstream.write(d);
        });
        upstream.on('data', (d) => {
            if (record) {
                all.push(d);
                down.push(d);
            }
            client.write(d);
        });
        client.on('end', () => upstream.end());
        upstream.on('end', () => client.end());
        client.on('close', end);
        upstream.on('close', end);
        client.on('error', end);
        upstream.on('error', end);
    });
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = server.address().port;
    return {
        port,
        recorded: () => Buffer.concat(all),
        fromClients: () => Buffer.concat(up),
        fromTarget: () => Buffer.concat(down),
        connections: () => accepted,
        setTarget: (t) => { target = t; },
        cut: () => {
            isCut = true;
            for (const s of open)
                s.resetAndDestroy();
            open.clear();
        },
        restore: () => { isCut = false; },
        close: async () => {
            for (const s of open)
                s.destroy();
            open.clear();
            await new Promise((resolve) => server.close(() => resolve()));
        },
    };
}
//# sourceMappingURL=recording-proxy.js.map