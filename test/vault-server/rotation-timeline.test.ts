// Rotation step timings (issue 29): the agent sends its step timings with `confirm` and `fail`;
// the vault stores them per job (migration 0016) and `GET /v1/rotations/{id}` and `rotation
// status` answer a `timeline` — the vault's own events (created, claimed, applied, and what each
// report led to) beside the agent's steps. On both stores, agent calls signed by a real machine
// key, the clock injected so every `at` is known. Older agents (no `steps`) still confirm; bad
// timings are refused with SK_ERR_VALIDATION; no credential appears in a timeline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import { codeOf } from '../support/enrollment.js';
import type { IdentityKey } from '../../protocol/keys.js';
import type { RotationStatus, TimelineEntry } from '../../protocol/api-types.js';
import { MAX_AGENT_STEPS } from '../../protocol/api-types.js';
import { buildTimeline, appendReport, MAX_STORED_REPORTS } from '../../vault-server/modules/rotations/rotation-timeline.js';

interface JobView { id: string; state: string; timeline: TimelineEntry[] }

forEachStore('rotation timeline', (s) => {
  let v: TestVault;
  let agent: IdentityKey;
  let clock = Date.parse('2026-06-01T09:00:00Z');
  const fields = { host: 'db.internal', port: '5432', username: 'app', password: 'timeline-live-password-0' };

  const ok = async (res: Promise<InjectedResponse>, status = 200): Promise<InjectedResponse> => {
    const r = await res;
    assert.equal(r.status, status, r.raw);
    return r;
  };
  const job = async (id: string): Promise<JobView> => (await ok(v.call(v.operator, 'GET', `/v1/rotations/${id}`))).body as JobView;
  const run = async (name: string): Promise<string> => {
    await ok(v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}`, { fields }));
    await ok(v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}/rotation`, { provider: 'postgres', agent: 'agent', adminSecret: 'admin' }));
    return ((await ok(v.call(v.operator, 'POST', `/v1/projects/p/secrets/${name}/rotation/run`), 202)).body as { id: string }).id;
  };
  const claim = async (id: string): Promise<{ fence: number; pendingPassword: string }> =>
    (await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/claim`))).body as { fence: number; pendingPassword: string };

  before(async () => {
    v = await startTestVault(await s.open(), { now: () => clock });
    await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'p' }), 201);
    await ok(v.call(v.operator, 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...fields, username: 'admin', password: 'timeline-admin-password' } }));
    agent = await v.addMachine('agent');
    await ok(v.call(v.operator, 'POST', '/v1/grants', { machine: 'agent', project: 'p', secret: 'admin' }), 201);
  });
  after(async () => v.close());

  test('a failed attempt and a promoted retry: every vault event and every agent step, per attempt, in order', async () => {
    const created = clock;
    const id = await run('orders');
    assert.deepEqual((await job(id)).timeline, [{ source: 'vault', step: 'created', at: created }]);

    // Attempt 1: claimed, applied, then an unproven failure → back to pending.
    clock += 1000;
    const c1 = await claim(id);
    const claimed1 = clock;
    assert.deepEqual((await job(id)).timeline.at(-1), { source: 'vault', step: 'claimed', at: claimed1, attempt: 1 }, 'a claim shows before any report');
    clock += 500;
    await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/applied`, { fence: c1.fence }));
    const applied1 = clock;
    clock += 500;
    const steps1 = [{ step: 'claimed', at: claimed1 + 3, ms: 0 }, { step: 'connected', at: claimed1 + 40, ms: 37 }, { step: 'applied', at: claimed1 + 60, ms: 20 }];
    const failed = await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/fail`, { fence: c1.fence, code: 'SK_ERR_PROVIDER_AUTH_FAILED', message: 'refused at verification', liveVerified: false, steps: steps1 }));
    assert.equal((failed.body as { state: string }).state, 'pending');
    const failedAt = clock;

    // Attempt 2, after the backoff: claimed, applied, confirmed with the agent's steps.
    const notBefore = (await v.ctx.store.db.selectFrom('rotations').select('not_before').where('id', '=', id).executeTakeFirstOrThrow()).not_before ?? clock;
    clock = notBefore + 1000;
    const c2 = await claim(id);
    const claimed2 = clock;
    clock += 200;
    await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/applied`, { fence: c2.fence }));
    const applied2 = clock;
    clock += 300;
    const steps2 = [
      { step: 'claimed', at: claimed2 + 2, ms: 0 }, { step: 'connected', at: claimed2 + 30, ms: 28 },
      { step: 'applied', at: claimed2 + 45, ms: 15 }, { step: 'verified', at: claimed2 + 70, ms: 25 },
    ];
    const done = await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/confirm`, { fence: c2.fence, steps: steps2 }));
    assert.equal((done.body as { state: string }).state, 'promoted');
    const promotedAt = clock;

    const agentEntries = (steps: typeof steps1, attempt: number): TimelineEntry[] => steps.map((x) => ({ source: 'agent', step: x.step, at: x.at, ms: x.ms, attempt }) as TimelineEntry);
    const expected: TimelineEntry[] = [
      { source: 'vault', step: 'created', at: created },
      { source: 'vault', step: 'claimed', at: claimed1, attempt: 1 },
      ...agentEntries(steps1, 1),
      { source: 'vault', step: 'applied', at: applied1, attempt: 1 },
      { source: 'vault', step: 'retry', at: failedAt, attempt: 1 },
      { source: 'vault', step: 'claimed', at: claimed2, attempt: 2 },
      ...agentEntries(steps2.slice(0, 3), 2),
      { source: 'vault', step: 'applied', at: applied2, attempt: 2 },
      ...agentEntries(steps2.slice(3), 2),
      { source: 'vault', step: 'promoted', at: promotedAt, attempt: 2 },
    ];
    const view = await job(id);
    assert.deepEqual(view.timeline, expected);
    // A confirm retried with the same fence (a lost answer) adds nothing.
    await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/confirm`, { fence: c2.fence, steps: steps2 }));
    assert.deepEqual((await job(id)).timeline, expected);
    // `rotation status` shows the latest rotate job's timeline, the same.
    const st = (await ok(v.call(v.operator, 'GET', '/v1/projects/p/secrets/orders/rotation'))).body as RotationStatus;
    assert.equal(st.rotationId, id);
    assert.deepEqual(st.timeline, expected);
    const raw = JSON.stringify([view, st]);
    for (const secret of [c1.pendingPassword, c2.pendingPassword, fields.password, 'timeline-admin-password']) assert.equal(raw.includes(secret), false, 'no credential in a timeline');
  });

  test('an agent that sends no steps (older agents) still confirms; its timeline holds the vault\'s events', async () => {
    const created = clock;
    const id = await run('legacy');
    clock += 100;
    const c = await claim(id);
    const claimedAt = clock;
    clock += 100;
    await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/applied`, { fence: c.fence }));
    const appliedAt = clock;
    clock += 100;
    await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/confirm`, { fence: c.fence }));
    assert.deepEqual((await job(id)).timeline, [
      { source: 'vault', step: 'created', at: created },
      { source: 'vault', step: 'claimed', at: claimedAt, attempt: 1 },
      { source: 'vault', step: 'applied', at: appliedAt, attempt: 1 },
      { source: 'vault', step: 'promoted', at: clock, attempt: 1 },
    ]);
  });

  test('bad step timings are refused with SK_ERR_VALIDATION and change nothing', async () => {
    const id = await run('strict');
    clock += 100;
    const c = await claim(id);
    const good = { step: 'connected', at: clock, ms: 5 };
    const bad: unknown[] = [
      [{ ...good, step: 'hacked' }],
      [{ ...good, ms: -1 }],
      [{ ...good, ms: 86_400_001 }],
      [{ ...good, at: 1.5 }],
      [{ ...good, extra: 'x' }],
      [{ step: 'connected', at: clock }],
      Array.from({ length: MAX_AGENT_STEPS + 1 }, () => good),
      'not-a-list',
    ];
    for (const steps of bad) {
      const res = await v.call(agent, 'POST', `/v1/agent/rotations/${id}/confirm`, { fence: c.fence, steps });
      assert.equal(res.status, 400, `${JSON.stringify(steps).slice(0, 80)}: ${res.raw}`);
      assert.equal(codeOf(res), 'SK_ERR_VALIDATION');
      const f = await v.call(agent, 'POST', `/v1/agent/rotations/${id}/fail`, { fence: c.fence, code: 'SK_ERR_PROVIDER_FAILED', message: 'x', liveVerified: true, steps });
      assert.equal(f.status, 400, f.raw);
    }
    assert.equal((await job(id)).state, 'claimed', 'nothing was recorded');
    const proven = await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/fail`, { fence: c.fence, code: 'SK_ERR_PROVIDER_FAILED', message: 'x', liveVerified: true, steps: [good] }));
    assert.equal((proven.body as { state: string }).state, 'failed');
    const tl = (await job(id)).timeline;
    assert.deepEqual(tl.slice(-2), [{ source: 'agent', step: 'connected', at: good.at, ms: 5, attempt: 1 }, { source: 'vault', step: 'failed', at: clock, attempt: 1 }]);
  });
});

test('a row written before migration 0016 (no step reports) shows what its columns hold; a cancelled job shows its ending', () => {
  assert.deepEqual(buildTimeline({ state: 'promoted', attempt: 1, created_at: 10, claimed_at: 20, applied_at: 30, finished_at: 40, step_reports: null }), [
    { source: 'vault', step: 'created', at: 10 },
    { source: 'vault', step: 'claimed', at: 20, attempt: 1 },
    { source: 'vault', step: 'applied', at: 30, attempt: 1 },
    { source: 'vault', step: 'promoted', at: 40 },
  ]);
  assert.deepEqual(buildTimeline({ state: 'cancelled', attempt: 0, created_at: 10, claimed_at: null, applied_at: null, finished_at: 15, step_reports: null }), [
    { source: 'vault', step: 'created', at: 10 },
    { source: 'vault', step: 'cancelled', at: 15 },
  ]);
  // An applied time left from an earlier claim is not shown under the next one.
  assert.deepEqual(buildTimeline({ state: 'claimed', attempt: 2, created_at: 10, claimed_at: 50, applied_at: 30, finished_at: null, step_reports: null }).at(-1),
    { source: 'vault', step: 'claimed', at: 50, attempt: 2 });
});

test('a job keeps its newest reports only (bounded storage)', () => {
  let row = { state: 'claimed' as const, attempt: 1, created_at: 0, claimed_at: 1, applied_at: null, finished_at: null, step_reports: null as string | null };
  for (let i = 0; i < MAX_STORED_REPORTS + 5; i++) row = { ...row, attempt: i + 1, step_reports: appendReport({ ...row, attempt: i + 1 }, { result: 'retry', reportedAt: 100 + i }) };
  const kept = JSON.parse(row.step_reports ?? '[]') as Array<{ attempt: number }>;
  assert.equal(kept.length, MAX_STORED_REPORTS);
  assert.equal(kept[0]?.attempt, 6);
});
