// High availability on PostgreSQL (issue "High availability"): two vault replicas — real
// `sikkerkey-vault serve` processes — on a throwaway PostgreSQL cluster of this test's own (so it
// may restart it), a TCP load balancer in front of them, a real agent process and the real Redis
// (REDIS_URL) as the rotated database. In order:
//   1. every captured signed request sent to both replicas at once is accepted exactly once;
//   2. policies due in the same instant, with both replicas' schedulers running: each rotation created once;
//   3. a canary read on replica A, then a read on replica B: refused (the lock is in the store);
//   4. an agent long-polling replica B is handed jobs created through replica A (the delay is reported);
//   5. replica A is SIGKILLed during a batch of rotations through the load balancer: every one ends
//      promoted or failed with a live credential that logs in;
//   6. PostgreSQL restarts: /readyz says not ready meanwhile, then reads and a rotation work again.
// `npm test` runs a short form; `npm run test:ha` the full one (SIKKERKEY_HA_SCALE=full).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { signRequest } from '../../protocol/signing.js';
import { VaultClient } from '../../protocol/client.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { writePrivateKeyFile } from '../../protocol/keys.js';
import type { IdentityKey } from '../../protocol/keys.js';
import type { RotationStatus } from '../../protocol/api-types.js';
import { openStore } from '../../vault-server/store/open-store.js';
import type { Store } from '../../vault-server/store/open-store.js';
import { scramCluster } from '../support/pg-scram-cluster.js';
import { startTestVault } from '../support/vault-app.js';
import { startBin } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';
import { assertReachable, freePort, parseServiceUrl, randomTag, redisUrl } from '../support/services.js';
import { sleep, waitFor } from '../support/wait.js';
import { loginWithFields } from '../support/engine-fixtures.js';

const FULL = process.env['SIKKERKEY_HA_SCALE'] === 'full';
const SCALE = FULL
  ? { replays: 1000, scheduled: 100, wakeups: 20, underKill: 20 }
  : { replays: 150, scheduled: 30, wakeups: 4, underKill: 6 };
const APPS = Math.max(SCALE.wakeups, SCALE.underKill);

const dir = mkdtempSync(join(tmpdir(), 'sk-ha-'));
const processes: RunningProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const p of processes.reverse()) await p.stop('SIGKILL');
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

/** A TCP load balancer: round robin over the replicas, the next one when a connect fails. */
function loadBalancer(ports: () => number[]): Promise<{ port: number; close(): void }> {
  let next = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    const backends = ports();
    const tryAt = (i: number, left: number): void => {
      if (left === 0) { client.destroy(); return; }
      const upstream = net.connect(backends[i % backends.length] as number, '127.0.0.1');
      upstream.once('connect', () => {
        sockets.add(upstream);
        upstream.on('close', () => { sockets.delete(upstream); client.destroy(); });
        client.on('close', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
      upstream.once('error', () => { if (!upstream.remoteAddress) tryAt(i + 1, left - 1); });
    };
    tryAt(next++, backends.length);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: (server.address() as net.AddressInfo).port,
    close: () => { for (const s of sockets) s.destroy(); server.close(); },
  })));
}

/** One raw request with exactly these headers (Host included), the status code back. */
function send(port: number, method: string, target: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const p99 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.99) - 1)] ?? 0;

