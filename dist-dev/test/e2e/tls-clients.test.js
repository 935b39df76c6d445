// Clients refuse plaintext and unverified vaults, against a real vault process serving TLS with a
// CA this test made: the library, the `sikkerkey` CLI and the agent. Also the listener's own rules
// (TLS 1.2+, modern suites, client certificates) and a certificate reload on SIGHUP that keeps an
// open long-poll alive.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import https from 'node:https';
import { makeTestCa } from '../support/test-ca.js';
import { startVaultProcess } from '../support/vault-process.js';
import { jsonOf, runBin, startBin } from '../support/processes.js';
import { SOCKET_PROBE_MARK, socketProbeEnv } from '../support/socket-probe.js';
import { parsePrometheusText } from '../support/prom-text.js';
import { waitFor } from '../support/wait.js';
import { VaultClient } from '../../protocol/client.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
let dir;
let ca;
let otherCa;
let first;
let certFile;
let keyFile;
let vault;
let machineKeyFile;
before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sk-tls-clients-'));
    ca = makeTestCa('SikkerKey vault CA');
    otherCa = makeTestCa('Some other CA');
    first = ca.issue();
    // The vault reads these paths; the reload test replaces their contents.
    certFile = join(dir, 'vault.crt');
    keyFile = join(dir, 'vault.key');
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    vault = await startVaultProcess({ tls: { cert: certFile, key: keyFile, ca: ca.caFile } });
    machineKeyFile = join(dir, 'machine.key');
    const pub = jsonOf(await runBin('sikkerkey-agent', ['init', '--key-file', machineKeyFile, '--json']));
    jsonOf(await vault.sk(['machine', 'add', 'm1', '--public-key', pub.publicKey, '--json']));
});
after(async () => {
    await vault?.close();
    ca?.cleanup();
    otherCa?.cleanup();
    rmSync(dir, { recursive: true, force: true });
});
function machineClient(opts = {}) {
    const id = readPrivateKeyFile(machineKeyFile);
    return new VaultClient({ url: opts.url ?? vault.url, key: { keyId: id.keyId, privateKey: id.privateKey }, env: {}, ...opts });
}
async function codeOf(p) {
    try {
        await p;
        return 'accepted';
    }
    catch (err) {
        assert.ok(isSikkerKeyError(err), String(err));
        return err.code;
    }
}
async function longPollsHeld() {
    return parsePrometheusText((await vault.get('/metrics')).body).get('sikkerkey_agent_long_polls_held')?.samples[0]?.value ?? 0;
}
async function requestsSeen() {
    const families = parsePrometheusText((await vault.get('/metrics')).body);
    return (families.get('sikkerkey_http_requests_total')?.samples ?? []).filter((s) => !['/metrics', '/healthz', '/readyz'].includes(s.labels.route ?? '')).reduce((n, s) => n + s.value, 0);
}
test('the CLI, `sikkerkey-agent get` and `sikkerkey-agent run` refuse http:// to a non-loopback address without opening a socket', async () => {
    const probe = socketProbeEnv();
    const insecure = 'http://192.0.2.10:8200';
    const cli = await runBin('sikkerkey', ['project', 'list', '--json'], { env: { ...probe, SIKKERKEY_URL: insecure, SIKKERKEY_KEY_FILE: vault.opKey } });
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /^error SK_ERR_INSECURE_TRANSPORT: refused before connecting: plain http:\/\/ is allowed only to loopback/m);
    assert.equal(cli.stderr.includes(SOCKET_PROBE_MARK), false, 'the CLI opened no socket');
    const get = await runBin('sikkerkey-agent', ['get', 'p', 's'], { env: { ...probe, SIKKERKEY_URL: 'http://[fd00::2]:8200', SIKKERKEY_AGENT_KEY_FILE: machineKeyFile } });
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /error SK_ERR_INSECURE_TRANSPORT/);
    assert.equal(get.stderr.includes(SOCKET_PROBE_MARK), false);
    const cfg = join(dir, 'agent-insecure.json');
    writeFileSync(cfg, JSON.stringify({ vaultUrl: 'http://vault.example.com:8200', keyFile: machineKeyFile, health: { listen: '127.0.0.1:0' } }));
    const run = await runBin('sikkerkey-agent', ['run', '--config', cfg], { env: probe });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /error SK_ERR_INSECURE_TRANSPORT/);
    assert.equal(run.stderr.includes(SOCKET_PROBE_MARK), false, 'the agent refused before its first poll');
    // The probe is live: the same CLI pointed at the TLS vault does open a socket, and succeeds.
    const ok = await runBin('sikkerkey', ['project', 'list', '--json'], { env: { ...probe, SIKKERKEY_URL: vault.url, SIKKERKEY_KEY_FILE: vault.opKey, SIKKERKEY_CA_FILE: ca.caFile } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(ok.stderr.includes(SOCKET_PROBE_MARK));
});
test('a certificate from an untrusted CA is refused with SK_ERR_TLS_CERT by the library, the CLI and the agent; nothing reaches the vault', async () => {
    const before = await requestsSeen();
    assert.equal(await codeOf(machineClient({ caFile: otherCa.caFile }).request('GET', '/v1/agent/rotations')), 'SK_ERR_TLS_CERT');
    assert.equal(await codeOf(machineClient().request('GET', '/v1/agent/rotations')), 'SK_ERR_TLS_CERT', 'system CAs only');
    const err = await machineClient({ caFile: otherCa.caFile }).request('GET', '/v1/agent/rotations').catch((e) => e);
    assert.match(err.message, /not issued by a trusted CA \(the system CAs, SIKKERKEY_CA_FILE or caFile\)/);
    const cli = await vault.sk(['project', 'list', '--json'], { SIKKERKEY_CA_FILE: otherCa.caFile });
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /^error SK_ERR_TLS_CERT: /m);
    assert.equal(cli.stdout, '');
    const cfg = join(dir, 'agent-wrong-ca.json');
    writeFileSync(cfg, JSON.stringify({ vaultUrl: vault.url, keyFile: machineKeyFile, caFile: otherCa.caFile, health: { listen: '127.0.0.1:0' }, pollWaitSeconds: 1 }));
    const agent = startBin('sikkerkey-agent', ['run', '--config', cfg]);
    try {
        await agent.waitFor(/"code":"SK_ERR_TLS_CERT".*vault unreachable; backing off/);
    }
    finally {
        await agent.stop('SIGKILL');
    }
    assert.equal(await requestsSeen(), before, 'no request was answered over an unverified connection');
    // With the right CA through SIKKERKEY_CA_FILE (the library's default for https) it works.
    const viaEnv = new VaultClient({ url: vault.url, keyFile: machineKeyFile, env: { SIKKERKEY_CA_FILE: ca.caFile } });
    assert.equal((await viaEnv.request('GET', '/v1/agent/rotations')).status, 204, 'answered: no jobs');
    viaEnv.close();
});
test('a wrong pin is refused with SK_ERR_TLS_PIN by the library, the CLI and the agent; the right pin is accepted', async () => {
    const wrongPin = otherCa.issue().spkiSha256;
    assert.equal(await codeOf(machineClient({ caFile: ca.caFile, pinSha256: wrongPin }).request('GET', '/v1/agent/rotations')), 'SK_ERR_TLS_PIN');
    const pinned = machineClient({ caFile: ca.caFile, pinSha256: first.spkiSha256 });
    assert.equal((await pinned.request('GET', '/v1/agent/rotations')).status, 204);
    pinned.close();
    const cli = await vault.sk(['project', 'list', '--json'], { SIKKERKEY_PIN_SHA256: wrongPin });
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /^error SK_ERR_TLS_PIN: the vault's certificate is trusted but its key .* does not match the pinned pinSha256/m);
    const cliOk = await vault.sk(['project', 'list', '--json'], { SIKKERKEY_PIN_SHA256: first.spkiSha256 });
    assert.equal(cliOk.code, 0, cliOk.stderr);
    const cfg = join(dir, 'agent-wrong-pin.json');
    writeFileSync(cfg, JSON.stringify({ vaultUrl: vault.url, keyFile: machineKeyFile, caFile: ca.caFile, pinSha256: wrongPin, health: { listen: '127.0.0.1:0' }, pollWaitSeconds: 1 }));
    const agent = startBin('sikkerkey-agent', ['run', '--config', cfg]);
    try {
        await agent.waitFor(/"code":"SK_ERR_TLS_PIN".*vault unreachable; backing off/);
    }
    finally {
        await agent.stop('SIGKILL');
    }
});
/** A TLS handshake with these client settings: the negotiated protocol, or the error code. */
function handshake(port, opts) {
    return new Promise((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca: [readText(ca.caFile)], servername: 'localhost', ...opts }, () => {
            const p = socket.getProtocol() ?? 'none';
            socket.end();
            resolve(p);
        });
        socket.on('error', (err) => resolve(`error ${err.code ?? err.message}`));
    });
}
function readText(file) {
    return readFileSync(file, 'utf8');
}
test('the vault speaks TLS 1.2 and 1.3 only, with forward-secret AEAD suites only', async () => {
    assert.equal(await handshake(vault.port, {}), 'TLSv1.3');
    assert.equal(await handshake(vault.port, { maxVersion: 'TLSv1.2' }), 'TLSv1.2');
    // A client willing to speak TLS 1.0/1.1 (OpenSSL's own floor lowered) is refused by the vault …
    const old = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };
    assert.match(await handshake(vault.port, old), /^error /);
    const weak = { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:AES256-SHA:ECDHE-RSA-AES128-SHA@SECLEVEL=0' };
    assert.match(await handshake(vault.port, weak), /^error /);
    // … while a permissive server accepts exactly those clients: the refusals are the vault's.
    const permissive = tls.createServer({ cert: first.cert, key: first.key, minVersion: 'TLSv1', ciphers: 'ALL@SECLEVEL=0' }, (s) => s.end());
    await new Promise((r) => permissive.listen(0, '127.0.0.1', () => r()));
    try {
        const port = permissive.address().port;
        assert.equal(await handshake(port, old), 'TLSv1.1');
        assert.equal(await handshake(port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA@SECLEVEL=0' }), 'TLSv1.2');
        assert.match(await handshake(vault.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA@SECLEVEL=0' }), /^error /, 'CBC-SHA1 refused by the vault');
    }
    finally {
        permissive.close();
    }
});
test('--tls-client-ca makes a client certificate from that CA mandatory', async () => {
    const clientCa = makeTestCa('client CA');
    const server = ca.issue();
    const strict = await startVaultProcess({ tls: { cert: server.certFile, key: server.keyFile, ca: ca.caFile }, args: ['--tls-client-ca', clientCa.caFile] });
    try {
        const without = await codeOf(machineClient({ url: strict.url, caFile: ca.caFile }).request('GET', '/healthz'));
        assert.equal(without, 'SK_ERR_CONNECT');
        const err = (await machineClient({ url: strict.url, caFile: ca.caFile }).request("GET", "/healthz").catch((e) => e));
        assert.match(err.message, /ended the TLS handshake .*client certificate/);
        const status = (cert) => new Promise((resolve) => {
            https.get(`${strict.url}/healthz`, { ca: readText(ca.caFile), agent: false, ...(cert ? { cert: cert.cert, key: cert.key } : {}) }, (res) => {
                res.resume();
                resolve(String(res.statusCode));
            }).on('error', (e) => resolve(`error ${e.code ?? ''}`));
        });
        assert.equal(await status(clientCa.issue({ names: ['client-1'], client: true })), '200');
        assert.match(await status(otherCa.issue({ names: ['client-2'], client: true })), /^error /, 'a client certificate from another CA');
        assert.match(await status(undefined), /^error /);
    }
    finally {
        await strict.close();
        clientCa.cleanup();
    }
});
test('a certificate replaced and reloaded on SIGHUP: the open long-poll completes, new connections get the new certificate', async () => {
    const longPollsAnswered = async () => {
        const families = parsePrometheusText((await vault.get('/metrics')).body);
        const polls = families.get('sikkerkey_http_requests_total')?.samples.filter((s) => s.labels.route === '/v1/agent/rotations') ?? [];
        return polls.reduce((n, s) => n + s.value, 0);
    };
    const answeredBefore = await longPollsAnswered();
    const client = machineClient({ caFile: ca.caFile });
    const started = Date.now();
    // Held for 10 s: room for the reload to happen while it is open, even on a slow machine.
    const held = client.request('GET', '/v1/agent/rotations?wait=10', undefined, { timeoutMs: 30_000 });
    await waitFor(longPollsHeld, { what: 'the vault to hold the long-poll', timeoutMs: 8_000, intervalMs: 50, until: (n) => n >= 1, show: (n) => `${n} held` });
    const second = ca.issue();
    copyFileSync(second.certFile, certFile);
    copyFileSync(second.keyFile, keyFile);
    const reloads = (vault.proc.output().match(/TLS certificate reloaded/g) ?? []).length;
    vault.proc.proc.kill('SIGHUP');
    await vault.proc.waitFor(new RegExp(`(TLS certificate reloaded[\\s\\S]*){${reloads + 1}}`));
    const peer = await new Promise((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: vault.port, ca: [readText(ca.caFile)], servername: 'localhost' }, () => {
            const fp = s.getPeerCertificate().fingerprint256;
            s.end();
            resolve(fp);
        });
        s.on('error', reject);
    });
    assert.equal(peer, second.fingerprint256, 'a new connection sees the new certificate');
    assert.notEqual(peer, first.fingerprint256);
    const res = await held;
    assert.equal(res.status, 204, 'the long-poll opened before the reload ran to its end');
    assert.ok(Date.now() - started >= 9_500, 'it was held for its whole wait, not dropped and retried');
    assert.equal(await longPollsAnswered(), answeredBefore + 1, 'exactly one poll was answered meanwhile: the one held through the reload');
    client.close();
    // A broken replacement (a key that does not belong to the certificate) keeps the running one.
    copyFileSync(ca.issue().keyFile, keyFile);
    vault.proc.proc.kill('SIGHUP');
    await vault.proc.waitFor(/TLS certificate reload failed; the previous certificate stays in use/);
    const still = machineClient({ caFile: ca.caFile, pinSha256: second.spkiSha256 });
    assert.equal((await still.request('GET', '/v1/agent/rotations')).status, 204, 'still serving the second certificate');
    still.close();
    assert.equal(vault.proc.proc.exitCode, null);
});
//# sourceMappingURL=tls-clients.test.js.map