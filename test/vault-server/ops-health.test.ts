// Operational endpoints: /healthz, /readyz (store reachable, migrations current, root key loaded),
// /metrics (Prometheus text, no key ids or secrets), and the drain on close (503 + Retry-After).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { forEachStore, tempPgDatabase } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import { startVaultProcess } from '../support/vault-process.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { parsePrometheusText } from '../support/prom-text.js';
import { waitFor } from '../support/wait.js';
import { buildApp } from '../../vault-server/app.js';
import { Keyring } from '../../vault-server/crypto/keyring.js';
import { createLogger } from '../../vault-server/logging.js';
import type { IdentityKey } from '../../protocol/keys.js';

test('/readyz turns not-ready while the PostgreSQL store is cut off and ready again when it returns; /healthz stays 200', async () => {
  const db = await tempPgDatabase();
  const real = new URL(db.location.databaseUrl);
  const proxy = await startRecordingProxy({ target: { host: real.hostname, port: Number(real.port || 5432) } });
  const viaProxy = new URL(real);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const vault = await startVaultProcess({ databaseUrl: viaProxy.toString() });
  try {
    const ready = await vault.get('/readyz');
    assert.equal(ready.status, 200, ready.body);
    assert.deepEqual(JSON.parse(ready.body), { status: 'ready', checks: { store: 'ok', migrations: 'current', rootKey: 'loaded' } });

    // A connection that breaks while a query is in flight on it (checked out of the pool) must
    // fail that query, not the process: hold the store's answer to a ping, then cut.
    const sent = proxy.fromClients().length;
    proxy.stall();
    const inFlight = vault.get('/readyz');
    await waitFor(() => proxy.fromClients().length > sent, { what: 'the ping to reach the store', timeoutMs: 10_000, intervalMs: 20 });
    proxy.cut();
    assert.equal((await inFlight).status, 503, 'the ping whose connection broke answers not-ready');
    assert.equal(vault.proc.proc.exitCode, null, 'the vault survives a store connection that breaks mid-query');
    const cut = await vault.get('/readyz');
    assert.equal(cut.status, 503, cut.body);
    const body = JSON.parse(cut.body) as { status: string; checks: { store: string }; error: { code: string; message: string } };
    assert.equal(body.status, 'not-ready');
    assert.equal(body.checks.store, 'unreachable');
    assert.equal(body.error.code, 'SK_ERR_STORE');
    assert.equal(cut.body.includes(String(proxy.port)), false, 'no driver detail (address, port) in an unauthenticated answer');
    assert.equal((await vault.get('/healthz')).status, 200, 'the process is up even when the store is not');
    const scrape = await vault.get('/metrics');
    assert.equal(scrape.status, 200, 'metrics still answer without the store');
    parsePrometheusText(scrape.body);

    proxy.restore();
    await waitFor(() => vault.get('/readyz'), {
      what: '/readyz to answer 200 again after the store came back', timeoutMs: 30_000, intervalMs: 250,
      until: (r) => r.status === 200, show: (r) => `${r.status} ${r.body}`,
    });
    assert.equal(vault.proc.proc.exitCode, null, 'the vault kept running through the outage');
  } finally {
    await vault.close();
    await proxy.close();
    await db.remove();
  }
});

/** Long-polls the in-process vault holds open right now (its own gauge). */
async function longPollsHeld(v: TestVault): Promise<number> {
  return parsePrometheusText((await v.send('GET', '/metrics', {})).raw).get('sikkerkey_agent_long_polls_held')?.samples[0]?.value ?? 0;
}

