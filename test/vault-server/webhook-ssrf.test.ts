// The webhook transport refuses every non-public target without opening a connection, connects
// only to the address it checked (no second lookup), never follows a redirect, bounds time and the
// answer it reads — and the Standard Webhooks signatures verify. No test here contacts a public
// address: a receiver on 127.0.0.2, allowlisted with --webhook-allow-cidr 127.0.0.2/32, stands in
// for "public", and a counting listener on 127.0.0.1 (and ::1) proves nothing reached it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer } from 'node:net';
import type { Server as NetServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingHttpHeaders, Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { blockedReason, checkWebhookTarget, sendWebhook } from '../../vault-server/modules/webhooks/webhook-transport.js';
import type { TargetPolicy } from '../../vault-server/modules/webhooks/webhook-transport.js';
import { newWebhookSecret, signatureHeader, verifyWebhook } from '../../protocol/webhooks.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { loadVaultConfig } from '../../vault-server/config.js';
import { makeTestCa } from '../support/test-ca.js';

const ALLOW = ['127.0.0.2/32'];
/** Stands in for a signature: no error may ever show it. */
const MARKER = 'v1,SIGNATURE-MUST-NOT-LEAK';
const BODY = JSON.stringify({ type: 'secret.rotated', timestamp: '2026-01-01T00:00:00Z', data: { note: 'BODY-MUST-NOT-LEAK' } });

const listen = (server: NetServer | HttpServer, host: string, port = 0): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });

// The counting listener: every accepted connection is one the transport should not have made.
let accepts = 0;
const counter4 = createNetServer((s) => { accepts++; s.destroy(); });
const counter6 = createNetServer((s) => { accepts++; s.destroy(); });
let counterPort = 0;
let counter6Port: number | undefined;

// The "public" receiver on 127.0.0.2.
const seen: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];
const receiver = createHttpServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    if (req.url === '/slow') return; // never answers
    if (req.url === '/redirect') return res.writeHead(302, { location: `http://127.0.0.1:${counterPort}/` }).end();
    if (req.url === '/huge') {
      // An endless answer: only a transport that stops reading returns at all.
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => { while (!res.destroyed && res.write(chunk)); if (!res.destroyed) res.once('drain', pump); };
      pump();
      return;
    }
    if (req.url === '/fail') return res.writeHead(500).end('no');
    res.writeHead(204).end();
  });
});
let receiverPort = 0;

before(async () => {
  counterPort = await listen(counter4, '127.0.0.1');
  try {
    counter6Port = await listen(counter6, '::1');
  } catch {
    counter6Port = undefined; // no IPv6 loopback here: the [::1] case still checks onConnect
  }
  receiverPort = await listen(receiver, '127.0.0.2');
});
after(() => {
  counter4.close();
  counter6.close();
  receiver.closeAllConnections();
  receiver.close();
});

function policy(over: Partial<TargetPolicy> = {}): TargetPolicy & { connects: string[] } {
  const connects: string[] = [];
  return { allowCidrs: ALLOW, onConnect: (address, port) => connects.push(`${address}:${port}`), ...over, connects };
}

const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': '1767225600', 'webhook-signature': MARKER };

async function refused(url: string, p: TargetPolicy): Promise<string> {
  await assert.rejects(checkWebhookTarget(url, p), (err: unknown) => isSikkerKeyError(err, 'SK_ERR_WEBHOOK_TARGET_FORBIDDEN'));
  const r = await sendWebhook(url, { headers, body: BODY }, p);
  assert.equal(r.ok, false);
  assert.equal(r.status, null);
  assert.match(r.error ?? '', /^SK_ERR_WEBHOOK_TARGET_FORBIDDEN: /);
  return r.error as string;
}