test(`ha: two replicas on one PostgreSQL — replays, scheduling, canary, wake-ups, a replica killed, PostgreSQL restarted (${FULL ? 'full' : 'short form; npm run test:ha for the full one'})`, { timeout: FULL ? 600_000 : 240_000 }, async () => {
  // -- the world: PostgreSQL of our own, Redis users, the vault set up in-process ----------------
  await assertReachable('redis', redisUrl());
  const cluster = await scramCluster();
  cleanups.push(() => cluster.stop());
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query('CREATE DATABASE sikkerkey_ha');
  await admin.end();
  const dbUrl = cluster.url.replace(/\/postgres$/, '/sikkerkey_ha');

  const redisServer = parseServiceUrl(redisUrl());
  const redis = new Redis({ host: redisServer.host, port: redisServer.port, username: redisServer.username || undefined, password: redisServer.password || undefined, lazyConnect: true });
  await redis.connect();
  const tag = randomTag();
  const users = Array.from({ length: APPS }, (_, i) => `sk_ha_${tag}_${i}`);
  const adminUser = `sk_ha_${tag}_admin`;
  const adminPassword = `admin-${randomTag(12)}`;
  cleanups.push(async () => { await redis.call('ACL', 'DELUSER', adminUser, ...users).catch(() => undefined); redis.disconnect(); });
  await redis.call('ACL', 'SETUSER', adminUser, 'reset', 'on', `>${adminPassword}`, '+acl', '+config|get', '+info', '+ping');
  const base = { host: redisServer.host, port: String(redisServer.port) };
  const canLogIn = (user: string, password: string): Promise<boolean> => loginWithFields('redis', { ...base, username: user, password });

  const setupStore = await openStore({ databaseUrl: dbUrl });
  const v = await startTestVault(setupStore);
  const ok = async (method: string, target: string, body?: unknown): Promise<unknown> => {
    const r = await v.call(v.operator, method, target, body);
    assert.ok(r.status < 300, `${method} ${target}: ${r.status} ${r.raw}`);
    return r.body;
  };
  await ok('POST', '/v1/projects', { name: 'ha' });
  await ok('PUT', '/v1/projects/ha/secrets/admin', { fields: { ...base, username: adminUser, password: adminPassword } });
  const agentKey = await v.addMachine('agent1', ['rotator']);
  const reader = await v.addMachine('reader');
  await ok('POST', '/v1/grants', { machine: 'agent1', project: 'ha', secret: 'admin' });
  for (const [i, user] of users.entries()) {
    const password = `initial-${randomTag(12)}`;
    await redis.call('ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, '+ping');
    await ok('PUT', `/v1/projects/ha/secrets/app${i}`, { fields: { ...base, username: user, password } });
    await ok('POST', '/v1/grants', { machine: 'reader', project: 'ha', secret: `app${i}` });
    await ok('PUT', `/v1/projects/ha/secrets/app${i}/rotation`, { provider: 'redis', agentLabel: 'rotator', adminSecret: 'admin', driftInterval: 'off' });
  }
  // Scheduled policies no agent runs (label `nobody`): their rotations are created and stay pending.
  await ok('POST', '/v1/projects', { name: 'sched' });
  const dummy = { host: 'db.invalid', port: '5432', username: 'u', password: 'p-0123456789' };
  await ok('PUT', '/v1/projects/sched/secrets/admin', { fields: dummy });
  for (let i = 0; i < SCALE.scheduled; i++) {
    await ok('PUT', `/v1/projects/sched/secrets/s${i}`, { fields: dummy });
    await ok('PUT', `/v1/projects/sched/secrets/s${i}/rotation`, { provider: 'postgres', agentLabel: 'nobody', adminSecret: 'admin', schedule: '0 0 1 1 *' });
  }
  await ok('POST', '/v1/projects', { name: 'bait' });
  await ok('PUT', '/v1/projects/bait/secrets/plain', { value: 'plain-value' });
  await ok('POST', '/v1/projects/bait/canaries', { name: 'trap', value: 'trap-value' });
  await ok('POST', '/v1/grants', { machine: 'reader', project: 'bait' });
  // The machine that trips the canary is disabled by the trip; the reader is another one.
  const victim = await v.addMachine('victim');
  await ok('POST', '/v1/grants', { machine: 'victim', project: 'bait' });
  const operator = v.operator;
  const rootFile = join(dir, 'root.key');
  writeFileSync(rootFile, v.rootKey.toString('base64'), { mode: 0o600 });
  await v.close();
  await setupStore.close();

  // -- two replicas behind a load balancer -----------------------------------------------------------
  const ports = [await freePort(), await freePort()] as const;
  const lb = await loadBalancer(() => [...ports]);
  cleanups.push(() => lb.close());
  // Every replica answers to its own address and the load balancer's: a client signs the one it dials.
  const lbAuthority = `127.0.0.1:${lb.port}`;
  const replicas: RunningProcess[] = [];
  const startReplica = async (i: 0 | 1): Promise<RunningProcess> => {
    const port = ports[i];
    const p = startBin('sikkerkey-vault', ['serve', '--database-url', dbUrl, '--root-key-file', rootFile, '--listen', `127.0.0.1:${port}`,
      '--public-url', `http://127.0.0.1:${port}`, '--public-url', `http://${lbAuthority}`,
      '--workers', '1', '--rotation-lease', '3s', '--log-level', 'info']);
    processes.push(p);
    replicas[i] = p;
    await p.waitFor(/vault listening/);
    return p;
  };
  await Promise.all([startReplica(0), startReplica(1)]);
  const clients: VaultClient[] = [];
  cleanups.push(() => { for (const c of clients) c.close(); });
  const clientOf = (key: IdentityKey, port: number): VaultClient => {
    const c = new VaultClient({ url: `http://127.0.0.1:${port}`, key: { keyId: key.keyId, privateKey: key.privateKey }, timeoutMs: 30_000 });
    clients.push(c);
    return c;
  };
  const opA = clientOf(operator, ports[0]);
  const opLb = clientOf(operator, lb.port);

  // -- 1. replays: one signed request, both replicas at once ------------------------------------------
  let acceptedTwice = 0;
  let acceptedNever = 0;
  for (let i = 0; i < SCALE.replays; i++) {
    const headers = { ...signRequest({ method: 'GET', authority: lbAuthority, target: '/v1/projects' }, operator), host: lbAuthority };
    const codes = await Promise.all(ports.map((port) => send(port, 'GET', '/v1/projects', headers)));
    const accepted = codes.filter((c) => c === 200).length;
    if (accepted > 1) acceptedTwice += 1;
    if (accepted === 0) acceptedNever += 1;
  }
  assert.equal(acceptedTwice, 0, 'a signed request accepted by both replicas');
  assert.equal(acceptedNever, 0, 'a signed request refused by both replicas');

  // -- 2. policies due in the same instant, both schedulers running ----------------------------------
  const store: Store = await openStore({ databaseUrl: dbUrl }, { migrate: false });
  cleanups.push(() => store.close());
  const schedSecrets = store.db.selectFrom('secrets').innerJoin('projects', 'projects.id', 'secrets.project_id').select('secrets.id').where('projects.name', '=', 'sched');
  const dueAt = Date.now();
  await store.db.updateTable('rotation_policies').set({ next_run_at: dueAt }).where('secret_id', 'in', schedSecrets).where('schedule', 'is not', null).execute();
  const perSecret = async (): Promise<number[]> => (await store.db.selectFrom('rotations').select([(eb) => eb.fn.countAll().as('n')])
    .where('kind', '=', 'rotate').where('secret_id', 'in', schedSecrets).groupBy('secret_id').execute()).map((r) => Number(r.n));
  await waitFor(perSecret, { what: 'both schedulers to create the due rotations', timeoutMs: 60_000, intervalMs: 200, until: (n) => n.length >= SCALE.scheduled });
  await sleep(2500); // both schedulers tick every second: two more passes over the same due policies
  const created = await perSecret();
  assert.equal(created.length, SCALE.scheduled);
  const duplicates = created.filter((n) => n !== 1).length;
  assert.equal(duplicates, 0, 'a due policy rotated twice');

  // -- 3. a canary tripped on A is seen on B at once -------------------------------------------------
  const victimA = clientOf(victim, ports[0]);
  const readerB = clientOf(reader, ports[1]);
  await victimA.getSecret('bait', 'trap').catch(() => undefined);
  const onB = await readerB.getSecret('bait', 'plain').then(() => 'served', (err: unknown) => (isSikkerKeyError(err) ? err.code : String(err)));
  assert.equal(onB, 'SK_ERR_PROJECT_LOCKED', 'the read on B right after the trip on A');

  // -- 4. an agent long-polling B is handed jobs created through A -----------------------------------
  const agentKeyFile = join(dir, 'agent.key');
  writePrivateKeyFile(agentKeyFile, agentKey.privateKey);
  const startAgent = (vaultUrl: string, name: string): Promise<RunningProcess> => {
    const cfg = join(dir, `${name}.json`);
    writeFileSync(cfg, JSON.stringify({ vaultUrl, keyFile: agentKeyFile, health: { listen: '127.0.0.1:0' }, pollWaitSeconds: 30, concurrency: 8, log: { level: 'info' } }));
    const a = startBin('sikkerkey-agent', ['run', '--config', cfg]);
    processes.push(a);
    return a.waitFor(/agent started/).then(() => a);
  };
  const agentB = await startAgent(`http://127.0.0.1:${ports[1]}`, 'agent-b');
  const preflights = store.db.selectFrom('rotations').select('state').where('kind', '=', 'preflight').where('secret_id', 'not in', schedSecrets);
  await waitFor(() => preflights.execute(), { what: 'the preflights of the ha policies', timeoutMs: 60_000, intervalMs: 200, until: (rows) => rows.length === APPS && rows.every((r) => r.state === 'preflight_passed') });
  // Let B's poll settle into waiting: a job it finds on its own re-check would not be a wake-up.
  await sleep(500);
  const wakeups: number[] = [];
  for (let i = 0; i < SCALE.wakeups; i++) {
    const { body } = await opA.request<{ id: string }>('POST', `/v1/projects/ha/secrets/app${i}/rotation/run`);
    const row = await waitFor(() => store.db.selectFrom('rotations').select(['state', 'created_at', 'claimed_at']).where('id', '=', body.id).executeTakeFirstOrThrow(),
      { what: `rotation ${i} to be claimed through B`, timeoutMs: 30_000, intervalMs: 20, until: (r) => r.claimed_at !== null });
    wakeups.push(Number(row.claimed_at) - Number(row.created_at));
    await waitFor(() => store.db.selectFrom('rotations').select('state').where('id', '=', body.id).executeTakeFirstOrThrow(),
      { what: `rotation ${i} to finish`, timeoutMs: 30_000, intervalMs: 50, until: (r) => r.state === 'promoted' });
    await sleep(300);
  }
  await agentB.stop();

  // -- 5. replica A killed during a batch of rotations through the load balancer ---------------------
  await startAgent(`http://127.0.0.1:${lb.port}`, 'agent-lb');
  const retrying = async <T>(what: string, call: () => Promise<T>): Promise<T> =>
    waitFor(call, { what, timeoutMs: 60_000, intervalMs: 200, retryOn: true });
  const runIds = await Promise.all(Array.from({ length: SCALE.underKill }, (_, i) =>
    retrying(`rotation run app${i}`, async () => (await opLb.request<{ id: string }>('POST', `/v1/projects/ha/secrets/app${i}/rotation/run`)).body.id)));
  await sleep(150);
  await replicas[0]?.stop('SIGKILL');
  await sleep(1000);
  await startReplica(0);
  const FINISHED = new Set(['promoted', 'failed']);
  let lost = 0;
  for (const [i, id] of runIds.entries()) {
    const st = await waitFor(() => retrying('rotation status', async () => (await opLb.request<RotationStatus>('GET', `/v1/projects/ha/secrets/app${i}/rotation?rotation=${id}`)).body),
      { what: `rotation app${i} to end`, timeoutMs: 90_000, intervalMs: 250, until: (s) => FINISHED.has(s.state) });
    const live = await retrying('the live value', () => clientOf(reader, lb.port).getSecret('ha', `app${i}`));
    if (!FINISHED.has(st.state) || !(await canLogIn(users[i] as string, live.fields?.['password'] ?? ''))) lost += 1;
  }
  assert.equal(lost, 0, 'a rotation under a replica kill ended without a working live credential');

  // -- 6. PostgreSQL restarts ---------------------------------------------------------------------------
  const readyz = (port: number): Promise<number> => fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status, () => 0);
  let notReadySeen = false;
  const restarting = cluster.restart({ downMs: 2000 });
  const watching = (async () => {
    const end = Date.now() + 10_000;
    while (Date.now() < end && !notReadySeen) {
      if ((await readyz(ports[1])) === 503) notReadySeen = true;
      await sleep(100);
    }
  })();
  await restarting;
  await watching;
  assert.equal(notReadySeen, true, '/readyz said ready all through a PostgreSQL restart');
  await waitFor(() => Promise.all(ports.map(readyz)), { what: 'both replicas ready again', timeoutMs: 30_000, intervalMs: 200, until: (codes) => codes.every((c) => c === 200) })
    .catch((err: unknown) => {
      // Say what each replica was doing: its exit and the end of its log (no credential is logged: checked below).
      const state = replicas.map((r, i) => `replica ${i}: exit ${String(r?.proc.exitCode ?? r?.proc.signalCode ?? 'none')}\n${(r?.output() ?? '').split('\n').slice(-25).join('\n')}`);
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${state.join('\n')}`, { cause: err });
    });
  // Ready again by surviving, not by being started again: a replica whose queries broke under it
  // fails them (SK_ERR_STORE) and goes on.
  for (const [i, r] of replicas.entries()) {
    assert.equal(r.proc.exitCode ?? r.proc.signalCode, null, `replica ${i} exited during the PostgreSQL restart:\n${r.output().split('\n').slice(-25).join('\n')}`);
  }
  const again = await retrying('a rotation after the restart', async () => (await opLb.request<{ id: string }>('POST', '/v1/projects/ha/secrets/app0/rotation/run')).body.id);
  const after = await waitFor(() => retrying('rotation status', async () => (await opLb.request<RotationStatus>('GET', `/v1/projects/ha/secrets/app0/rotation?rotation=${again}`)).body),
    { what: 'the rotation after the restart', timeoutMs: 60_000, intervalMs: 250, until: (s) => FINISHED.has(s.state) });
  assert.equal(after.state, 'promoted', `after the PostgreSQL restart: ${JSON.stringify(after.lastError)}`);
  const live = await retrying('a read after the restart', () => clientOf(reader, lb.port).getSecret('ha', 'app0'));
  assert.equal(await canLogIn(users[0] as string, live.fields?.['password'] ?? ''), true);

  for (const p of processes) for (const value of [adminPassword, live.fields?.['password'] ?? '§']) assert.equal(p.output().includes(value), false, 'no credential in a log');
  console.log(`ha: ${SCALE.replays} replays ${acceptedTwice} accepted twice, ${SCALE.scheduled} rotations ${duplicates} duplicates, canary seen on B, wake-up p99 ${p99(wakeups)} ms, ${SCALE.underKill} rotations under replica kill ${lost} lost`);
});
