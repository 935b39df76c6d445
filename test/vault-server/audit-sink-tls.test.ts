// `serve --audit-sink syslog+tls://HOST:PORT --audit-sink-ca FILE` (issue 25): a real TLS syslog
// receiver (node:tls, a throwaway CA made with openssl) gets every event as an RFC 5424 message
// with octet-counting framing (RFC 5425 requires it over TLS); a receiver whose certificate comes
// from a CA the vault was not told to trust gets nothing, and the vault logs the refusal with
// SK_ERR_AUDIT_SINK.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:tls';
import type { Server, TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { makeTestCa } from '../support/test-ca.js';
import { startVaultProcess } from '../support/vault-process.js';
import { VaultClient } from '../../protocol/client.js';

const trusted = makeTestCa();
const untrusted = makeTestCa();
after(() => { trusted.cleanup(); untrusted.cleanup(); });

/** A TLS syslog receiver: the frames it parsed (octet-counted) and the bytes it got in all. */
async function receiver(cert: { cert: string; key: string }): Promise<{ server: Server; port: number; frames: string[]; bytes: () => number; handshakes: () => number }> {
  const frames: string[] = [];
  let bytes = 0;
  let handshakes = 0;
  const server = createServer({ cert: cert.cert, key: cert.key }, (sock: TLSSocket) => {
    handshakes += 1;
    let buffered = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      bytes += d.length;
      buffered = Buffer.concat([buffered, d]);
      for (;;) {
        const sp = buffered.indexOf(0x20);
        if (sp < 0) break;
        const len = Number(buffered.subarray(0, sp).toString('ascii'));
        assert.ok(Number.isSafeInteger(len) && len > 0, 'every frame starts with its length (octet counting)');
        if (buffered.length < sp + 1 + len) break;
        frames.push(buffered.subarray(sp + 1, sp + 1 + len).toString('utf8'));
        buffered = buffered.subarray(sp + 1 + len);
      }
    });
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, frames, bytes: () => bytes, handshakes: () => handshakes };
}

test('syslog+tls with --audit-sink-ca: every event arrives as one octet-counted RFC 5424 message; an untrusted receiver gets nothing and the refusal is logged with SK_ERR_AUDIT_SINK', { timeout: 120_000 }, async () => {
  const good = await receiver(trusted.issue());
  const bad = await receiver(untrusted.issue());
  const v1 = await startVaultProcess({ args: ['--audit-sink', `syslog+tls://127.0.0.1:${good.port}`, '--audit-sink-ca', trusted.caFile] });
  const v2 = await startVaultProcess({ args: ['--audit-sink', `syslog+tls://127.0.0.1:${bad.port}`, '--audit-sink-ca', trusted.caFile] });
  try {
    // The untrusted receiver: the vault refuses its certificate and says so, with the code.
    const refused = await v2.proc.waitFor(/"code":"SK_ERR_AUDIT_SINK"[^\n]*/);
    assert.match(refused[0], /syslog\+tls:\/\/127\.0\.0\.1:\d+/);
    assert.match(refused[0], /certificate|CERT/, 'refused for its certificate');
    assert.match(refused[0], /"failedPasses":1,"retryInMs":250/, 'the attempt is counted and the next one scheduled');

    const client = new VaultClient({ url: v1.url, keyFile: v1.opKey });
    await client.request('POST', '/v1/projects', { name: 'shop' });
    await client.request('POST', '/v1/projects/shop/unlock', { reason: 'tls syslog test' });
    const deadline = Date.now() + 60_000;
    while (!good.frames.some((f) => f.includes(' project.unlock '))) {
      if (Date.now() > deadline) throw new Error(`no project.unlock frame over TLS; got ${good.frames.length}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seqs = good.frames.map((f) => Number(/ seq="(\d+)"/.exec(f)?.[1]));
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'every event, in order, once');
    const create = good.frames.find((f) => f.includes(' project.create '))!;
    assert.match(create, /^<134>1 \d{4}-\d{2}-\d{2}T[\d:.]+Z \S+ sikkerkey \d+ project\.create \[sikkerkey@32473 seq="\d+" outcome="success" actor="operator:owner" target="project:shop" ip="127\.0\.0\.1"\] \ufeff\{/);
    const body = JSON.parse(create.slice(create.indexOf('\ufeff') + 1)) as { action: string; hash: string; mac: string };
    assert.equal(body.action, 'project.create');
    assert.match(body.mac, /^[0-9a-f]{64}$/);

    // By now the second vault has tried again (after 250 ms, then with backoff): not one byte reached the untrusted receiver.
    await v2.proc.waitFor(/"code":"SK_ERR_AUDIT_SINK"[^\n]*\n[\s\S]*"code":"SK_ERR_AUDIT_SINK"/);
    assert.equal(bad.bytes(), 0, 'no event crossed a connection to a receiver whose certificate is not trusted');
  } finally {
    await v1.close();
    await v2.close();
    for (const r of [good, bad]) await new Promise<void>((resolve) => r.server.close(() => resolve()));
  }
});