test('every non-public target is refused before any connection is opened, literal or in disguise', async () => {
  const before = accepts;
  const p6 = counter6Port ?? counterPort;
  const targets = [
    `http://10.0.0.1:${counterPort}/`,
    `http://127.0.0.1:${counterPort}/`,
    `https://127.0.0.1:${counterPort}/`,
    'http://169.254.169.254/latest/meta-data/',
    'http://100.64.0.1/',
    `http://0.0.0.0:${counterPort}/`,
    `http://[::1]:${p6}/`,
    'http://[fc00::1]/',
    'http://[fd00:ec2::254]/',
    `http://[::ffff:7f00:1]:${counterPort}/`,
    `http://[::ffff:127.0.0.1]:${counterPort}/`,
    'http://[64:ff9b::a00:1]/',
    `http://[2002:7f00:1::]:${counterPort}/`,
    // WHATWG URL turns these into 127.0.0.1 before anything looks at them.
    `http://2130706433:${counterPort}/`,
    `http://0x7f.1:${counterPort}/`,
    `http://017700000001:${counterPort}/`,
  ];
  for (const url of targets) {
    const p = policy();
    const error = await refused(url, p);
    assert.match(error, /is not a public address/, url);
    assert.deepEqual(p.connects, [], `${url}: no connection`);
  }
  assert.equal(accepts, before, 'the counting listeners accepted nothing');
});

test('the refusal names the rule: metadata, CGNAT, and the embedded IPv4 of mapped, NAT64 and 6to4 forms', async () => {
  const why = async (url: string): Promise<string> => {
    try {
      await checkWebhookTarget(url, { allowCidrs: [] });
    } catch (err) {
      return (err as Error).message;
    }
    return assert.fail(`${url} was accepted`);
  };
  assert.match(await why('https://169.254.169.254/'), /cloud metadata service/);
  assert.match(await why('https://100.64.0.1/'), /carrier-grade NAT/);
  assert.match(await why('https://[::ffff:127.0.0.1]/'), /IPv4-mapped form of 127\.0\.0\.1, loopback/);
  assert.match(await why('https://[64:ff9b::a00:1]/'), /NAT64 .* of 10\.0\.0\.1, private/);
  assert.match(await why('https://[2002:7f00:1::]/'), /6to4 .* of 127\.0\.0\.1, loopback/);
});

test('blockedReason: public addresses pass; reserved, documentation, broadcast and tunnelled private ones do not', () => {
  for (const ok of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2002:808:808::', '64:ff9b::808:808']) {
    assert.equal(blockedReason(ok), undefined, ok);
  }
  const blocked = ['0.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '192.0.0.8', '192.0.2.1', '198.18.0.1', '198.51.100.7',
    '203.0.113.9', '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255', '::', 'fe80::1', 'ff02::1', '2001:db8::1',
    '::7f00:1', '::ffff:0:a00:1', '64:ff9b:1::808:808',
    // Teredo: server 65.54.227.120, client 127.0.0.1 stored inverted (0x80ff:0xfffe).
    '2001:0:4136:e378:8000:63bf:80ff:fffe',
    // …and a Teredo address whose server part is private.
    '2001:0:a00:1:8000:63bf:f7f7:f7f7',
    // What a resolver may hand back for a link-local name.
    'fe80::1%eth0'];
  for (const address of blocked) assert.notEqual(blockedReason(address), undefined, address);
  assert.match(blockedReason('2001:0:4136:e378:8000:63bf:80ff:fffe') ?? '', /Teredo client form of 127\.0\.0\.1/);
});

test('a name is refused when ANY address it resolves to is blocked', async () => {
  const p = policy({ resolve: async () => [{ address: '127.0.0.2', family: 4 }, { address: '10.0.0.1', family: 4 }] });
  const error = await refused(`http://hooks.test:${receiverPort}/`, p);
  assert.match(error, /hooks\.test resolves to 10\.0\.0\.1, which is not a public address/);
  assert.deepEqual(p.connects, []);
});

