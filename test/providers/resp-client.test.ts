// The Redis provider's own RESP2 client (providers/redis/resp-client.ts): against the real Redis
// for what a server answers, and against scripted TCP servers in this process for what a real one
// will not do on demand (answer in pieces, never answer, answer garbage, hang up).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { RespClient, encodeCommand, parseReply } from '../../providers/redis/resp-client.js';
import { classifyNetworkError } from '../../providers/provider-errors.js';
import { isServerReply } from '../../providers/redis/redis-errors.js';
import { parseServiceUrl, redisUrl } from '../support/services.js';

const TIMEOUTS = { connectTimeoutMs: 5_000, commandTimeoutMs: 5_000 };

/** A TCP server in this process whose connections do what `onSocket` says. */
async function scriptedServer(onSocket: (s: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('encodes every argument as a bulk string, multi-byte characters counted in bytes', () => {
  assert.equal(encodeCommand(['ACL', 'SETUSER', 'ø user']).toString('utf8'), '*3\r\n$3\r\nACL\r\n$7\r\nSETUSER\r\n$7\r\nø user\r\n');
});

test('parses every RESP2 type, and says when a reply is not complete yet', () => {
  const all = Buffer.from('+OK\r\n-NOPERM no\r\n:42\r\n$-1\r\n$4\r\nhé!\r\n*2\r\n$1\r\na\r\n*1\r\n:7\r\n*-1\r\n');
  const replies: unknown[] = [];
  let at = 0;
  for (;;) {
    const r = parseReply(all, at);
    if (r === undefined) break;
    replies.push(r.reply);
    at = r.end;
  }
  assert.equal(at, all.length);
  assert.equal(replies[0], 'OK');
  assert.ok(replies[1] instanceof Error && replies[1].message === 'NOPERM no');
  assert.deepEqual(replies.slice(2), [42, null, 'hé!', ['a', [7]], null]);
  for (const partial of ['$4\r\nhé', '*2\r\n$1\r\na\r\n', '+OK']) assert.equal(parseReply(Buffer.from(partial), 0), undefined, partial);
});

test('real Redis: commands answer in order; an error reply is an Error with the reply as message and no code', async () => {
  const r = parseServiceUrl(redisUrl());
  const client = await RespClient.connect({ host: r.host, port: r.port, ...TIMEOUTS });
  try {
    if (r.password) await client.call('AUTH', r.username || 'default', r.password);
    const [pong, echo, unknown] = await Promise.allSettled([client.call('PING'), client.call('ECHO', 'x y\r\nz'), client.call('NO-SUCH-COMMAND')]);
    assert.deepEqual([pong, echo].map((p) => p.status === 'fulfilled' && p.value), ['PONG', 'x y\r\nz']);
    assert.equal(unknown.status, 'rejected');
    const err = (unknown as PromiseRejectedResult).reason as Error;
    assert.match(err.message, /^ERR unknown command/);
    assert.equal(isServerReply(err), true);
    const info = await client.call('INFO', 'server');
    assert.match(String(info), /redis_version:/);
  } finally {
    client.disconnect();
  }
});

test('a reply that arrives in one-byte pieces is assembled', async () => {
  const server = await scriptedServer((s) => {
    s.once('data', () => {
      const reply = Buffer.from('*2\r\n$5\r\nhello\r\n:1\r\n');
      let i = 0;
      const drip = setInterval(() => {
        if (i >= reply.length) { clearInterval(drip); return; }
        s.write(reply.subarray(i, ++i));
      }, 1);
    });
  });
  try {
    const client = await RespClient.connect({ host: '127.0.0.1', port: server.port, ...TIMEOUTS });
    assert.deepEqual(await client.call('X'), ['hello', 1]);
    client.disconnect();
  } finally {
    await server.close();
  }
});

test('a server that never answers: the command times out, the connection goes, later calls fail at once (scripted server)', async () => {
  const server = await scriptedServer(() => undefined);
  try {
    const client = await RespClient.connect({ host: '127.0.0.1', port: server.port, connectTimeoutMs: 5_000, commandTimeoutMs: 150 });
    const [first, second] = await Promise.allSettled([client.call('PING'), client.call('PING')]);
    assert.match(((first as PromiseRejectedResult).reason as Error).message, /Command timed out/);
    assert.match(((second as PromiseRejectedResult).reason as Error).message, /Connection is closed/);
    await assert.rejects(client.call('PING'), /Connection is closed/);
    // the provider maps both to SK_ERR_PROVIDER_CONNECT
    assert.equal(classifyNetworkError((first as PromiseRejectedResult).reason)?.code, 'SK_ERR_PROVIDER_CONNECT');
    assert.equal(classifyNetworkError((second as PromiseRejectedResult).reason)?.code, 'SK_ERR_PROVIDER_CONNECT');
  } finally {
    await server.close();
  }
});

test('garbage instead of RESP (an unknown type, a length that is not one), or a hang-up mid-command, fails the command and never throws out of the socket (scripted server)', async () => {
  for (const [what, act, expect] of [
    ['garbage', (s: Socket) => s.write('HTTP/1.1 400 Bad Request\r\n'), /unknown type/],
    ['a bulk length that is not a number', (s: Socket) => s.write('$x\r\nPONG\r\n'), /length that is not one/],
    ['an array length below -1', (s: Socket) => s.write('*-5\r\n'), /length that is not one/],
    ['hang-up', (s: Socket) => s.destroy(), /Connection is closed|ECONNRESET/],
  ] as const) {
    const server = await scriptedServer((s) => s.once('data', () => act(s)));
    try {
      const client = await RespClient.connect({ host: '127.0.0.1', port: server.port, ...TIMEOUTS });
      await assert.rejects(client.call('PING'), expect, what);
      client.disconnect();
    } finally {
      await server.close();
    }
  }
});

test('connect: a closed port is ECONNREFUSED; no answer within the deadline is connect ETIMEDOUT', async () => {
  const closed = await scriptedServer(() => undefined);
  const port = closed.port;
  await closed.close();
  await assert.rejects(RespClient.connect({ host: '127.0.0.1', port, ...TIMEOUTS }), (err: unknown) => (err as { code?: string }).code === 'ECONNREFUSED');
  // a TLS handshake against a server that says nothing never completes
  const silent = await scriptedServer(() => undefined);
  try {
    const t0 = Date.now();
    await assert.rejects(
      RespClient.connect({ host: '127.0.0.1', port: silent.port, tls: { rejectUnauthorized: false }, connectTimeoutMs: 200, commandTimeoutMs: 1_000 }),
      (err: unknown) => (err as { code?: string }).code === 'ETIMEDOUT' && classifyNetworkError(err)?.code === 'SK_ERR_PROVIDER_CONNECT',
    );
    assert.ok(Date.now() - t0 < 3_000, 'the connect deadline held');
  } finally {
    await silent.close();
  }
});
