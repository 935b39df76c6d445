// Rotation end to end on MongoDB, against the MongoDB wire test server (a test double: no MongoDB
// can be installed here; it speaks OP_MSG and SCRAM-SHA-256 to the real `mongodb` driver). The
// double runs in this test process; the vault and the agent are real processes that reach it over
// TCP. The admin is a userAdminAnyDatabase user, not root, as an operator would set it up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { startRotationHarness } from '../support/rotation-harness.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import { jsonOf } from '../support/processes.js';
import { MongoWireTestServer } from '../support/mongo-wire-server.js';
import { randomTag } from '../support/services.js';

const USER = `sk_e2e_app_${randomTag()}`;
const ADMIN = `sk_e2e_adm_${randomTag()}`;
const INITIAL = `initial-${randomTag(10)}`;
const ADMIN_PASSWORD = `admin-${randomTag(10)}`;
let srv: MongoWireTestServer;
let h: RotationHarness;
let base: Record<string, string>;

async function login(user: string, password: string): Promise<boolean> {
  const client = new MongoClient(srv.url(), { auth: { username: user, password }, authSource: 'admin', serverSelectionTimeoutMS: 3000 });
  try {
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 18) return false; // AuthenticationFailed
    throw err;
  } finally {
    await client.close();
  }
}

async function runRotation(): Promise<{ code: number | null; state: string; lastError: string | null }> {
  const r = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--json']);
  const st = JSON.parse(r.stdout) as { state: string; lastError: string | null };
  return { code: r.code, state: st.state, lastError: st.lastError };
}

before(async () => {
  srv = await MongoWireTestServer.start({
    users: [
      { db: 'admin', user: ADMIN, pwd: ADMIN_PASSWORD, roles: [{ role: 'userAdminAnyDatabase', db: 'admin' }] },
      { db: 'admin', user: USER, pwd: INITIAL, roles: [{ role: 'readWrite', db: 'appdb' }] },
    ],
  });
  base = { host: srv.host, port: String(srv.port), authSource: 'admin' };
  h = await startRotationHarness({
    engine: 'mongodb',
    target: { ...base, username: USER, password: INITIAL },
    admin: { ...base, username: ADMIN, password: ADMIN_PASSWORD },
  });
});

after(async () => {
  await h?.close();
  await srv?.stop();
});

test('mongodb (MongoDB wire test server): rotation run --wait promotes; the value machines read logs in and the old one is refused', async () => {
  const agent = await h.startAgent();
  let previous = (await h.read()).fields.password as string;
  assert.equal(await login(USER, previous), true, 'the initial password logs in');
  for (let i = 1; i <= 3; i++) {
    const r = await runRotation();
    assert.equal(r.code, 0, `rotation ${i}: ${r.state} ${r.lastError ?? ''}`);
    assert.equal(r.state, 'promoted');
    const now = (await h.read()).fields.password as string;
    assert.notEqual(now, previous);
    assert.equal(await login(USER, now), true, `rotation ${i}: the promoted value logs in`);
    assert.equal(await login(USER, previous), false, `rotation ${i}: the old value is refused`);
    previous = now;
  }
  const updates = srv.commands().filter((c) => c.name === 'updateUser');
  assert.equal(updates.length, 3, 'one updateUser per rotation reached the server');
  assert.ok(updates.every((c) => c.authenticatedAs?.user === ADMIN), 'every change was made by the admin');
  assert.equal(agent.output().includes(previous), false, 'no password in the agent log');
  assert.equal(h.vault.output().includes(previous), false, 'no password in the vault log');
  await agent.stop();
});

test('mongodb (MongoDB wire test server): a wrong admin password fails the rotation with the live credential verified and still working', async () => {
  const before = await h.read();
  const wrong = `wrong-${randomTag(10)}`;
  jsonOf(await h.sk(['secret', 'set', 'db', 'admin', '--fields-json', JSON.stringify({ ...base, username: ADMIN, password: wrong }), '--json']));
  const agent = await h.startAgent();
  try {
    const r = await runRotation();
    assert.notEqual(r.code, 0);
    assert.equal(r.state, 'failed', `the rotation is ${r.state} (${r.lastError ?? ''}), not failed`);
    assert.match(r.lastError ?? '', /SK_ERR_PROVIDER_AUTH_FAILED/);
    assert.equal((r.lastError ?? '').includes(wrong), false);
    assert.match(agent.output(), /"liveVerified":true/, 'the agent proved the live credential');
    const after = await h.read();
    assert.equal(after.version, before.version);
    assert.equal(await login(USER, after.fields.password as string), true);
  } finally {
    jsonOf(await h.sk(['secret', 'set', 'db', 'admin', '--fields-json', JSON.stringify({ ...base, username: ADMIN, password: ADMIN_PASSWORD }), '--json']));
    await agent.stop();
  }
});
