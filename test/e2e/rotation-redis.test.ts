// Rotation end to end on Redis (REDIS_URL, default the shared Redis at 127.0.0.1:6379): a real
// vault process, a real agent process, an ACL user with a password, and an admin ACL user with
// exactly the rights rotation needs. Both users are deleted afterwards; the default user and the
// server's configuration are never touched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRotationHarness } from '../support/rotation-harness.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import { jsonOf } from '../support/processes.js';
import { assertReachable, parseServiceUrl, randomTag, redisUrl } from '../support/services.js';

const server = parseServiceUrl(redisUrl());
const t = randomTag();
const USER = `sk_e2e_app_${t}`;
const ADMIN = `sk_e2e_adm_${t}`;
const INITIAL = `initial-${randomTag(10)}`;
const ADMIN_PASSWORD = `admin-${randomTag(10)}`;
let root: Redis;
let h: RotationHarness;

const base = { host: server.host, port: String(server.port) };

async function login(user: string, password: string): Promise<boolean> {
  const c = new Redis({ host: server.host, port: server.port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.call('AUTH', user, password);
    return (await c.call('PING')) === 'PONG';
  } catch (err) {
    if (err instanceof Error && /^WRONGPASS/.test(err.message)) return false;
    throw err;
  } finally {
    c.disconnect();
  }
}

async function runRotation(): Promise<{ code: number | null; state: string; lastError: string | null }> {
  const r = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--json']);
  const st = JSON.parse(r.stdout) as { state: string; lastError: string | null };
  return { code: r.code, state: st.state, lastError: st.lastError };
}

before(async () => {
  await assertReachable('redis', redisUrl());
  root = new Redis({ host: server.host, port: server.port, username: server.username || undefined, password: server.password || undefined, lazyConnect: true });
  await root.connect();
  await root.call('ACL', 'SETUSER', USER, 'reset', 'on', `>${INITIAL}`, '+ping');
  // what rotation needs: the ACL commands, reading config (aclfile, requirepass), INFO for the version
  await root.call('ACL', 'SETUSER', ADMIN, 'reset', 'on', `>${ADMIN_PASSWORD}`, '+acl', '+config|get', '+info', '+ping');
  h = await startRotationHarness({
    engine: 'redis',
    target: { ...base, username: USER, password: INITIAL },
    admin: { ...base, username: ADMIN, password: ADMIN_PASSWORD },
  });
});

after(async () => {
  await h?.close();
  await root?.call('ACL', 'DELUSER', USER, ADMIN).catch(() => undefined);
  root?.disconnect();
});

test('redis: rotation run --wait promotes; the value machines read logs in and the old one is refused', async () => {
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

test('redis: a wrong admin password fails the rotation with the live credential verified and still working', async () => {
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
