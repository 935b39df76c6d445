/**
 * A minimal Redis client (RESP2) for the Redis provider: one connection, commands pipelined in
 * order, every argument sent as a bulk string (never a command line), replies parsed as they
 * stream in. It is all the provider needs — connect (plain or TLS) with a deadline, `call`, a
 * per-command deadline, `disconnect` — and, unlike ioredis, it costs the agent almost no memory
 * (ioredis builds a method for each of Redis's ~240 commands as it loads: about 9 MiB of the idle
 * agent's RSS; docs/benchmarks-agent.md, `agent-footprint`).
 *
 * Errors keep the shapes the provider's error mapping (redis-errors.ts, provider-errors.ts) reads:
 * a server's error reply is an `Error` whose message is the reply (`WRONGPASS …`, `NOPERM …`) with
 * no `code`; a socket error is Node's own (`ECONNREFUSED`, a TLS code…); a connect deadline is
 * `connect ETIMEDOUT` (code `ETIMEDOUT`); a command deadline `Command timed out`; a connection that
 * ends under a command `Connection is closed.`.
 *
 * @example
 *   const client = await RespClient.connect({ host: '127.0.0.1', port: 6379, connectTimeoutMs: 10_000, commandTimeoutMs: 30_000 });
 *   try {
 *     await client.call('AUTH', 'sk_admin', password);
 *     const users = await client.call('ACL', 'USERS');
 *   } finally {
 *     client.disconnect();
 *   }
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

/** A RESP2 reply: simple and bulk strings as strings, integers as numbers, nil as null, arrays nested. */
export type RespReply = string | number | null | RespReply[] | Error;

export interface RespConnectOptions {
  host: string;
  port: number;
  /** TLS options for `tls.connect` (absent: plain TCP). */
  tls?: ConnectionOptions;
  /** TCP connect plus TLS handshake. */
  connectTimeoutMs: number;
  /** Each command, from sending to its reply; the connection is closed when one runs out. */
  commandTimeoutMs: number;
}

/** A server's error reply (the message is the reply: `ERR …`, `NOPERM …`, `WRONGPASS …`). */
export class RespReplyError extends Error {
  override readonly name = 'ReplyError';
}

interface Pending { resolve(reply: RespReply): void; reject(err: Error): void }

/** How long `disconnect()` lets the socket close cleanly before destroying it. */
const CLOSE_GRACE_MS = 500;

export class RespClient {
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private closedBy: Error | undefined;

  private constructor(private readonly socket: Socket, private readonly commandTimeoutMs: number) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => this.fail(err));
    socket.on('close', () => this.fail(new Error('Connection is closed.')));
  }

  /** Connects (and, with `tls`, completes the handshake) or fails within `connectTimeoutMs`. */
  static connect(opts: RespConnectOptions): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = opts.tls === undefined
        ? netConnect({ host: opts.host, port: opts.port })
        : tlsConnect({ host: opts.host, port: opts.port, ...opts.tls });
      socket.setNoDelay(true);
      const settle = (err: Error | undefined): void => {
        socket.removeListener('error', settle);
        socket.removeListener(opts.tls === undefined ? 'connect' : 'secureConnect', onConnect);
        socket.setTimeout(0);
        if (err === undefined) {
          resolve(new RespClient(socket, opts.commandTimeoutMs));
          return;
        }
        socket.on('error', () => undefined); // anything after this is moot: the caller has its error
        socket.destroy();
        reject(err);
      };
      const onConnect = (): void => settle(undefined);
      socket.once(opts.tls === undefined ? 'connect' : 'secureConnect', onConnect);
      socket.once('error', settle);
      socket.setTimeout(opts.connectTimeoutMs, () => {
        settle(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT', errno: 'ETIMEDOUT', syscall: 'connect' }));
      });
    });
  }

  /** False once the connection closed, failed or was disconnected: no command can go on it. */
  get connected(): boolean {
    return this.closedBy === undefined;
  }

  /** Sends one command; resolves with its reply, rejects with the server's error reply or the connection's failure. */
  call(command: string, ...args: string[]): Promise<RespReply> {
    if (this.closedBy !== undefined) return Promise.reject(new Error('Connection is closed.'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // the reply may still come and would answer the next command: the connection goes
        this.fail(new Error('Command timed out'));
      }, this.commandTimeoutMs);
      this.pending.push({
        resolve: (reply) => { clearTimeout(timer); if (reply instanceof Error) reject(reply); else resolve(reply); },
        reject: (err) => { clearTimeout(timer); reject(err); },
      });
      this.socket.write(encodeCommand([command, ...args]));
    });
  }

  /** Closes the connection; commands still waiting fail with `Connection is closed.`. */
  disconnect(): void {
    this.fail(new Error('Connection is closed.'));
  }

  private fail(err: Error): void {
    const first = this.closedBy === undefined;
    if (first) this.closedBy = err;
    // the command in flight gets the cause; those queued behind it only that the connection went
    for (const [i, p] of this.pending.splice(0).entries()) p.reject(i === 0 ? err : new Error('Connection is closed.'));
    if (!first) return;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let at = 0;
    for (;;) {
      let parsed: ReturnType<typeof parseReply>;
      try {
        parsed = parseReply(this.buffer, at);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      if (parsed === undefined) break;
      at = parsed.end;
      const p = this.pending.shift();
      if (p === undefined) {
        this.fail(new Error('Redis sent a reply nobody asked for'));
        return;
      }
      p.resolve(parsed.reply);
    }
    this.buffer = at === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(at);
  }
}

/** `*<n>\r\n` then `$<bytes>\r\n<arg>\r\n` per argument: the unified request protocol. */
export function encodeCommand(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const bytes = Buffer.from(a, 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** One reply starting at `at`, or undefined when the buffer does not hold all of it yet. */
export function parseReply(buf: Buffer, at: number): { reply: RespReply; end: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', at);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[at] ?? 0);
  const line = buf.toString('utf8', at + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+': return { reply: line, end: next };
    case '-': return { reply: new RespReplyError(line), end: next };
    case ':': return { reply: Number(line), end: next };
    case '$': {
      const len = lengthOf(line);
      if (len < 0) return { reply: null, end: next };
      if (buf.length < next + len + 2) return undefined;
      return { reply: buf.toString('utf8', next, next + len), end: next + len + 2 };
    }
    case '*': {
      const count = lengthOf(line);
      if (count < 0) return { reply: null, end: next };
      const items: RespReply[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, pos);
        if (item === undefined) return undefined;
        items.push(item.reply);
        pos = item.end;
      }
      return { reply: items, end: pos };
    }
    default:
      throw new Error(`Redis sent a reply of unknown type ${JSON.stringify(type)} (not RESP2)`);
  }
}

/** A bulk string's or an array's length line: a whole number (-1 for nil); anything else is not RESP2. */
function lengthOf(line: string): number {
  const n = Number(line);
  if (line === '' || !Number.isSafeInteger(n) || n < -1) throw new Error(`Redis sent a length that is not one (${JSON.stringify(line.slice(0, 20))}; not RESP2)`);
  return n;
}
