// Rotation end to end on the Supabase preset: a real vault process, a real agent process, and a
// password-enforcing PostgreSQL (the scram cluster, TLS on) behind the fake Supabase pooler (a
// test double for Supavisor: TLS, `<role>.<projectRef>` users, an emulated credential cache).
// The admin changes passwords at the direct address; the agent verifies through the pooler.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { FakeSupabasePooler } from '../support/fake-supabase-pooler.js';
import { scramCluster } from '../support/pg-scram-cluster.js';
import type { ScramCluster } from '../support/pg-scram-cluster.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import { jsonOf } from '../support/processes.js';
import { makeLocalhostCert, randomTag } from '../support/services.js';

const REF = `ref${randomTag(6)}`;
const ROLE = `sk_e2e_app_${randomTag()}`;
const ADMIN = `sk_e2e_adm_${randomTag()}`;
const INITIAL = `initial-${randomTag(10)}`;
const ADMIN_PASSWORD = `admin-${randomTag(10)}`;
let cluster: ScramCluster;
let pooler: FakeSupabasePooler;
let h: RotationHarness;
let certDir: string;
let direct: Record<string, string>;

/** What an application does: log in through the pooler as <role>.<projectRef>, over TLS. */
async function login(password: string): Promise<boolean> {
  const c = new pg.Client({
    host: pooler.host, port: pooler.port, user: `${ROLE}.${REF}`, password, database: 'postgres',
    ssl: { rejectUnauthorized: false }, connectionTimeoutMillis: 5000,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '28P01') return false;
    throw err;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function withRoot<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function runRotation(): Promise<{ code: number | null; state: string; lastError: string | null }> {
  const r = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--json']);
  const st = JSON.parse(r.stdout) as { state: string; lastError: { code: string; message: string } | null };
  return { code: r.code, state: st.state, lastError: st.lastError ? `${st.lastError.code}: ${st.lastError.message}` : null };
}

before(async () => {
  cluster = await scramCluster({ tls: true });
  await withRoot(async (c) => {
    await c.query(`CREATE ROLE ${pg.escapeIdentifier(ROLE)} LOGIN PASSWORD ${pg.escapeLiteral(INITIAL)}`);
    await c.query(`CREATE ROLE ${pg.escapeIdentifier(ADMIN)} LOGIN CREATEROLE PASSWORD ${pg.escapeLiteral(ADMIN_PASSWORD)}`);
  });
  certDir = mkdtempSync(join(tmpdir(), 'sk-supabase-e2e-'));
  pooler = await FakeSupabasePooler.start({
    upstream: cluster, projectRef: REF, tls: makeLocalhostCert(certDir), superuser: { user: cluster.adminUser, password: cluster.adminPassword },
  });
  direct = { host: cluster.host, port: String(cluster.port), database: 'postgres', tls: 'require' };
  h = await startRotationHarness({
    engine: 'supabase',
    target: { ...direct, poolerHost: pooler.host, poolerPort: String(pooler.port), projectRef: REF, username: ROLE, password: INITIAL },
    admin: { ...direct, username: ADMIN, password: ADMIN_PASSWORD },
  });
});

after(async () => {
  await h?.close();
  await pooler?.stop();
  await withRoot(async (c) => {
    for (const name of [ROLE, ADMIN]) await c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(name)}`);
  }).catch(() => undefined);
  await cluster?.stop();
  if (certDir !== undefined) rmSync(certDir, { recursive: true, force: true });
});

test('supabase (fake Supabase pooler): rotation run --wait promotes; the value machines read logs in through the pooler and the old one is refused', async () => {
  const agent = await h.startAgent();
  let previous = (await h.read()).fields.password as string;
  assert.equal(await login(previous), true, 'the initial password logs in');
  const seenBefore = pooler.logins().length;
  for (let i = 1; i <= 3; i++) {
    const r = await runRotation();
    assert.equal(r.code, 0, `rotation ${i}: ${r.state} ${r.lastError ?? ''}`);
    assert.equal(r.state, 'promoted');
    const now = (await h.read()).fields.password as string;
    assert.notEqual(now, previous);
    assert.equal(await login(now), true, `rotation ${i}: the promoted value logs in`);
    assert.equal(await login(previous), false, `rotation ${i}: the old value is refused`);
    previous = now;
  }
  // the agent's verifications came through the pooler too: 3 of its own beside the test's 6
  const mine = pooler.logins().slice(seenBefore);
  assert.ok(mine.length >= 9, `the pooler saw ${mine.length} logins`);
  assert.ok(mine.every((l) => l.user === `${ROLE}.${REF}` && l.tls), 'every login was <role>.<projectRef> over TLS');
  assert.equal(agent.output().includes(previous), false, 'no password in the agent log');
  assert.equal(h.vault.output().includes(previous), false, 'no password in the vault log');
  await agent.stop();
});

test('supabase (fake Supabase pooler): a rotation while the pooler caches credentials for 2 s is still promoted (the bounded retry rides it out)', async () => {
  await pooler.cacheCredentials(2_000);
  const agent = await h.startAgent();
  try {
    const seenBefore = pooler.logins().length;
    const r = await runRotation();
    assert.equal(r.code, 0, `${r.state} ${r.lastError ?? ''}`);
    assert.equal(r.state, 'promoted');
    assert.ok(pooler.logins().slice(seenBefore).some((l) => l.outcome === 'cache-refused'), 'the pooler did refuse the new password at first');
    await pooler.cacheCredentials(0);
    assert.equal(await login((await h.read()).fields.password as string), true);
  } finally {
    await pooler.cacheCredentials(0);
    await agent.stop();
  }
});

test('supabase (fake Supabase pooler): a wrong admin password fails the rotation with the live credential verified through the pooler and still working', async () => {
  const before = await h.read();
  const wrong = `wrong-${randomTag(10)}`;
  jsonOf(await h.sk(['secret', 'set', 'db', 'admin', '--fields-json', JSON.stringify({ ...direct, username: ADMIN, password: wrong }), '--json']));
  const agent = await h.startAgent();
  try {
    const seenBefore = pooler.logins().length;
    const r = await runRotation();
    assert.notEqual(r.code, 0);
    assert.equal(r.state, 'failed', `the rotation is ${r.state} (${r.lastError ?? ''}), not failed`);
    assert.match(r.lastError ?? '', /SK_ERR_PROVIDER_AUTH_FAILED/);
    assert.equal((r.lastError ?? '').includes(wrong), false);
    assert.match(agent.output(), /"liveVerified":true/, 'the agent proved the live credential');
    assert.ok(pooler.logins().slice(seenBefore).some((l) => l.outcome === 'forwarded'), 'the live credential was proven through the pooler');
    const after = await h.read();
    assert.equal(after.version, before.version);
    assert.equal(await login(after.fields.password as string), true);
  } finally {
    jsonOf(await h.sk(['secret', 'set', 'db', 'admin', '--fields-json', JSON.stringify({ ...direct, username: ADMIN, password: ADMIN_PASSWORD }), '--json']));
    await agent.stop();
  }
});
