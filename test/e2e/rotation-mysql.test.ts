// Rotation end to end on MySQL/MariaDB (MYSQL_URL, default the machine's MariaDB): a real vault
// process, a real agent process, an account with a password (MariaDB enforces it for TCP logins)
// and an admin holding only what rotation needs (CREATE USER, plus reading the account table).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startRotationHarness } from '../support/rotation-harness.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import { jsonOf } from '../support/processes.js';
import { assertReachable, mysqlUrl, parseServiceUrl, randomTag } from '../support/services.js';

const server = parseServiceUrl(mysqlUrl());
const t = randomTag();
const USER = `sk_e2e_app_${t}`;
const ADMIN = `sk_e2e_adm_${t}`;
const INITIAL = `initial-${randomTag(10)}`;
const ADMIN_PASSWORD = `admin-${randomTag(10)}`;
let root: mysql.Connection;
let h: RotationHarness;

const base = { host: server.host, port: String(server.port) };

async function login(user: string, password: string): Promise<boolean> {
  let c: mysql.Connection | undefined;
  try {
    c = await mysql.createConnection({ host: server.host, port: server.port, user, password, connectTimeout: 5000 });
    await c.query('SELECT 1');
    return true;
  } catch (err) {
    if ((err as { errno?: number }).errno === 1045) return false; // access denied
    throw err;
  } finally {
    await c?.end().catch(() => undefined);
  }
}

async function runRotation(): Promise<{ code: number | null; state: string; lastError: string | null }> {
  const r = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--json']);
  const st = JSON.parse(r.stdout) as { state: string; lastError: string | null };
  return { code: r.code, state: st.state, lastError: st.lastError };
}

before(async () => {
  await assertReachable('mysql', mysqlUrl());
  root = await mysql.createConnection({ host: server.host, port: server.port, user: server.username || 'root', password: server.password });
  const [rows] = await root.query('SELECT VERSION() AS v');
  const accounts = /mariadb/i.test(String((rows as { v: string }[])[0]?.v)) ? 'mysql.global_priv' : 'mysql.user';
  for (const name of [USER, ADMIN]) await root.query('DROP USER IF EXISTS ?@?', [name, '%']);
  await root.query('CREATE USER ?@? IDENTIFIED BY ?', [USER, '%', INITIAL]);
  await root.query('CREATE USER ?@? IDENTIFIED BY ?', [ADMIN, '%', ADMIN_PASSWORD]);
  await root.query('GRANT CREATE USER ON *.* TO ?@?', [ADMIN, '%']);
  await root.query(`GRANT SELECT ON ${accounts} TO ?@?`, [ADMIN, '%']);
  h = await startRotationHarness({
    engine: 'mysql',
    target: { ...base, username: USER, password: INITIAL },
    admin: { ...base, username: ADMIN, password: ADMIN_PASSWORD },
  });
});

after(async () => {
  await h?.close();
  for (const name of [USER, ADMIN]) await root?.query('DROP USER IF EXISTS ?@?', [name, '%']).catch(() => undefined);
  await root?.end();
});

test('mysql: rotation run --wait promotes; the value machines read logs in and the old one is refused', async () => {
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
  assert.equal(agent.output().includes(previous), false, 'no password in the agent log');
  assert.equal(h.vault.output().includes(previous), false, 'no password in the vault log');
  await agent.stop();
});

test('mysql: a wrong admin password fails the rotation with the live credential verified and still working', async () => {
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