forEachStore('operational endpoints', (s) => {
  let v: TestVault;
  let agent: IdentityKey;
  const op = (): IdentityKey => v.operator;
  const live = { host: 'db.internal', port: '5432', username: 'app', password: `live-${randomBytes(6).toString('hex')}`, database: 'app' };

  before(async () => {
    v = await startTestVault(await s.open());
    await v.call(op(), 'POST', '/v1/projects', { name: 'p' });
    await v.call(op(), 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...live, username: 'admin', password: `admin-${randomBytes(6).toString('hex')}` } });
    await v.call(op(), 'PUT', '/v1/projects/p/secrets/db', { fields: live });
    agent = await v.addMachine('agent', ['rotator']);
    await v.call(op(), 'POST', '/v1/grants', { machine: 'agent', project: 'p', secret: 'admin' });
    const pol = await v.call(op(), 'PUT', '/v1/projects/p/secrets/db/rotation', { provider: 'postgres', agentLabel: 'rotator', adminSecret: 'admin' });
    assert.equal(pol.status, 200, pol.raw);
  });
  after(async () => v.close());

  test('/readyz names the three checks; a pending migration makes it not-ready', async () => {
    const ok = await v.send('GET', '/readyz', {});
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { status: 'ready', checks: { store: 'ok', migrations: 'current', rootKey: 'loaded' } });
    // Take one migration's record away: the store now has a migration this vault has not applied.
    const last = await v.ctx.store.db.selectFrom('kysely_migration' as never).select('name' as never).orderBy('name' as never, 'desc').executeTakeFirstOrThrow() as { name: string };
    await v.ctx.store.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', last.name as never).execute();
    try {
      const pending = await v.send('GET', '/readyz', {});
      assert.equal(pending.status, 503);
      assert.deepEqual((pending.body as { checks: unknown }).checks, { store: 'ok', migrations: 'pending', rootKey: 'loaded' });
      assert.equal((pending.body as { error: { code: string } }).error.code, 'SK_ERR_STORE');
    } finally {
      await v.ctx.store.db.insertInto('kysely_migration' as never).values({ name: last.name, timestamp: new Date().toISOString() } as never).execute();
    }
    assert.equal((await v.send('GET', '/readyz', {})).status, 200);
  });

  test('/readyz is not-ready when the root key in memory does not open this store', async () => {
    const wrong = await buildApp({ store: v.ctx.store, keyring: new Keyring(randomBytes(32)), log: createLogger({ level: 'silent' }), authorities: ['vault.test:8200'] });
    try {
      const res = await wrong.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(res.statusCode, 503);
      const body = JSON.parse(res.body) as { checks: { rootKey: string }; error: { code: string } };
      assert.equal(body.checks.rootKey, 'mismatch');
      assert.equal(body.error.code, 'SK_ERR_ROOT_KEY_WRONG');
    } finally {
      await wrong.app.close();
    }
  });

  test('/metrics is Prometheus text with requests, auth failures, verify time, store latency, rotations, long-polls and canary trips — and no key id or secret', async () => {
    // Traffic for every family: a signed read, a refused signature, a held long-poll (a machine no
    // job is for: the policy's preflight job is the agent's), the preflight job in the store.
    assert.equal((await v.call(op(), 'GET', '/v1/projects')).status, 200);
    const forged = v.sign(op(), 'GET', '/v1/projects');
    assert.equal((await v.send('GET', '/v1/projects', { ...forged.headers, signature: forged.headers.signature?.replace(/:[A-Za-z0-9+/]{8}/, ':AAAAAAAA') ?? '' })).status, 401);
    const idle = await v.addMachine('idle');
    const poll = v.call(idle, 'GET', '/v1/agent/rotations?wait=5');
    // the held long-poll is counted (waited for: it takes the request a moment to get there)
    await waitFor(() => longPollsHeld(v), { what: 'the held long-poll to be counted', timeoutMs: 4_000, intervalMs: 25, until: (n) => n === 1, show: (n) => `${n} held` });
    assert.equal((await poll).status, 204);
    assert.equal((await v.call(agent, 'GET', '/v1/agent/rotations')).status, 200, 'the agent has a job (the preflight)');

    const res = await v.send('GET', '/metrics', {});
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(res.raw);
    const requests = families.get('sikkerkey_http_requests_total');
    assert.equal(requests?.type, 'counter');
    assert.ok(requests.samples.some((x) => x.labels.route === '/v1/projects' && x.labels.status === '200'));
    assert.ok(requests.samples.some((x) => x.labels.route === '/v1/projects/:project/secrets/:name/rotation'), 'routes are templates, not raw paths');
    assert.ok(families.get('sikkerkey_auth_failures_total')?.samples.some((x) => x.labels.code === 'SK_ERR_SIGNATURE_INVALID' && x.value >= 1));
    assert.equal(families.get('sikkerkey_signature_verify_seconds')?.type, 'histogram');
    assert.ok((families.get('sikkerkey_signature_verify_seconds')?.samples.find((x) => x.name === 'sikkerkey_signature_verify_seconds_count')?.value ?? 0) >= 1);
    const store = families.get('sikkerkey_store_transaction_seconds');
    assert.equal(store?.type, 'histogram');
    assert.ok((store.samples.find((x) => x.name.endsWith('_count') && x.labels.outcome === 'commit')?.value ?? 0) >= 1);
    const jobs = families.get('sikkerkey_rotation_jobs');
    assert.equal(jobs?.type, 'gauge');
    assert.ok((jobs.samples.find((x) => x.labels.state === 'pending')?.value ?? 0) >= 1, JSON.stringify(jobs.samples));
    assert.equal(families.get('sikkerkey_agent_long_polls_held')?.samples[0]?.value, 0, 'released again');
    assert.equal(families.get('sikkerkey_canary_trips_total')?.type, 'counter');
    assert.ok(families.get('sikkerkey_rotations_total'));

    for (const secret of [op().keyId, agent.keyId, idle.keyId, live.password, 'admin-']) {
      assert.equal(res.raw.includes(secret), false, 'no key id and no secret value in /metrics');
    }
  });

  test('docs/operations.md lists exactly the metric families /metrics serves', async () => {
    const served = [...parsePrometheusText((await v.send('GET', '/metrics', {})).raw).keys()].filter((n) => !n.startsWith('sikkerkey_vault_'));
    const doc = readFileSync('docs/operations.md', 'utf8');
    const documented = [...doc.matchAll(/^\| `(sikkerkey_[a-z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual([...documented].sort(), [...served].sort());
  });

  test('/metrics can be switched off; /healthz and /readyz stay', async () => {
    const off = await buildApp({ store: v.ctx.store, keyring: v.ctx.keyring, log: createLogger({ level: 'silent' }), authorities: ['vault.test:8200'], metricsEndpoint: false });
    try {
      assert.equal((await off.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
      assert.equal((await off.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      assert.equal((await off.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    } finally {
      await off.app.close();
    }
  });

  test('closing the app answers a held long-poll 503 SK_ERR_UNAVAILABLE with Retry-After, well before its wait ends', async () => {
    const other = await startTestVault(await s.openAt(await s.freshLocation()));
    const m = await other.addMachine('waiter');
    const poll = other.call(m, 'GET', '/v1/agent/rotations?wait=30');
    await waitFor(() => longPollsHeld(other), { what: 'the long-poll to be held', timeoutMs: 20_000, intervalMs: 25, until: (n) => n === 1, show: (n) => `${n} held` });
    const started = Date.now();
    const closing = other.app.close();
    const res = await poll;
    // Milliseconds in practice; generous for a shared machine and still far from the 30 s wait.
    assert.ok(Date.now() - started < 15_000, 'answered when the close began, not when the wait ran out');
    assert.equal(res.status, 503, res.raw);
    assert.equal((res.body as { error: { code: string } }).error.code, 'SK_ERR_UNAVAILABLE');
    assert.equal(res.headers['retry-after'], '2');
    await closing;
  });
});

test('the exposition parser these tests use rejects what Prometheus would reject', () => {
  const ok = '# HELP a_total A\n# TYPE a_total counter\na_total{route="/x",code="y\\"z"} 3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n';
  assert.equal(parsePrometheusText(ok).get('a_total')?.samples[0]?.labels.code, 'y"z');
  const bad = [
    ['no final newline', ok.trimEnd()],
    ['a value that is no float', '# TYPE a gauge\na 1,5\n'],
    ['an unquoted label value', '# TYPE a gauge\na{x=1} 1\n'],
    ['a bad metric name', '# TYPE 1a gauge\n1a 1\n'],
    ['a sample without TYPE', 'a 1\n'],
    ['TYPE after its samples', '# TYPE a gauge\na 1\n# TYPE a gauge\n'],
    ['buckets that are not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n'],
    ['+Inf bucket unlike _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
  ];
  for (const [what, text] of bad) assert.throws(() => parsePrometheusText(text as string), Error, what);
});
