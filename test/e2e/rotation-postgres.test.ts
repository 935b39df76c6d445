// Rotation end to end on PostgreSQL: a real vault process, real agent processes and a throwaway
// cluster that enforces scram-sha-256 passwords (the machine's own PostgreSQL trusts every login,
// so it could not tell the old password from the new).
import { test, before, after } from 'node:test';
import { loginWithFields } from '../support/engine-fixtures.js';
import assert from 'node:assert/strict';
import pg from 'pg';
import { scramCluster } from '../support/pg-scram-cluster.js';
import type { ScramCluster } from '../support/pg-scram-cluster.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import { jsonOf } from '../support/processes.js';
import { sleep, waitFor } from '../support/wait.js';

let cluster: ScramCluster;
let h: RotationHarness;
const ROLE = 'app_rot_e2e';
const INITIAL = 'initial-password-0001';

/** A fresh login to the scram cluster (refused: false). */
function login(user: string, password: string): Promise<boolean> {
  return loginWithFields('postgres', { host: cluster.host, port: String(cluster.port), database: 'postgres', username: user, password });
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

async function status(): Promise<{ state: string; version: number | null; lastError: { code: string; message: string } | null; latencyMs: number | null }> {
  return jsonOf(await h.sk(['rotation', 'status', 'db', 'app', '--json']));
}

async function waitForState(states: string[], timeoutMs = 60_000): Promise<string> {
  const s = await waitFor(status, {
    what: `the rotation to be ${states.join(' or ')}`, timeoutMs, intervalMs: 200, until: (x) => states.includes(x.state),
    show: (x) => `${x.state} (${x.lastError ? `${x.lastError.code}: ${x.lastError.message}` : 'no error'})`,
  });
  return s.state;
}

before(async () => {
  cluster = await scramCluster();
  await admin(async (c) => {
    await c.query(`DROP ROLE IF EXISTS ${ROLE}`);
    await c.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD ${c.escapeLiteral(INITIAL)}`);
    await c.query('DROP ROLE IF EXISTS sk_rot_admin');
    await c.query(`CREATE ROLE sk_rot_admin LOGIN CREATEROLE PASSWORD ${c.escapeLiteral('admin-password-0001')}`);
  });
  const base = { host: cluster.host, port: String(cluster.port), database: 'postgres', tls: 'disable' };
  h = await startRotationHarness({
    engine: 'postgres',
    target: { ...base, username: ROLE, password: INITIAL },
    admin: { ...base, username: 'sk_rot_admin', password: 'admin-password-0001' },
  });
});
after(async () => {
  await h?.close();
  await admin((c) => c.query(`DROP ROLE IF EXISTS ${ROLE}`)).catch(() => undefined);
});

test('twenty rotations in a row are each promoted; the value machines read logs in and the old one does not', async () => {
  const agent = await h.startAgent();
  let previous = (await h.read()).fields.password as string;
  assert.equal(await login(ROLE, previous), true, 'the initial password logs in');
  for (let i = 1; i <= 20; i++) {
    const r = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--json']);
    assert.equal(r.code, 0, `rotation ${i}: ${r.stdout} ${r.stderr}`);
    const st = JSON.parse(r.stdout) as { state: string; latencyMs: number };
    assert.equal(st.state, 'promoted');
    const now = (await h.read()).fields.password as string;
    assert.notEqual(now, previous);
    assert.equal(await login(ROLE, now), true, `rotation ${i}: the promoted value logs in`);
    assert.equal(await login(ROLE, previous), false, `rotation ${i}: the old value is refused`);
    previous = now;
  }
  assert.equal(agent.output().includes(previous), false, 'no password in the agent log');
  assert.equal(h.vault.output().includes(previous), false, 'no password in the vault log');
  await agent.stop();
});

test('while a rotation is claimed and applied, machines still read the previous value; after promotion the new one', async () => {
  const before = await h.read();
  const paused = await h.startAgent({ faultAt: 'after-applied' });
  const run = await h.sk(['rotation', 'run', 'db', 'app', '--json']);
  assert.equal(run.code, 0, run.stderr);
  await paused.waitFor(/fault point reached: after-applied/);
  // The database already holds the pending password; the vault still serves the live one.
  const during = await h.read();
  assert.equal(during.version, before.version);
  assert.equal(during.fields.password, before.fields.password);
  paused.proc.kill('SIGUSR2');
  assert.equal(await waitForState(['promoted', 'failed', 'stuck']), 'promoted');
  const afterwards = await h.read();
  assert.ok(afterwards.version > before.version);
  assert.equal(await login(ROLE, afterwards.fields.password as string), true);
  await paused.stop();
});

test('an agent SIGKILLed after changing the password but before reporting applied: the next one reconciles and promotes', async () => {
  const before = await h.read();
  const doomed = await h.startAgent({ faultAt: 'after-update' });
  assert.equal((await h.sk(['rotation', 'run', 'db', 'app', '--json'])).code, 0);
  await doomed.waitFor(/fault point reached: after-update/);
  await doomed.stop('SIGKILL');
  // The database now holds a password the vault has not promoted; the live one no longer logs in.
  assert.equal(await login(ROLE, before.fields.password as string), false);
  const rescuer = await h.startAgent();
  assert.equal(await waitForState(['promoted', 'failed', 'stuck']), 'promoted');
  const now = await h.read();
  assert.equal(await login(ROLE, now.fields.password as string), true, 'the live credential works after recovery');
  assert.match(rescuer.output(), /reconciling a rotation an earlier claim may have applied/);
  await rescuer.stop();
});

test('a wrong admin password fails the rotation and leaves the live credential untouched and working', async () => {
  const before = await h.read();
  const base = { host: cluster.host, port: String(cluster.port), database: 'postgres', tls: 'disable' };
  jsonOf(await h.sk(['secret', 'set', 'db', 'admin', '--fields-json', JSON.stringify({ ...base, username: 'sk_rot_admin', password: 'wrong-admin-password' }), '--json']));
  const agent = await h.startAgent();
  const r = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--json']);
  assert.notEqual(r.code, 0);
  const st = JSON.parse(r.stdout) as { state: string; lastError: { code: string; message: string } };
  assert.equal(st.state, 'failed');
  assert.equal(st.lastError.code, 'SK_ERR_PROVIDER_AUTH_FAILED');
  assert.equal(JSON.stringify(st.lastError).includes('wrong-admin-password'), false);
  const after = await h.read();
  assert.equal(after.version, before.version);
  assert.equal(await login(ROLE, after.fields.password as string), true);
  const versions = jsonOf<{ versions: Array<{ state: string }> }>(await h.sk(['secret', 'versions', 'db', 'app', '--json']));
  assert.ok(versions.versions.some((v) => v.state === 'discarded'), 'the pending value is kept as discarded, not deleted');
  jsonOf(await h.sk(['secret', 'set', 'db', 'admin', '--fields-json', JSON.stringify({ ...base, username: 'sk_rot_admin', password: 'admin-password-0001' }), '--json']));
  // The failure scheduled a retry (backoff); with the admin fixed, it promotes on its own.
  assert.equal(await waitForState(['promoted', 'failed', 'stuck']), 'promoted');
  assert.equal(await login(ROLE, (await h.read()).fields.password as string), true);
  await agent.stop();
});

test('the vault SIGKILLed after committing a confirm but before answering: the agent retries and there is exactly one promotion', async () => {
  const before = await h.read();
  await h.restartVault({ faultAt: 'vault-after-confirm-commit' });
  const agent = await h.startAgent();
  assert.equal((await h.sk(['rotation', 'run', 'db', 'app', '--json'])).code, 0);
  await h.vault.waitFor(/fault point reached: vault-after-confirm-commit/);
  await h.restartVault();
  assert.equal(await waitForState(['promoted', 'failed', 'stuck']), 'promoted');
  const after = await h.read();
  assert.equal(after.version, before.version + 1, 'exactly one new version became live');
  assert.equal(await login(ROLE, after.fields.password as string), true);
  const audit = jsonOf<{ events: Array<{ action: string; details?: unknown }> }>(await h.sk(['audit', 'list', '--project', 'db', '--all', '--json']));
  const st = await status();
  const promotions = audit.events.filter((e) => e.action === 'rotation.succeeded' && JSON.stringify(e.details ?? {}).includes(String((st as { rotationId?: string }).rotationId ?? '§')));
  assert.equal(promotions.length, 1);
  await agent.stop();
});

test('a verify slower than the lease: the re-claiming agent promotes, the stale one is refused by fence and does not roll back', async () => {
  const slow = await h.startAgent({ faultAt: 'after-applied' });
  assert.equal((await h.sk(['rotation', 'run', 'db', 'app', '--json'])).code, 0);
  await slow.waitFor(/fault point reached: after-applied/);
  // Freeze it (no heartbeats either) past the lease, as a stalled host would be. A deliberate
  // wait on time: the harness's --rotation-lease is 3 s, so after 4 s the claim is up for grabs.
  slow.proc.kill('SIGSTOP');
  await sleep(4000);
  const fresh = await h.startAgent({ name: 'b' });
  assert.equal(await waitForState(['promoted', 'failed', 'stuck']), 'promoted');
  const promoted = await h.read();
  slow.proc.kill('SIGCONT');
  slow.proc.kill('SIGUSR2');
  await slow.waitFor(/another claim owns this rotation now|lease lost/).catch((err: unknown) => {
    throw new Error(`${String(err)}\nexit ${slow.proc.exitCode} signal ${slow.proc.signalCode}\nFULL OUTPUT:\n${slow.output()}`);
  });
  // The stale agent did not touch the database: the promoted credential still logs in.
  assert.equal(await login(ROLE, promoted.fields.password as string), true);
  assert.equal((await h.read()).version, promoted.version);
  await slow.stop();
  await fresh.stop();
});

test('preflight: a proper admin passes and nothing changes; an admin without CREATEROLE fails with the privilege to grant', async () => {
  const agent = await h.startAgent();
  const before = await h.read();
  const base = { host: cluster.host, port: String(cluster.port), database: 'postgres', tls: 'disable' };
  const set = await h.sk(['rotation', 'set', 'db', 'app', '--provider', 'postgres', '--agent-label', 'rotator', '--admin-secret', 'admin', '--wait', '--json']);
  assert.equal(set.code, 0, set.stdout + set.stderr);
  assert.equal((JSON.parse(set.stdout) as { preflight: { state: string } }).preflight.state, 'preflight_passed');
  assert.equal(await login(ROLE, before.fields.password as string), true, 'preflight changed nothing: the live password still logs in');
  assert.equal((await h.read()).version, before.version);

  await admin(async (c) => {
    await c.query('DROP ROLE IF EXISTS sk_weak_admin');
    await c.query(`CREATE ROLE sk_weak_admin LOGIN PASSWORD ${c.escapeLiteral('weak-admin-password-1')}`);
  });
  jsonOf(await h.sk(['secret', 'set', 'db', 'weak', '--fields-json', JSON.stringify({ ...base, username: 'sk_weak_admin', password: 'weak-admin-password-1' }), '--json']));
  jsonOf(await h.sk(['grant', 'add', 'agent1', '--project', 'db', '--secret', 'weak', '--json']));
  const weak = await h.sk(['rotation', 'set', 'db', 'app', '--provider', 'postgres', '--agent-label', 'rotator', '--admin-secret', 'weak', '--wait', '--json']);
  assert.notEqual(weak.code, 0);
  const job = (JSON.parse(weak.stdout) as { preflight: { state: string; error: string } }).preflight;
  assert.equal(job.state, 'failed');
  assert.match(job.error, /CREATEROLE/);
  assert.equal(await login(ROLE, before.fields.password as string), true);
  // Back to the capable admin for whatever runs next.
  jsonOf(await h.sk(['rotation', 'set', 'db', 'app', '--provider', 'postgres', '--agent-label', 'rotator', '--admin-secret', 'admin', '--wait', '--json']));
  await agent.stop();
});
