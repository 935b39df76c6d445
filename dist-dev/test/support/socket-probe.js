/**
 * Preloaded into a child process (`NODE_OPTIONS=--import <this file's URL>`), it reports every
 * client socket the process opens on stderr, so a test can prove a program refused to connect
 * "before sending a byte": no socket at all. `socketProbeEnv()` builds the environment.
 *
 * @example
 *   const r = await runBin('sikkerkey', ['project', 'list'], { env: { ...socketProbeEnv(), SIKKERKEY_URL: 'http://192.0.2.10:8200' } });
 *   assert.equal(r.stderr.includes(SOCKET_PROBE_MARK), false);
 */
import net from 'node:net';
export const SOCKET_PROBE_MARK = '[socket-probe] client socket opened';
export function socketProbeEnv() {
    const self = new URL(import.meta.url).href;
    return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${self}`.trim(), SK_SOCKET_PROBE: '1' };
}
// Active only in the child it was preloaded into (a test importing the constants stays quiet).
// Every client socket — TCP, TLS (TLSSocket inherits it) and unix — goes through Socket#connect;
// the diagnostics channel net.client.socket would miss TLS.
if (process.env.SK_SOCKET_PROBE === '1') {
    const connect = net.Socket.prototype.connect;
    net.Socket.prototype.connect = function probed(...args) {
        process.stderr.write(`${SOCKET_PROBE_MARK}\n`);
        return connect.apply(this, args);
    };
}
//# sourceMappingURL=socket-probe.js.map