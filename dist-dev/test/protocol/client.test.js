import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VaultClient, encodePathSegment } from '../../protocol/client.js';
import { verifyRequest } from '../../protocol/signing.js';
import { generateIdentityKey, publicKeyObject, writePrivateKeyFile } from '../../protocol/keys.js';
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';
import { memoryNonceStore } from '../support/signing-fixtures.js';
import { makeTestCa } from '../support/test-ca.js';
const dir = mkdtempSync(join(tmpdir(), 'sk-client-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const machine = generateIdentityKey();
const keys = new Map([[machine.keyId, publicKeyObject(machine.publicKey)]]);
const key = { keyId: machine.keyId, privateKey: machine.privateKey };
/**
 * A tiny vault: every request goes through verifyRequest (the server's authority is fixed per
 * server), then a handful of routes answer the way the real API does.
 */
async function startVault(opts = {}) {
    const seen = [];
    let requests = 0;
    const nonces = memoryNonceStore();
    let authority = '';
    const perConnection = new WeakMap();
    const handler = (req, res) => {
        requests += 1;
        const n = (perConnection.get(req.socket) ?? 0) + 1;
        perConnection.set(req.socket, n);
        if (opts.dropSecondOnConnection === true && n === 2) {
            req.socket.destroy();
            return;
        }
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const raw = Buffer.concat(chunks);
            const send = (status, body) => {
                res.writeHead(status, { 'content-type': 'application/json' });
                res.end(JSON.stringify(body));
            };
            verifyRequest({ method: req.method ?? '', target: req.url ?? '', headers: req.headers, body: raw }, { authority, lookupKey: (id) => keys.get(id), nonces, async: opts.async ?? false }).then((v) => {
                const target = req.url ?? '';
                seen.push({ method: req.method ?? '', target, keyId: v.keyId, body: raw.length ? JSON.parse(raw.toString('utf8')) : undefined });
                if (target.startsWith('/v1/echo'))
                    return send(200, { keyId: v.keyId, target, body: seen.at(-1)?.body ?? null });
                if (target === '/v1/locked')
                    return send(423, new SikkerKeyError('SK_ERR_PROJECT_LOCKED', 'project payments is locked', { details: { project: 'payments' } }).toBody());
                if (target === '/v1/future')
                    return send(409, { error: { code: ['SK', 'ERR', 'NOT_YET_INVENTED'].join('_'), message: 'new' } });
                if (target === '/v1/html') {
                    res.writeHead(502, { 'content-type': 'text/html' });
                    return res.end('<html>bad gateway</html>');
                }
                if (target === '/v1/empty') {
                    res.writeHead(204);
                    return res.end();
                }
                if (target === '/v1/hang')
                    return undefined;
                if (target === '/v1/projects/pay%20ments/secrets/db%2Fmain')
                    return send(200, { project: 'pay ments', name: 'db/main', version: 3, value: 'example-value' });
                if (target === '/v1/projects/p/secrets/structured')
                    return send(200, { project: 'p', name: 'structured', version: 1, fields: { username: 'app', password: 'example' } });
                if (target === '/v1/projects/p/secrets/odd')
                    return send(200, { project: 'p', name: 'odd', version: 'three' });
                return send(404, new SikkerKeyError('SK_ERR_ROUTE_NOT_FOUND').toBody());
            }, (err) => send(err.statusCode, err.toBody()));
        });
    };
    const server = opts.tls ? https.createServer(opts.tls, handler) : http.createServer(handler);
    await new Promise((resolve) => (opts.socketPath ? server.listen(opts.socketPath, resolve) : server.listen(0, '127.0.0.1', resolve)));
    const port = opts.socketPath ? 0 : server.address().port;
    authority = opts.authority ? opts.authority(port) : opts.socketPath ? 'localhost' : `127.0.0.1:${port}`;
    return {
        port,
        seen,
        requests: () => requests,
        close: async () => {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(() => resolve()));
        },
    };
}
async function codeOf(p) {
    try {
        await (typeof p === 'function' ? p() : p);
        return 'accepted';
    }
    catch (err) {
        assert.ok(isSikkerKeyError(err), `expected a SikkerKeyError, got ${String(err)}`);
        return err.code;
    }
}
test('client and verifier agree end to end: JSON body, encoded path, query with spaces and unicode', async () => {
    for (const async of [false, true]) {
        const vault = await startVault({ async });
        const client = new VaultClient({ url: `http://127.0.0.1:${vault.port}`, key });
        try {
            const path = `/v1/echo/${encodePathSegment('a b/ü✓')}?q=${encodeURIComponent('hello wörld ✓')}&x=1`;
            const body = { value: 'not-a-real-secret', note: 'grüße ✓', nested: { n: [1, 2, 3] } };
            const res = await client.request('POST', path, body);
            assert.equal(res.status, 200);
            assert.equal(res.body.keyId, machine.keyId);
            assert.equal(res.body.target, path, 'the server saw exactly the target that was signed');
            assert.deepEqual(res.body.body, body);
            assert.equal((await client.request('GET', '/v1/echo?empty=')).status, 200);
            assert.equal((await client.request('DELETE', '/v1/echo/x')).status, 200);
            assert.equal((await client.request('GET', '/v1/empty')).body, undefined);
            assert.deepEqual(vault.seen.map((s) => s.method), ['POST', 'GET', 'DELETE', 'GET']);
        }
        finally {
            client.close();
            await vault.close();
        }
    }
});
test('getSecret reads a plain and a structured secret, encoding names so the server sees them undecoded', async () => {
    const vault = await startVault();
    const client = new VaultClient({ url: `http://127.0.0.1:${vault.port}`, key });
    try {
        assert.deepEqual(await client.getSecret('pay ments', 'db/main'), { project: 'pay ments', name: 'db/main', version: 3, value: 'example-value' });
        assert.equal(vault.seen[0]?.target, '/v1/projects/pay%20ments/secrets/db%2Fmain');
        const structured = await client.getSecret('p', 'structured');
        assert.deepEqual(structured.fields, { username: 'app', password: 'example' });
        assert.equal(await codeOf(client.getSecret('p', 'odd')), 'SK_ERR_RESPONSE');
        assert.equal(await codeOf(client.getSecret('p', 'missing')), 'SK_ERR_ROUTE_NOT_FOUND');
    }
    finally {
        client.close();
        await vault.close();
    }
});
test('a server error body becomes a SikkerKeyError with the server\'s code, message and details', async () => {
    const vault = await startVault();
    const client = new VaultClient({ url: `http://127.0.0.1:${vault.port}`, key });
    try {
        const err = await client.request('GET', '/v1/locked').then(() => undefined, (e) => e);
        assert.ok(isSikkerKeyError(err, 'SK_ERR_PROJECT_LOCKED'), String(err));
        assert.equal(err.message, 'project payments is locked');
        assert.equal(err.details?.project, 'payments');
        assert.equal(err.details?.httpStatus, 423);
        assert.equal(await codeOf(client.request('GET', '/v1/future')), 'SK_ERR_RESPONSE', 'a code this client does not know');
        assert.equal(await codeOf(client.request('GET', '/v1/html')), 'SK_ERR_RESPONSE', 'an answer that is not JSON');
        // The verifier's refusal travels back as its own code: sign for another authority.
        const misdirected = new VaultClient({ url: `http://127.0.0.1:${vault.port}`, key, authority: 'vault.example.com' });
        assert.equal(await codeOf(misdirected.request('GET', '/v1/echo')), 'SK_ERR_SIGNATURE_INVALID');
        const unknown = new VaultClient({ url: `http://127.0.0.1:${vault.port}`, key: { ...key, keyId: generateIdentityKey().keyId } });
        assert.equal(await codeOf(unknown.request('GET', '/v1/echo')), 'SK_ERR_SIGNATURE_UNKNOWN_KEY');
        misdirected.close();
        unknown.close();
    }
    finally {
        client.close();
        await vault.close();
    }
});
test('plain http:// to a non-loopback address is refused before any connection is attempted', async () => {
    let sockets = 0;
    const onSocket = () => { sockets += 1; };
    subscribe('net.client.socket', onSocket);
    try {
        for (const url of ['http://192.0.2.10:8200', 'http://10.0.0.1:8200', 'http://vault.example.com:8200', 'http://0.0.0.0:8200', 'http://[::2]:8200', 'http://127.0.0.1.nip.io:8200', 'http://[::ffff:c000:20a]:8200']) {
            assert.equal(await codeOf(() => new VaultClient({ url, key })), 'SK_ERR_INSECURE_TRANSPORT', url);
        }
        assert.equal(sockets, 0);
        // The probe is live: a permitted request does open a socket.
        const vault = await startVault();
        const client = new VaultClient({ url: `http://127.0.0.1:${vault.port}`, key });
        await client.request('GET', '/v1/echo');
        client.close();
        await vault.close();
        assert.ok(sockets >= 1);
    }
    finally {
        unsubscribe('net.client.socket', onSocket);
    }
    for (const url of ['http://127.0.0.1:8200', 'http://127.200.3.4:1', 'http://localhost:8200', 'http://LOCALHOST', 'http://[::1]:8200']) {
        new VaultClient({ url, key }).close();
    }
});
test('bad options are configuration errors, found without touching the network', async () => {
    const cases = [
        ['no key', () => new VaultClient({ url: 'https://vault.example.com' })],
        ['not a URL', () => new VaultClient({ url: 'vault.example.com:8200', key })],
        ['ftp', () => new VaultClient({ url: 'ftp://vault.example.com', key })],
        ['a path prefix', () => new VaultClient({ url: 'https://vault.example.com/vault', key })],
        ['credentials in the URL', () => new VaultClient({ url: 'https://u:p@vault.example.com', key })],
        ['a short pin', () => new VaultClient({ url: 'https://vault.example.com', key, pinSha256: 'abc' })],
        ['an unreadable CA file', () => new VaultClient({ url: 'https://vault.example.com', key, caFile: join(dir, 'absent.pem') })],
        ['a pin on plain http', () => new VaultClient({ url: 'http://127.0.0.1:1', key, pinSha256: createHash('sha256').digest('base64') })],
        ['an empty unix socket path', () => new VaultClient({ url: 'unix:', key })],
        ['a zero timeout', () => new VaultClient({ url: 'https://vault.example.com', key, timeoutMs: 0 })],
    ];
    for (const [what, fn] of cases)
        assert.equal(await codeOf(fn), 'SK_ERR_CONFIG', what);
    const c = new VaultClient({ url: 'https://Vault.Example.com:443', key });
    assert.equal(c.authority, 'vault.example.com', 'the default port is left out of @authority');
    assert.equal(new VaultClient({ url: 'https://vault.example.com:8200', key }).authority, 'vault.example.com:8200');
    assert.equal(new VaultClient({ url: 'http://[::1]:8200', key }).authority, '[::1]:8200');
    assert.equal(new VaultClient({ url: 'https://10.0.0.1', key, authority: 'Vault.Example.com' }).authority, 'vault.example.com');
});
test('a vault that cannot be reached or does not answer in time is SK_ERR_CONNECT; an abort rejects with its reason', async () => {
    const vault = await startVault();
    const port = vault.port;
    const slow = new VaultClient({ url: `http://127.0.0.1:${port}`, key, timeoutMs: 300 });
    const started = Date.now();
    assert.equal(await codeOf(slow.request('GET', '/v1/hang')), 'SK_ERR_CONNECT');
    // /v1/hang never answers, so only the client's own 300 ms timeout ends the request; the bound
    // is generous (50×) for a shared machine.
    assert.ok(Date.now() - started < 15_000, `the timeout ended the request after ${Date.now() - started} ms`);
    assert.equal(await codeOf(slow.request('GET', '/v1/hang', undefined, { timeoutMs: 100 })), 'SK_ERR_CONNECT');
    const ac = new AbortController();
    const pending = slow.request('GET', '/v1/hang', undefined, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('caller gave up')), 50);
    await assert.rejects(pending, /caller gave up/);
    slow.close();
    await vault.close();
    const gone = new VaultClient({ url: `http://127.0.0.1:${port}`, key, timeoutMs: 2000 });
    assert.equal(await codeOf(gone.request('GET', '/v1/echo')), 'SK_ERR_CONNECT');
});
test('the key can come from a key file, read lazily and refused if others can read it', async () => {
    const vault = await startVault();
    const good = join(dir, 'client.key');
    writePrivateKeyFile(good, machine.privateKey);
    const client = new VaultClient({ url: `http://127.0.0.1:${vault.port}`, keyFile: good });
    assert.equal((await client.request('GET', '/v1/echo')).body.keyId, machine.keyId);
    const loose = join(dir, 'loose.key');
    writePrivateKeyFile(loose, machine.privateKey);
    chmodSync(loose, 0o644);
    const before = vault.requests();
    const refused = new VaultClient({ url: `http://127.0.0.1:${vault.port}`, keyFile: loose });
    assert.equal(await codeOf(refused.request('GET', '/v1/echo')), 'SK_ERR_KEY_FILE');
    assert.equal(vault.requests(), before, 'nothing was sent');
    client.close();
    refused.close();
    await vault.close();
});
test('a kept-alive connection the vault reset is retried once, re-signed, for idempotent methods only', async () => {
    const vault = await startVault({ dropSecondOnConnection: true });
    const client = new VaultClient({ url: `http://127.0.0.1:${vault.port}`, key });
    try {
        await client.request('GET', '/v1/echo/1');
        assert.equal((await client.request('GET', '/v1/echo/2')).body.target, '/v1/echo/2');
        assert.equal(vault.requests(), 3, 'the second GET was sent twice: reset, then retried on a new connection');
        assert.equal(vault.seen.length, 2);
        assert.notEqual(vault.seen[0]?.keyId, undefined);
        assert.equal(await codeOf(client.request('POST', '/v1/echo/3', { n: 3 })), 'SK_ERR_CONNECT', 'a POST is not sent again');
        assert.equal(vault.requests(), 4);
    }
    finally {
        client.close();
        await vault.close();
    }
});
test('a unix: URL talks over the socket and signs for localhost unless told otherwise', async () => {
    const socketPath = join(dir, 'vault.sock');
    const vault = await startVault({ socketPath });
    const client = new VaultClient({ url: `unix:${socketPath}`, key });
    try {
        assert.equal(client.authority, 'localhost');
        const res = await client.request('PUT', '/v1/echo/sock', { a: 1 });
        assert.deepEqual(res.body.body, { a: 1 });
        const other = new VaultClient({ url: `unix:${socketPath}`, key, authority: 'vault.internal' });
        assert.equal(await codeOf(other.request('GET', '/v1/echo')), 'SK_ERR_SIGNATURE_INVALID');
        other.close();
    }
    finally {
        client.close();
        await vault.close();
    }
});
test('http://localhost is allowed as loopback, reaches the vault and is signed for localhost:port', async () => {
    const vault = await startVault({ authority: (port) => `localhost:${port}` });
    const client = new VaultClient({ url: `http://localhost:${vault.port}`, key });
    try {
        assert.equal((await client.request('GET', '/v1/echo')).body.keyId, machine.keyId);
    }
    finally {
        client.close();
        await vault.close();
    }
});
test('https: the certificate is verified against caFile, and pinSha256 must match its SPKI', async () => {
    const keyPath = join(dir, 'tls.key');
    const certPath = join(dir, 'tls.crt');
    // A throwaway self-signed certificate for this test run (openssl is part of the test toolchain).
    execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath,
        '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'pipe' });
    const pubPem = execFileSync('openssl', ['x509', '-in', certPath, '-noout', '-pubkey']);
    const spkiDer = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pubPem });
    const pin = createHash('sha256').update(spkiDer).digest('base64');
    const wrongPin = createHash('sha256').update('another key').digest('base64');
    const vault = await startVault({ tls: { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') }, authority: (port) => `localhost:${port}` });
    const url = `https://localhost:${vault.port}`;
    const clients = [];
    const make = (o) => {
        const c = new VaultClient({ url, key, ...o });
        clients.push(c);
        return c;
    };
    try {
        assert.equal((await make({ caFile: certPath }).request('POST', '/v1/echo', { tls: true })).body.keyId, machine.keyId);
        assert.equal((await make({ caFile: certPath, pinSha256: pin }).request('GET', '/v1/echo')).body.keyId, machine.keyId);
        const before = vault.requests();
        assert.equal(await codeOf(make({}).request('GET', '/v1/echo')), 'SK_ERR_TLS_CERT', 'self-signed and not in the trust store');
        assert.equal(await codeOf(make({ caFile: certPath, pinSha256: wrongPin }).request('GET', '/v1/echo')), 'SK_ERR_TLS_PIN');
        assert.equal(vault.requests(), before, 'no request reached the server over an unverified connection');
        const byIp = new VaultClient({ url: `https://127.0.0.1:${vault.port}`, key, caFile: certPath, authority: `localhost:${vault.port}` });
        clients.push(byIp);
        assert.equal((await byIp.request('GET', '/v1/echo')).body.keyId, machine.keyId, 'IP SAN, explicit authority');
    }
    finally {
        for (const c of clients)
            c.close();
        await vault.close();
    }
});
test('encodePathSegment is encodeURIComponent, plus the dot segments', () => {
    assert.equal(encodePathSegment('a b/c?d#e'), 'a%20b%2Fc%3Fd%23e');
    assert.equal(encodePathSegment('grüße'), 'gr%C3%BC%C3%9Fe');
    assert.equal(encodePathSegment('.'), '%2E');
    assert.equal(encodePathSegment('..'), '%2E%2E');
    assert.equal(encodePathSegment('...'), '...');
    assert.equal(encodePathSegment('db~main'), 'db~main');
});
test('SIKKERKEY_CA_FILE and SIKKERKEY_PIN_SHA256 are defaults for https:// only; a plain loopback URL ignores them', async () => {
    const ca = makeTestCa();
    const server = ca.issue({ names: ['localhost'] });
    const vault = await startVault({ tls: { key: server.key, cert: server.cert }, authority: (port) => `localhost:${port}` });
    const url = `https://localhost:${vault.port}`;
    const clients = [];
    const make = (o) => {
        const c = new VaultClient({ url, key, ...o });
        clients.push(c);
        return c;
    };
    try {
        assert.equal((await make({ env: { SIKKERKEY_CA_FILE: ca.caFile } }).request('GET', '/v1/echo')).body.keyId, machine.keyId);
        assert.equal(await codeOf(make({ env: {} }).request('GET', '/v1/echo')), 'SK_ERR_TLS_CERT', 'without it: system CAs only');
        assert.equal(await codeOf(make({ env: { SIKKERKEY_CA_FILE: ca.caFile, SIKKERKEY_PIN_SHA256: ca.issue().spkiSha256 } }).request('GET', '/v1/echo')), 'SK_ERR_TLS_PIN');
        assert.equal((await make({ env: { SIKKERKEY_CA_FILE: ca.caFile, SIKKERKEY_PIN_SHA256: server.spkiSha256 } }).request('GET', '/v1/echo')).status, 200);
        // An explicit option wins over the environment.
        assert.equal((await make({ caFile: ca.caFile, env: { SIKKERKEY_CA_FILE: join(dir, 'absent.pem') } }).request('GET', '/v1/echo')).status, 200);
        const badFile = await codeOf(() => make({ env: { SIKKERKEY_CA_FILE: join(dir, 'absent.pem') } }));
        assert.equal(badFile, 'SK_ERR_CONFIG');
        assert.throws(() => make({ env: { SIKKERKEY_PIN_SHA256: 'short' } }), /SIKKERKEY_PIN_SHA256 must be the base64 SHA-256/);
        // A CA file exported for a remote vault does not break a loopback http:// URL.
        new VaultClient({ url: 'http://127.0.0.1:1', key, env: { SIKKERKEY_CA_FILE: join(dir, 'absent.pem'), SIKKERKEY_PIN_SHA256: 'short' } }).close();
    }
    finally {
        for (const c of clients)
            c.close();
        await vault.close();
        ca.cleanup();
    }
});
test('each TLS refusal names its rule: another host name, an untrusted CA, a plaintext server behind https://', async () => {
    const ca = makeTestCa();
    const elsewhere = ca.issue({ names: ['vault.example.com'] });
    const vault = await startVault({ tls: { key: elsewhere.key, cert: elsewhere.cert } });
    const plain = await startVault();
    const messageOf = async (p) => {
        const err = await p.then(() => undefined, (e) => e);
        assert.ok(isSikkerKeyError(err), String(err));
        return `${err.code}: ${err.message}`;
    };
    const clients = [];
    const make = (url, o = {}) => {
        const c = new VaultClient({ url, key, env: {}, ...o });
        clients.push(c);
        return c;
    };
    try {
        assert.match(await messageOf(make(`https://127.0.0.1:${vault.port}`, { caFile: ca.caFile }).request('GET', '/v1/echo')), /^SK_ERR_TLS_CERT: .*not issued for the host in the vault URL \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
        assert.match(await messageOf(make(`https://127.0.0.1:${vault.port}`).request('GET', '/v1/echo')), /^SK_ERR_TLS_CERT: .*not issued by a trusted CA/);
        assert.match(await messageOf(make(`https://127.0.0.1:${plain.port}`).request('GET', '/v1/echo')), /^SK_ERR_CONNECT: the TLS handshake with the vault failed .*is it serving https:\/\/ on this port\?/);
        assert.equal(vault.requests() + plain.requests(), 0, 'no request was sent');
    }
    finally {
        for (const c of clients)
            c.close();
        await vault.close();
        await plain.close();
        ca.cleanup();
    }
});
//# sourceMappingURL=client.test.js.map