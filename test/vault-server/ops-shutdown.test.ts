// How a real `sikkerkey-vault serve` process starts and stops: graceful SIGTERM (held long-polls
// answered 503 + Retry-After, in-flight requests finish, bounded), a second SIGTERM exits without
// waiting out the drain, SIGHUP does not end it, --insecure-listen warns at each start, and a
// unix-socket listener.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVaultProcess, initVaultStore } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';
import { jsonOf, runBin, startBin } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';
import { VaultClient } from '../../protocol/client.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import type { IdentityKey } from '../../protocol/keys.js';
import { signRequest } from '../../protocol/signing.js';
import { parsePrometheusText } from '../support/prom-text.js';
import { waitFor } from '../support/wait.js';

let vault: VaultProcess;
let agentKey: Pick<IdentityKey, 'keyId' | 'privateKey'>;
let idleKey: Pick<IdentityKey, 'keyId' | 'privateKey'>;
const db = { host: 'db.internal', port: '5432', username: 'app', password: 'not-a-real-password-1', database: 'app' };

async function machine(name: string, labels: string[] = []): Promise<Pick<IdentityKey, 'keyId' | 'privateKey'>> {
  const file = join(vault.dir, `${name}.key`);
  const pub = jsonOf<{ publicKey: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', file, '--json']));
  jsonOf(await vault.sk(['machine', 'add', name, '--public-key', pub.publicKey, ...labels.flatMap((l) => ['--label', l]), '--json']));
  const id = readPrivateKeyFile(file);
  return { keyId: id.keyId, privateKey: id.privateKey };
}

/** A signed request on its own connection (or `agent`'s): status, headers and body, never thrown. */
function signed(key: Pick<IdentityKey, 'keyId' | 'privateKey'>, method: string, path: string, body?: unknown, agent: http.Agent | false = false): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string } | { error: string }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers = signRequest({ method, authority: `127.0.0.1:${vault.port}`, target: path, body: payload, contentType: payload ? 'application/json' : undefined }, key);
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: vault.port, method, path, agent, headers: { ...headers, ...(payload ? { 'content-length': String(payload.length) } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(payload);
  });
}

