// rotation.drift end to end (issue "Webhooks and alerts"): a real vault process, a real agent
// process and the real Redis (REDIS_URL), whose ACL users enforce passwords. The agent probes the
// live credential every few seconds; a password changed behind the vault's back raises one
// `rotation.drift` (audit event and signed webhook) however many probes fail, and a rotation ends
// the streak with `rotation.drift_recovered`. Both ACL users are deleted afterwards.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { DriftStatus, RotationStatus } from '../../protocol/api-types.js';
import { verifyWebhook } from '../../protocol/webhooks.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import { jsonOf } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';
import { assertReachable, parseServiceUrl, randomTag, redisUrl } from '../support/services.js';
import { waitFor } from '../support/wait.js';
import { loginWithFields } from '../support/engine-fixtures.js';
import { webhookReceiver } from '../support/webhook-receiver.js';

const server = parseServiceUrl(redisUrl());
const t = randomTag();
const USER = `sk_drift_app_${t}`;
const ADMIN = `sk_drift_adm_${t}`;
const INITIAL = `initial-${randomTag(10)}`;
const BEHIND_THE_VAULT = `changed-${randomTag(10)}`;
const ADMIN_PASSWORD = `admin-${randomTag(10)}`;
const base = { host: server.host, port: String(server.port) };
let root: Redis;
let h: RotationHarness;
let agent: RunningProcess | undefined;

const rx = webhookReceiver();
const got = rx.got;

const login = (user: string, password: string): Promise<boolean> => loginWithFields('redis', { ...base, username: user, password });

before(async () => {
  await assertReachable('redis', redisUrl());
  root = new Redis({ host: server.host, port: server.port, username: server.username || undefined, password: server.password || undefined, lazyConnect: true });
  await root.connect();
  await root.call('ACL', 'SETUSER', USER, 'reset', 'on', `>${INITIAL}`, '+ping');
  await root.call('ACL', 'SETUSER', ADMIN, 'reset', 'on', `>${ADMIN_PASSWORD}`, '+acl', '+config|get', '+info', '+ping');
  await rx.listen();
  // The receiver is on loopback: a private address the vault sends to only when allowed.
  h = await startRotationHarness({
    engine: 'redis', target: { ...base, username: USER, password: INITIAL }, admin: { ...base, username: ADMIN, password: ADMIN_PASSWORD },
    serveArgs: ['--webhook-allow-cidr', '127.0.0.1/32'],
  });
});

after(async () => {
  await agent?.stop();
  await h?.close();
  await root?.call('ACL', 'DELUSER', USER, ADMIN).catch(() => undefined);
  root?.disconnect();
  await rx.close();
});

const status = async (): Promise<RotationStatus> => jsonOf<RotationStatus>(await h.sk(['rotation', 'status', 'db', 'app', '--json']));
const driftUntil = (what: string, until: (d: DriftStatus) => boolean): Promise<DriftStatus> =>
  waitFor(async () => (await status()).drift, { what, timeoutMs: 45_000, intervalMs: 250, until });
const auditActions = async (): Promise<Array<{ action: string; actorKind: string; details: Record<string, unknown> }>> =>
  jsonOf<{ events: Array<{ action: string; actorKind: string; details: Record<string, unknown> }> }>(await h.sk(['audit', 'list', '--project', 'db', '--all', '--json'])).events;
const deliveriesOf = (type: string): typeof got => got.filter((g) => (JSON.parse(g.body) as { type: string }).type === type);