test('DNS rebinding: the send-time check refuses a name that now resolves to loopback, and never connects', async () => {
  const before = accepts;
  let calls = 0;
  const p = policy({ resolve: async () => (calls++ === 0 ? [{ address: '127.0.0.2', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]) });
  const checked = await checkWebhookTarget(`http://rebind.test:${counterPort}/`, p);
  assert.equal(checked.address, '127.0.0.2');
  const r = await sendWebhook(`http://rebind.test:${counterPort}/`, { headers, body: BODY }, p);
  assert.equal(r.ok, false);
  assert.match(r.error ?? '', /rebind\.test resolves to 127\.0\.0\.1, which is not a public address/);
  assert.deepEqual(p.connects, []);
  assert.equal(accepts, before);
});

test('DNS rebinding: a send resolves once and connects to the address it checked, never looking up again', async () => {
  const before = accepts;
  const beforeSeen = seen.length;
  let calls = 0;
  // A second lookup (by http.request itself) would get 127.0.0.1: the counting listener.
  const p = policy({ resolve: async () => (calls++ === 0 ? [{ address: '127.0.0.2', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]) });
  const r = await sendWebhook(`http://rebind.test:${receiverPort}/ok`, { headers, body: BODY }, p);
  assert.equal(r.ok, true, r.error ?? '');
  assert.equal(calls, 1, 'one resolution');
  assert.deepEqual(p.connects, [`127.0.0.2:${receiverPort}`]);
  assert.equal(seen.length, beforeSeen + 1);
  assert.equal(seen.at(-1)?.headers.host, `rebind.test:${receiverPort}`, 'Host is the URL\'s name');
  assert.equal(accepts, before);
});

test('a delivery reaches an allowed receiver with its body and headers, JSON content type and our user agent', async () => {
  const p = policy();
  const r = await sendWebhook(`http://127.0.0.2:${receiverPort}/hook?x=1`, { headers, body: BODY }, p);
  assert.deepEqual({ ok: r.ok, status: r.status, error: r.error }, { ok: true, status: 204, error: null });
  assert.ok(r.latencyMs >= 0 && r.latencyMs < 5000);
  assert.deepEqual(p.connects, [`127.0.0.2:${receiverPort}`]);
  const got = seen.at(-1);
  assert.equal(got?.url, '/hook?x=1');
  assert.equal(got?.body, BODY);
  assert.equal(got?.headers['webhook-id'], 'msg_1');
  assert.equal(got?.headers['webhook-signature'], MARKER);
  assert.equal(got?.headers['content-type'], 'application/json');
  assert.match(got?.headers['user-agent'] ?? '', /^SikkerKey-Webhooks\/\d+\.\d+\.\d+/);
});

test('a 302 is a failed attempt and is not followed: the counting listener sees nothing', async () => {
  const before = accepts;
  const p = policy();
  const r = await sendWebhook(`http://127.0.0.2:${receiverPort}/redirect`, { headers, body: BODY }, p);
  assert.equal(r.ok, false);
  assert.equal(r.status, 302);
  assert.match(r.error ?? '', /redirects are not followed/);
  assert.deepEqual(p.connects, [`127.0.0.2:${receiverPort}`]);
  // Give a (wrongly) followed redirect time to land.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(accepts, before);
});

test('a non-2xx answer is a failed attempt with its status', async () => {
  const r = await sendWebhook(`http://127.0.0.2:${receiverPort}/fail`, { headers, body: BODY }, policy());
  assert.deepEqual({ ok: r.ok, status: r.status }, { ok: false, status: 500 });
});

test('plain http:// to an address outside --webhook-allow-cidr is refused ("use https") without connecting', async () => {
  // A public literal: the check refuses it before any socket exists; onConnect throws so a
  // regression fails here rather than reach the network.
  const p: TargetPolicy = { allowCidrs: ALLOW, onConnect: () => { throw new Error('would have connected to a public address'); } };
  await assert.rejects(checkWebhookTarget('http://1.1.1.1/', p), (err: unknown) => isSikkerKeyError(err, 'SK_ERR_WEBHOOK_TARGET_FORBIDDEN') && /use https/.test((err as Error).message));
  const r = await sendWebhook('http://1.1.1.1/', { headers, body: BODY }, p);
  assert.match(r.error ?? '', /use https/);
  // A public name resolving partly inside the allowlist is still not plain-http material.
  const mixed: TargetPolicy = { ...p, resolve: async () => [{ address: '127.0.0.2', family: 4 }, { address: '1.1.1.1', family: 4 }] };
  assert.match((await sendWebhook('http://mixed.test/', { headers, body: BODY }, mixed)).error ?? '', /use https/);
  // Without the allowlist the stand-in receiver is what it really is: loopback.
  assert.match((await sendWebhook(`http://127.0.0.2:${receiverPort}/`, { headers, body: BODY }, { allowCidrs: [] })).error ?? '', /loopback/);
});

test('URLs that are not https/http, or carry credentials, are refused', async () => {
  for (const url of ['ftp://127.0.0.2/', 'file:///etc/passwd', `http://user:pw@127.0.0.2:${receiverPort}/`, 'not a url']) {
    await assert.rejects(checkWebhookTarget(url, { allowCidrs: ALLOW }), (err: unknown) => isSikkerKeyError(err, 'SK_ERR_WEBHOOK_TARGET_FORBIDDEN'), url);
  }
});

test('a receiver that never answers hits the timeout; the error shows no header or body', async () => {
  const started = Date.now();
  const r = await sendWebhook(`http://127.0.0.2:${receiverPort}/slow`, { headers, body: BODY, timeoutMs: 300 }, policy());
  assert.equal(r.ok, false);
  assert.equal(r.status, null);
  assert.match(r.error ?? '', /no answer within 300 ms/);
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
});

test('an endless answer is read to 4 KB at most: the call returns quickly with its status', async () => {
  const started = Date.now();
  const r = await sendWebhook(`http://127.0.0.2:${receiverPort}/huge`, { headers, body: BODY, timeoutMs: 5000 }, policy());
  assert.deepEqual({ ok: r.ok, status: r.status, error: r.error }, { ok: true, status: 200, error: null });
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});

test('https: SNI carries the URL\'s name and the certificate is verified (an unknown CA is a failed attempt)', async () => {
  const ca = makeTestCa();
  const cert = ca.issue({ names: ['hooks.test'] });
  let sni: string | undefined;
  const context = createSecureContext({ cert: cert.cert, key: cert.key });
  // SNICallback sees the ClientHello's server name.
  const tlsReceiver = createHttpsServer({ cert: cert.cert, key: cert.key, SNICallback: (name, cb) => { sni = name; cb(null, context); } }, (_req, res) => res.writeHead(204).end());
  const port = await listen(tlsReceiver, '127.0.0.2');
  try {
    const p = policy({ resolve: async () => [{ address: '127.0.0.2', family: 4 }] });
    const r = await sendWebhook(`https://hooks.test:${port}/`, { headers, body: BODY, timeoutMs: 3000 }, p);
    assert.equal(r.ok, false);
    assert.equal(r.status, null);
    assert.match(r.error ?? '', /certificate|UNABLE_TO_VERIFY|SELF_SIGNED/i);
    assert.deepEqual(p.connects, [`127.0.0.2:${port}`]);
    assert.equal(sni, 'hooks.test');
  } finally {
    tlsReceiver.close();
    ca.cleanup();
  }
});

test('no error string carries a request header or the body', async () => {
  const errors = [
    (await sendWebhook(`http://127.0.0.2:${receiverPort}/slow`, { headers, body: BODY, timeoutMs: 100 }, policy())).error,
    (await sendWebhook(`http://127.0.0.2:${receiverPort}/redirect`, { headers, body: BODY }, policy())).error,
    (await sendWebhook(`http://127.0.0.2:${receiverPort}/fail`, { headers, body: BODY }, policy())).error,
    (await sendWebhook('http://127.0.0.2:1/', { headers, body: BODY }, policy())).error,
    (await sendWebhook('http://10.0.0.1/', { headers, body: BODY }, policy())).error,
  ];
  for (const e of errors) {
    assert.ok(e !== null && e.length > 0);
    assert.ok(!e.includes('MUST-NOT-LEAK'), e);
  }
});

test('--webhook-allow-cidr: a list of CIDRs from the file, a variable or the flag; anything else is SK_ERR_CONFIG', () => {
  assert.deepEqual(loadVaultConfig({ env: {}, flags: { dataDir: '/d' } }).webhookAllowCidr, []);
  assert.deepEqual(loadVaultConfig({ env: { SIKKERKEY_VAULT_DATA_DIR: '/d', SIKKERKEY_VAULT_WEBHOOK_ALLOW_CIDR: '10.0.0.0/8, fd00::/8' } }).webhookAllowCidr, ['10.0.0.0/8', 'fd00::/8']);
  assert.deepEqual(loadVaultConfig({ env: {}, flags: { dataDir: '/d', webhookAllowCidr: ['192.168.5.0/24'] } }).webhookAllowCidr, ['192.168.5.0/24']);
  assert.throws(() => loadVaultConfig({ env: {}, flags: { dataDir: '/d', webhookAllowCidr: ['10.0.0.0/33'] } }),
    (err: unknown) => isSikkerKeyError(err, 'SK_ERR_CONFIG') && /--webhook-allow-cidr "10\.0\.0\.0\/33" is not a CIDR/.test((err as Error).message));
});

test('verifyWebhook: a signed delivery verifies; a tampered body, an old timestamp or a wrong secret does not', () => {
  const secret = newWebhookSecret();
  const now = 1_767_225_600;
  const signed = { 'webhook-id': 'msg_2', 'webhook-timestamp': String(now), 'webhook-signature': signatureHeader([secret], 'msg_2', now, BODY) };
  assert.deepEqual(verifyWebhook({ secrets: [secret], headers: signed, body: BODY, now }), { ok: true, id: 'msg_2', timestamp: now });
  assert.equal(verifyWebhook({ secrets: [secret], headers: signed, body: BODY.replace('rotated', 'deleted'), now }).ok, false);
  assert.equal(verifyWebhook({ secrets: [secret], headers: signed, body: BODY, now: now + 301 }).ok, false);
  assert.equal(verifyWebhook({ secrets: [newWebhookSecret()], headers: signed, body: BODY, now }).ok, false);
  const { 'webhook-signature': _dropped, ...unsigned } = signed;
  assert.equal(verifyWebhook({ secrets: [secret], headers: unsigned, body: BODY, now }).ok, false);
});

test('verifyWebhook: during a rotation overlap a delivery carries two signatures and verifies with either secret', () => {
  const oldSecret = newWebhookSecret();
  const newSecret = newWebhookSecret();
  const now = 1_767_225_600;
  const both = { 'webhook-id': 'msg_3', 'webhook-timestamp': String(now), 'webhook-signature': signatureHeader([newSecret, oldSecret], 'msg_3', now, BODY) };
  assert.equal(both['webhook-signature'].split(' ').length, 2);
  assert.equal(verifyWebhook({ secrets: [oldSecret], headers: both, body: BODY, now }).ok, true);
  assert.equal(verifyWebhook({ secrets: [newSecret], headers: both, body: BODY, now }).ok, true);
  assert.equal(verifyWebhook({ secrets: [newWebhookSecret()], headers: both, body: BODY, now }).ok, false);
});

test('docs/webhooks.md: the worked example verifies with the code, and `sikkerkey/webhooks` is the import path it names', async () => {
  const doc = readFileSync('docs/webhooks.md', 'utf8');
  const cell = (name: string): string => {
    const m = new RegExp(`^\\| ${name} \\| \`(.+)\` \\|$`, 'm').exec(doc);
    return m?.[1] ?? assert.fail(`docs/webhooks.md lacks the ${name} row`);
  };
  const secret = cell('secret');
  const id = cell('`webhook-id`');
  const timestamp = Number(cell('`webhook-timestamp`'));
  const body = cell('body');
  assert.equal(signatureHeader([secret], id, timestamp, body), cell('`webhook-signature`'));
  assert.ok(doc.includes(`webhook-signature: ${cell('`webhook-signature`')}`), 'the example delivery carries the same signature');
  // Self-reference through package.json "exports", as an application importing the package would.
  const specifier = 'sikkerkey/webhooks';
  const mod = (await import(specifier)) as { verifyWebhook: typeof verifyWebhook };
  const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': cell('`webhook-signature`') };
  assert.equal(mod.verifyWebhook({ secrets: [secret], headers, body, now: timestamp }).ok, true);
  for (const heading of ['## Verifying deliveries', '## Which targets are allowed']) assert.ok(doc.includes(`\n${heading}\n`), heading);
});