/** The process's exit code, once it exits by itself (never kills it). */
function exitCode(p: RunningProcess, timeoutMs = 15_000): Promise<number | null> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return Promise.resolve(p.proc.exitCode);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the vault did not exit')), timeoutMs);
    p.proc.once('exit', (c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
}

/**
 * Runs a rotation up to the agent's confirm, which the vault holds at its fault point (committed,
 * not yet answered); the confirm goes through `agent` (a kept-alive connection, as the real agent's).
 */
async function confirmHeldInFlight(agent: http.Agent | false = false): Promise<{ id: string; confirm: ReturnType<typeof signed> }> {
  const op = new VaultClient({ url: vault.url, keyFile: vault.opKey, env: {} });
  const run = await op.request<{ id: string }>('POST', '/v1/projects/p/secrets/db/rotation/run');
  op.close();
  const claim = await signed(agentKey, 'POST', `/v1/agent/rotations/${run.body.id}/claim`);
  assert.ok('status' in claim && claim.status === 200, JSON.stringify(claim));
  const fence = (JSON.parse(claim.body) as { fence: number }).fence;
  const applied = await signed(agentKey, 'POST', `/v1/agent/rotations/${run.body.id}/applied`, { fence });
  assert.ok('status' in applied && applied.status === 200, JSON.stringify(applied));
  const reached = (vault.proc.output().match(/fault point reached: vault-after-confirm-commit/g) ?? []).length;
  const confirm = signed(agentKey, 'POST', `/v1/agent/rotations/${run.body.id}/confirm`, { fence }, agent);
  await vault.proc.waitFor(new RegExp(`(fault point reached: vault-after-confirm-commit[\\s\\S]*){${reached + 1}}`));
  return { id: run.body.id, confirm };
}

before(async () => {
  vault = await startVaultProcess({ env: { SIKKERKEY_FAULT_PAUSE_AT: 'vault-after-confirm-commit' } });
  const must = async (args: string[]): Promise<void> => { jsonOf(await vault.sk([...args, '--json'])); };
  await must(['project', 'create', 'p']);
  await must(['secret', 'set', 'p', 'admin', '--fields-json', JSON.stringify({ ...db, username: 'admin', password: 'not-a-real-admin-password' })]);
  await must(['secret', 'set', 'p', 'db', '--fields-json', JSON.stringify(db)]);
  agentKey = await machine('agent', ['rotator']);
  idleKey = await machine('idle');
  await must(['grant', 'add', 'agent', '--project', 'p', '--secret', 'admin']);
  await must(['rotation', 'set', 'p', 'db', '--provider', 'postgres', '--agent-label', 'rotator', '--admin-secret', 'admin']);
  // Answer the policy's preflight job, so rotations can run.
  const poll = await signed(agentKey, 'GET', '/v1/agent/rotations');
  assert.ok('status' in poll && poll.status === 200, JSON.stringify(poll));
  const job = (JSON.parse(poll.body) as { jobs: Array<{ id: string }> }).jobs[0] as { id: string };
  const claim = await signed(agentKey, 'POST', `/v1/agent/rotations/${job.id}/claim`);
  assert.ok('status' in claim);
  const fence = (JSON.parse(claim.body) as { fence: number }).fence;
  const done = await signed(agentKey, 'POST', `/v1/agent/rotations/${job.id}/preflight`, { fence, ok: true, problems: [] });
  assert.ok('status' in done && done.status === 200, JSON.stringify(done));
});
after(async () => vault?.close());

/** Long-polls the vault holds open right now (its own gauge). */
async function longPollsHeld(): Promise<number> {
  return parsePrometheusText((await vault.get('/metrics')).body).get('sikkerkey_agent_long_polls_held')?.samples[0]?.value ?? 0;
}

test('SIGTERM: a held long-poll gets 503 + Retry-After well before its wait ends, the in-flight confirm finishes, then the vault exits 0', async () => {
  // The confirm rides a kept-alive connection: its answer must close it, or the drain would wait
  // for that idle connection until --shutdown-timeout and exit non-zero.
  const keepAlive = new http.Agent({ keepAlive: true });
  const { confirm } = await confirmHeldInFlight(keepAlive);
  const poll = signed(idleKey, 'GET', '/v1/agent/rotations?wait=30');
  await waitFor(longPollsHeld, { what: 'the vault to hold the idle machine\'s long-poll', timeoutMs: 20_000, intervalMs: 50, until: (n) => n >= 1, show: (n) => `${n} held` });
  const signalled = Date.now();
  vault.proc.proc.kill('SIGTERM');
  const answered = await poll;
  assert.ok('status' in answered, JSON.stringify(answered));
  assert.equal(answered.status, 503);
  assert.equal(answered.headers['retry-after'], '2');
  assert.equal((JSON.parse(answered.body) as { error: { code: string } }).error.code, 'SK_ERR_UNAVAILABLE');
  // Generous for a shared machine (it takes milliseconds), and still far from the poll's own 30 s.
  assert.ok(Date.now() - signalled < 15_000, 'the long-poll was released by the shutdown, not by its 30 s wait');
  await vault.proc.waitFor(/shutting down/);
  // The log line comes just before the listener closes: a connection the kernel took into the
  // backlog in between is reset (ECONNRESET) rather than refused, so look until one is refused.
  const refused = await waitFor(() => signed(idleKey, 'GET', '/healthz'), {
    what: 'a new connection to be refused', timeoutMs: 10_000, intervalMs: 50,
    until: (r) => 'error' in r && r.error === 'ECONNREFUSED', show: (r) => JSON.stringify(r).slice(0, 200),
  });
  assert.deepEqual(refused, { error: 'ECONNREFUSED' }, 'no new connections are accepted');
  assert.equal(vault.proc.proc.exitCode, null, 'still draining: the confirm is in flight');

  vault.proc.proc.kill('SIGUSR2'); // let the held confirm go on
  const confirmed = await confirm;
  assert.ok('status' in confirmed, JSON.stringify(confirmed));
  assert.equal(confirmed.status, 200, confirmed.body);
  assert.equal((JSON.parse(confirmed.body) as { state: string }).state, 'promoted');
  assert.equal(confirmed.headers.connection, 'close', 'the answer sent while draining closes its connection');
  const released = Date.now();
  assert.equal(await exitCode(vault.proc), 0, 'exited by itself, cleanly');
  assert.ok(Date.now() - released < 3000, 'at once, not after the shutdown timeout');
  assert.match(vault.proc.output(), /"clean":true.*"msg":"vault stopped"/);
  keepAlive.destroy();
});

test('a request still in flight when --shutdown-timeout runs out is cut, the vault exits non-zero, and what it committed survives', async () => {
  await vault.restart({ args: ['--shutdown-timeout', '1s'] });
  const { id, confirm } = await confirmHeldInFlight();
  const signalled = Date.now();
  vault.proc.proc.kill('SIGTERM');
  const cut = await confirm;
  assert.ok('error' in cut, `the held request's connection was closed (${JSON.stringify(cut)})`);
  const code = await exitCode(vault.proc);
  const took = Date.now() - signalled;
  assert.equal(code, 1);
  // Not before the 1 s bound; the upper end is only generous (10×): without the bound the held
  // confirm never ends, and exitCode() gives up after 15 s.
  assert.ok(took >= 900 && took < 10_000, `exited after the bound (${took} ms)`);
  assert.match(vault.proc.output(), /in-flight requests did not finish in time/);

  await vault.restart();
  const op = new VaultClient({ url: vault.url, keyFile: vault.opKey, env: {} });
  const status = await op.request<{ state: string }>('GET', `/v1/projects/p/secrets/db/rotation?rotation=${id}`);
  op.close();
  assert.equal(status.body.state, 'promoted', 'the confirm had committed before the cut');
});

test('a second SIGTERM exits without waiting out the drain (--shutdown-timeout 60s)', async () => {
  assert.equal(await vault.proc.stop('SIGTERM'), 0);
  await vault.restart({ args: ['--shutdown-timeout', '60s'] });
  const { confirm } = await confirmHeldInFlight();
  vault.proc.proc.kill('SIGTERM');
  await vault.proc.waitFor(/shutting down/);
  const second = Date.now();
  const exited = exitCode(vault.proc, 30_000);
  vault.proc.proc.kill('SIGTERM');
  assert.equal(await exited, 1);
  // Milliseconds in practice; the bound is generous for a shared machine and still half the drain's 60 s.
  assert.ok(Date.now() - second < 30_000, 'it did not wait for the drain');
  assert.match(vault.proc.output(), /second signal: exiting now/);
  await confirm;
  await vault.restart();
});

test('SIGHUP without TLS is logged and ignored: the vault keeps serving', async () => {
  vault.proc.proc.kill('SIGHUP');
  await vault.proc.waitFor(/SIGHUP: no TLS certificate to reload/);
  assert.equal((await vault.get('/healthz')).status, 200);
  assert.equal(vault.proc.proc.exitCode, null);
});

test('--insecure-listen on a non-loopback address logs its warning at every start', async () => {
  const open = await startVaultProcess({ listen: '0.0.0.0:0', args: ['--insecure-listen'] });
  try {
    const warning = /"level":40.*--insecure-listen: serving plain HTTP on 0\.0\.0\.0:\d+/;
    assert.match(open.proc.output(), warning);
    assert.equal((await open.get('/healthz')).status, 200);
    await open.proc.stop('SIGTERM');
    await open.restart();
    assert.match(open.proc.output(), warning, 'again on the next start');
  } finally {
    await open.close();
  }
});

test('--listen unix:PATH serves plain HTTP on a socket, and clients reach it with a unix: URL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-unix-'));
  const sock = join(dir, 'vault.sock');
  const { opKey, rootKeyFile, storeArgs } = await initVaultStore(dir);
  const proc = startBin('sikkerkey-vault', ['serve', ...storeArgs, '--root-key-file', rootKeyFile, '--listen', `unix:${sock}`]);
  try {
    await proc.waitFor(/"url":"unix:/);
    const r = await runBin('sikkerkey', ['project', 'create', 'sock', '--json'], { env: { SIKKERKEY_URL: `unix:${sock}`, SIKKERKEY_KEY_FILE: opKey } });
    assert.equal(r.code, 0, r.stderr);
    const client = new VaultClient({ url: `unix:${sock}`, keyFile: opKey, env: {} });
    const err = await client.request('GET', '/v1/agent/rotations').catch((e: unknown) => e);
    assert.ok(isSikkerKeyError(err, 'SK_ERR_SIGNATURE_UNKNOWN_KEY'), 'answered over the socket (an operator is no machine)');
    client.close();
  } finally {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