test('rotation.drift: a password changed behind the vault raises one rotation.drift (audited, signed webhook) for the whole streak; a rotation ends it with rotation.drift_recovered', async () => {
  const hook = jsonOf<{ id: string; secret: string }>(await h.sk(['webhook', 'add', rx.url,
    '--events', 'rotation.drift,rotation.drift_recovered', '--json']));
  agent = await h.startAgent({ config: { driftPollSeconds: 1 } });
  const set = await h.sk(['rotation', 'set', 'db', 'app', '--provider', 'redis', '--agent-label', 'rotator', '--admin-secret', 'admin', '--drift-interval', '5s', '--wait', '--json']);
  assert.equal(set.code, 0, set.stderr);
  assert.equal(jsonOf<{ driftIntervalSeconds: number }>(set).driftIntervalSeconds, 5);

  const first = await driftUntil('a first probe that logs in', (d) => d.lastProbe?.ok === true);
  assert.equal(first.failingSince, null);
  assert.equal(first.intervalSeconds, 5);

  await root.call('ACL', 'SETUSER', USER, 'resetpass', `>${BEHIND_THE_VAULT}`);
  const failing = await driftUntil('the probe to find the live credential refused', (d) => d.failingSince !== null);
  assert.equal(failing.lastProbe?.ok, false);
  assert.equal(failing.lastProbe?.code, 'SK_ERR_PROVIDER_AUTH_FAILED');
  const human = await h.sk(['rotation', 'status', 'db', 'app']);
  assert.match(human.stdout, /^drift +DRIFT since \S+: the database refuses the live credential \(SK_ERR_PROVIDER_AUTH_FAILED\)/m);
  const listed = jsonOf<{ policies: Array<{ drift: DriftStatus }> }>(await h.sk(['rotation', 'list', '--json']));
  assert.equal(listed.policies[0]?.drift.failingSince, failing.failingSince);
  // Two more failed probes: the streak is still one event.
  const firstFailAt = failing.lastProbe?.at ?? 0;
  await driftUntil('a second failed probe', (d) => (d.lastProbe?.at ?? 0) > firstFailAt && d.lastProbe?.ok === false);
  const drifts = (await auditActions()).filter((e) => e.action === 'rotation.drift');
  assert.equal(drifts.length, 1, 'one rotation.drift per failing streak');
  assert.equal(drifts[0]?.actorKind, 'machine');
  assert.equal(drifts[0]?.details['code'], 'SK_ERR_PROVIDER_AUTH_FAILED');

  await waitFor(() => deliveriesOf('rotation.drift'), { what: 'the rotation.drift delivery', timeoutMs: 15_000, until: (d) => d.length === 1 });
  const delivery = deliveriesOf('rotation.drift')[0]!;
  assert.equal(verifyWebhook({ secrets: [hook.secret], headers: delivery.headers, body: delivery.body, now: Math.floor(Date.now() / 1000) }).ok, true);
  const payload = JSON.parse(delivery.body) as { data: { severity: string; target: string } };
  assert.deepEqual([payload.data.severity, payload.data.target], ['critical', 'secret:db/app']);
  for (const value of [INITIAL, BEHIND_THE_VAULT, ADMIN_PASSWORD]) assert.equal(delivery.body.includes(value), false, 'no credential in a delivery');

  // The remedy: a rotation sets a new password through the admin credential and proves it.
  const run = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--json']);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const after = await status();
  assert.equal(after.drift.failingSince, null);
  const live = (await h.read()).fields.password as string;
  assert.equal(await login(USER, live), true);
  const recovered = (await auditActions()).filter((e) => e.action === 'rotation.drift_recovered');
  assert.deepEqual(recovered.map((e) => e.details['by']), ['rotation']);
  await waitFor(() => deliveriesOf('rotation.drift_recovered'), { what: 'the rotation.drift_recovered delivery', timeoutMs: 15_000, until: (d) => d.length === 1 });
  const ok = await driftUntil('a probe of the new credential', (d) => (d.lastProbe?.at ?? 0) > (after.drift.lastProbe?.at ?? 0));
  assert.deepEqual([ok.lastProbe?.ok, ok.failingSince], [true, null]);
  assert.equal((await auditActions()).filter((e) => e.action === 'rotation.drift').length, 1, 'no new drift event after recovery');

  for (const value of [INITIAL, BEHIND_THE_VAULT, ADMIN_PASSWORD, live]) {
    assert.equal(agent.output().includes(value), false, 'no credential in the agent log');
    assert.equal(h.vault.output().includes(value), false, 'no credential in the vault log');
  }
});

test('rotation set --drift-interval: under 5s is refused with SK_ERR_VALIDATION; off stops the probes', async () => {
  const short = await h.sk(['rotation', 'set', 'db', 'app', '--provider', 'redis', '--agent-label', 'rotator', '--admin-secret', 'admin', '--drift-interval', '1s', '--json']);
  assert.notEqual(short.code, 0);
  assert.match(short.stderr, /SK_ERR_VALIDATION: --drift-interval must be at least 5s, or off/);
  const off = await h.sk(['rotation', 'set', 'db', 'app', '--provider', 'redis', '--agent-label', 'rotator', '--admin-secret', 'admin', '--drift-interval', 'off', '--json']);
  assert.equal(off.code, 0, off.stderr);
  const d = (await status()).drift;
  assert.deepEqual([d.intervalSeconds, d.nextProbeAt], [0, null]);
});
