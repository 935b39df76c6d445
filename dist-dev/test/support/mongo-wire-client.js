/**
 * A raw-socket client for poking the MongoDB wire TEST DOUBLE below the driver: send exact bytes
 * (a checksummed OP_MSG, a document sequence, a TLS ClientHello), read whole replies, see
 * whether the server closed the connection. Test support only.
 *
 * @example
 *   const raw = await RawWireClient.connect(srv.port);
 *   raw.send(encodeOpMsg(1, 0, { ping: 1, $db: 'admin' }));
 *   const reply = decodeReply(await raw.next());
 *   raw.close();
 */
import net from 'node:net';
import { MessageFramer } from './mongo-wire-protocol.js';
export class RawWireClient {
    socket;
    framer = new MessageFramer(64 * 1024 * 1024);
    queue = [];
    waiters = [];
    closedFlag = false;
    closedPromise;
    constructor(socket) {
        this.socket = socket;
        this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
        socket.on('data', (chunk) => {
            for (const msg of this.framer.push(chunk)) {
                const waiter = this.waiters.shift();
                if (waiter)
                    waiter.resolve(msg);
                else
                    this.queue.push(msg);
            }
        });
        socket.on('error', () => undefined);
        socket.on('close', () => {
            this.closedFlag = true;
            for (const w of this.waiters)
                w.reject(new Error('connection closed by the server'));
            this.waiters = [];
        });
    }
    static connect(port, host = '127.0.0.1') {
        return new Promise((resolve, reject) => {
            const socket = net.connect(port, host, () => resolve(new RawWireClient(socket)));
            socket.once('error', reject);
        });
    }
    send(bytes) {
        this.socket.write(bytes);
    }
    /** The next whole message; rejects if the server closes first or after `timeoutMs`. */
    next(timeoutMs = 2000) {
        const queued = this.queue.shift();
        if (queued)
            return Promise.resolve(queued);
        if (this.closedFlag)
            return Promise.reject(new Error('connection closed by the server'));
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.waiters = this.waiters.filter((w) => w.resolve !== done);
                reject(new Error(`no reply within ${timeoutMs} ms`));
            }, timeoutMs);
            const done = (m) => {
                clearTimeout(timer);
                resolve(m);
            };
            this.waiters.push({
                resolve: done,
                reject: (e) => {
                    clearTimeout(timer);
                    reject(e);
                },
            });
        });
    }
    /** Resolves true when the server closes the connection within `timeoutMs`, else false. */
    async closedByServer(timeoutMs = 2000) {
        let timer;
        const timeout = new Promise((resolve) => {
            timer = setTimeout(() => resolve(false), timeoutMs);
        });
        const result = await Promise.race([this.closedPromise.then(() => true), timeout]);
        clearTimeout(timer);
        return result;
    }
    close() {
        this.socket.destroy();
    }
}
//# sourceMappingURL=mongo-wire-client.js.map