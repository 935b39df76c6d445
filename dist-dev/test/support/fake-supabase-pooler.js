/**
 * FakeSupabasePooler — a TEST DOUBLE for Supabase's pooler (Supavisor), not a pooler. It speaks
 * just enough of the PostgreSQL wire protocol (v3) to stand where Supavisor stands in front of a
 * real, password-enforcing PostgreSQL (the scram cluster):
 *
 * - SSLRequest: answered 'S' and TLS terminated with the test's certificate (or 'N' when started
 *   without TLS); GSSENCRequest: 'N'. Behind it, plain TCP to the cluster.
 * - With TLS on, a client that starts without TLS is refused (FATAL 28000), as a project with SSL
 *   enforcement refuses it.
 * - The StartupMessage's `user` must be `<role>.<projectRef>`: the suffix is removed and the
 *   message forwarded with `user=<role>`. Anything else gets Supavisor's own refusal,
 *   `FATAL XX000 Tenant or user not found`, before the cluster is contacted.
 * - After that it only copies bytes both ways: SCRAM runs between the client and the cluster, so
 *   a wrong password is refused by the real server.
 * - `cacheCredentials(ms)` emulates Supavisor's credential cache: for `ms` after the pooler first
 *   sees that a role's stored password changed (it reads pg_authid as the cluster's superuser at
 *   each login), it refuses that role's logins itself with `FATAL 28P01 password authentication
 *   failed`, whatever the password — as a pooler still holding the old credential would refuse the new.
 *
 * Not implemented: transaction pooling (every client gets its own server connection), CancelRequest
 * forwarding (the connection is closed), SNI-based tenant routing, SCRAM channel binding across the
 * TLS termination (node-postgres does not use it).
 *
 * @example
 *   const pooler = await FakeSupabasePooler.start({ upstream: cluster, projectRef: 'abcdefghij', tls: makeLocalhostCert(dir) });
 *   // clients connect to 127.0.0.1:pooler.port as "app.abcdefghij" with ssl
 *   await pooler.cacheCredentials(3_000); // new passwords refused for 3 s after a change
 *   await pooler.stop();
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import pg from 'pg';
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const MAX_STARTUP_BYTES = 10_000; // PostgreSQL's own limit for a startup packet
export class FakeSupabasePooler {
    options;
    host;
    port = 0;
    server;
    sockets = new Set();
    seen = [];
    secureContext;
    cacheMs = 0;
    verifiers = new Map();
    admin;
    constructor(options) {
        this.options = options;
        this.host = options.host ?? '127.0.0.1';
        this.secureContext =
            options.tls === undefined ? undefined : tls.createSecureContext({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) });
        this.server = net.createServer((socket) => this.accept(socket));
    }
    static async start(options) {
        const pooler = new FakeSupabasePooler(options);
        await new Promise((resolve, reject) => {
            pooler.server.once('error', reject);
            pooler.server.listen(0, pooler.host, () => resolve());
        });
        const address = pooler.server.address();
        pooler.port = typeof address === 'object' && address !== null ? address.port : 0;
        return pooler;
    }
    /** Every login attempt so far, oldest first. */
    logins() {
        return [...this.seen];
    }
    /**
     * For `ms` after the pooler notices that a role's password changed, it refuses that role's
     * logins itself (FATAL 28P01). Takes a snapshot of every role's stored password now, so a change
     * made after this call is noticed at the next login. 0 turns the emulation off.
     */
    async cacheCredentials(ms) {
        this.cacheMs = ms;
        this.verifiers.clear();
        if (ms <= 0)
            return;
        const admin = await this.adminClient();
        const { rows } = await admin.query('SELECT rolname, rolpassword FROM pg_authid');
        for (const row of rows)
            this.verifiers.set(row.rolname, { verifier: row.rolpassword, changedAt: undefined });
    }
    async stop() {
        const closed = new Promise((resolve) => this.server.close(() => resolve()));
        for (const socket of this.sockets)
            socket.destroy();
        this.sockets.clear();
        await this.admin?.end().catch(() => undefined);
        this.admin = undefined;
        await closed;
    }
    // -- connections ---------------------------------------------------------------------------
    track(socket) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
    }
    accept(raw) {
        this.track(raw);
        void this.handshake(raw).catch(() => raw.destroy());
    }
    async handshake(raw) {
        let socket = raw;
        let reader = new PacketReader(socket);
        let secure = false;
        for (;;) {
            const packet = await reader.next();
            const code = packet.readInt32BE(4);
            if (code === SSL_REQUEST && !secure) {
                if (this.secureContext === undefined) {
                    socket.write('N');
                    continue;
                }
                reader.detach();
                socket.write('S');
                const tlsSocket = new tls.TLSSocket(raw, { isServer: true, secureContext: this.secureContext });
                this.track(tlsSocket);
                await new Promise((resolve, reject) => {
                    tlsSocket.once('secure', resolve);
                    tlsSocket.once('error', reject);
                });
                socket = tlsSocket;
                reader = new PacketReader(socket);
                secure = true;
                continue;
            }
            if (code === GSSENC_REQUEST) {
                socket.write('N');
                continue;
            }
            if (code === CANCEL_REQUEST) {
                socket.destroy();
                return;
            }
            if (code !== PROTOCOL_3) {
                fatal(socket, '0A000', `unsupported frontend protocol ${code >> 16}.${code & 0xffff}`);
                return;
            }
            await this.startup(socket, secure, parseStartup(packet), reader.detach());
            return;
        }
    }
    async startup(client, secure, params, leftover) {
        const user = params.get('user') ?? '';
        if (this.secureContext !== undefined && !secure) {
            this.seen.push({ user, role: '', tls: false, outcome: 'tls-required' });
            fatal(client, '28000', 'SSL connection is required');
            return;
        }
        const suffix = `.${this.options.projectRef}`;
        const role = user.endsWith(suffix) ? user.slice(0, -suffix.length) : '';
        if (role === '') {
            // Supavisor's answer when it cannot find the tenant from the user name
            this.seen.push({ user, role: '', tls: secure, outcome: 'tenant-not-found' });
            fatal(client, 'XX000', 'Tenant or user not found');
            return;
        }
        if (await this.servesStaleCredential(role)) {
            this.seen.push({ user, role, tls: secure, outcome: 'cache-refused' });
            fatal(client, '28P01', `password authentication failed for user "${role}"`);
            return;
        }
        this.seen.push({ user, role, tls: secure, outcome: 'forwarded' });
        params.set('user', role);
        const upstream = net.connect({ host: this.options.upstream.host, port: this.options.upstream.port });
        this.track(upstream);
        await new Promise((resolve, reject) => {
            upstream.once('connect', resolve);
            upstream.once('error', reject);
        }).catch((err) => {
            fatal(client, '08006', `the pooler cannot reach the database: ${err.message}`);
            throw err;
        });
        upstream.write(startupMessage(params));
        if (leftover.length > 0)
            upstream.write(leftover);
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
    }
    /** True while the emulated cache still holds a role's previous password. */
    async servesStaleCredential(role) {
        if (this.cacheMs <= 0)
            return false;
        const admin = await this.adminClient();
        const { rows } = await admin.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]);
        const current = rows[0]?.rolpassword ?? null;
        const known = this.verifiers.get(role);
        const now = Date.now();
        if (known === undefined) {
            this.verifiers.set(role, { verifier: current, changedAt: undefined });
            return false;
        }
        if (known.verifier !== current) {
            known.verifier = current;
            known.changedAt = now;
        }
        return known.changedAt !== undefined && now - known.changedAt < this.cacheMs;
    }
    async adminClient() {
        if (this.admin !== undefined)
            return this.admin;
        const su = this.options.superuser;
        if (su === undefined)
            throw new Error('FakeSupabasePooler: cacheCredentials needs the cluster superuser (options.superuser)');
        const client = new pg.Client({ host: this.options.upstream.host, port: this.options.upstream.port, user: su.user, password: su.password, database: 'postgres' });
        client.on('error', () => undefined);
        await client.connect();
        this.admin = client;
        return client;
    }
}
/** Reads length-prefixed startup packets (Int32 length including itself) from a socket. */
class PacketReader {
    socket;
    buffer = Buffer.alloc(0);
    wake;
    ended = false;
    onData = (chunk) => {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        this.wake?.();
    };
    onEnd = () => {
        this.ended = true;
        this.wake?.();
    };
    constructor(socket) {
        this.socket = socket;
        socket.on('data', this.onData);
        socket.on('end', this.onEnd);
        socket.on('close', this.onEnd);
    }
    async next() {
        for (;;) {
            if (this.buffer.length >= 4) {
                const length = this.buffer.readInt32BE(0);
                if (length < 8 || length > MAX_STARTUP_BYTES)
                    throw new Error(`invalid startup packet length ${length}`);
                if (this.buffer.length >= length) {
                    const packet = this.buffer.subarray(0, length);
                    this.buffer = this.buffer.subarray(length);
                    return packet;
                }
            }
            if (this.ended)
                throw new Error('the client closed the connection during the startup');
            await new Promise((resolve) => (this.wake = resolve));
            this.wake = undefined;
        }
    }
    /** Stops reading; returns the bytes read but not consumed. */
    detach() {
        this.socket.off('data', this.onData);
        this.socket.off('end', this.onEnd);
        this.socket.off('close', this.onEnd);
        this.socket.pause();
        const rest = this.buffer;
        this.buffer = Buffer.alloc(0);
        return rest;
    }
}
function parseStartup(packet) {
    const params = new Map();
    const parts = packet.subarray(8).toString('utf8').split('\0');
    for (let i = 0; i + 1 < parts.length; i += 2) {
        const key = parts[i] ?? '';
        if (key === '')
            break;
        params.set(key, parts[i + 1] ?? '');
    }
    return params;
}
function startupMessage(params) {
    const body = Buffer.from([...params].map(([k, v]) => `${k}\0${v}\0`).join('') + '\0', 'utf8');
    const head = Buffer.alloc(8);
    head.writeInt32BE(8 + body.length, 0);
    head.writeInt32BE(PROTOCOL_3, 4);
    return Buffer.concat([head, body]);
}
/** An ErrorResponse with severity FATAL, then the connection is closed (what a server does). */
function fatal(socket, sqlstate, message) {
    const fields = Buffer.from(`SFATAL\0VFATAL\0C${sqlstate}\0M${message}\0\0`, 'utf8');
    const head = Buffer.alloc(5);
    head.write('E', 0, 'ascii');
    head.writeInt32BE(4 + fields.length, 1);
    socket.end(Buffer.concat([head, fields]));
}
//# sourceMappingURL=fake-supabase-pooler.js.map