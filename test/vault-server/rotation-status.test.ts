// Status tells the truth (issue 22): after a failed attempt `rotation status` shows the failure —
// code, message, when, which attempt of how many — and when the next attempt is due, through the
// retry that follows it and that retry's own failure, until a rotation succeeds. `rotation list`
// marks the policy. The agent's side is driven by signed calls; the clock is injected so the
// retries' backoff can be waited out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import type { IdentityKey } from '../../protocol/keys.js';
import type { RotationFailure, RotationStatus } from '../../protocol/api-types.js';
import { MAX_UNPROVEN_ATTEMPTS } from '../../vault-server/modules/rotations/rotation-rules.js';
import { MAX_CONSECUTIVE_FAILURES } from '../../vault-server/modules/rotations/rotations-engine.js';

interface ListRow { project: string; secret: string; state: string; lastAttemptFailed: boolean; lastError: RotationFailure | null; nextAttemptAt: number | null }

const REFUSED = 'the new password was refused at verification (28P01)';

forEachStore('rotation status after failures', (s) => {
  let v: TestVault;
  let agent: IdentityKey;
  let clock = Date.parse('2026-06-01T09:00:00Z');
  const fields = { host: 'db.internal', port: '5432', username: 'app', password: 'status-live-password-0' };

  const ok = async (res: Promise<InjectedResponse>, status = 200): Promise<InjectedResponse> => {
    const r = await res;
    assert.equal(r.status, status, r.raw);
    return r;
  };
  const statusOf = async (name: string): Promise<RotationStatus> => (await ok(v.call(v.operator, 'GET', `/v1/projects/p/secrets/${name}/rotation`))).body as RotationStatus;
  const listed = async (name: string): Promise<ListRow | undefined> =>
    ((await ok(v.call(v.operator, 'GET', '/v1/rotations'))).body as { policies: ListRow[] }).policies.find((p) => p.secret === name);
  const notBeforeOf = async (id: string): Promise<number | null> =>
    (await v.ctx.store.db.selectFrom('rotations').select('not_before').where('id', '=', id).executeTakeFirstOrThrow()).not_before;

  /** One attempt by the agent: claim, report applied, then fail (proven or not) or confirm. */
  async function attempt(id: string, outcome: 'proven' | 'unproven' | 'confirm'): Promise<{ pendingPassword: string }> {
    const claim = (await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/claim`))).body as { fence: number; pendingPassword: string };
    await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/applied`, { fence: claim.fence }));
    if (outcome === 'confirm') {
      await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/confirm`, { fence: claim.fence }));
    } else {
      await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/fail`, { fence: claim.fence, code: 'SK_ERR_PROVIDER_AUTH_FAILED', message: REFUSED, liveVerified: outcome === 'proven' }));
    }
    return { pendingPassword: claim.pendingPassword };
  }

  async function policy(name: string): Promise<string> {
    await ok(v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}`, { fields }));
    await ok(v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}/rotation`, { provider: 'postgres', agent: 'agent', adminSecret: 'admin', schedule: '0 3 * * *' }));
    return ((await ok(v.call(v.operator, 'POST', `/v1/projects/p/secrets/${name}/rotation/run`), 202)).body as { id: string }).id;
  }

  before(async () => {
    v = await startTestVault(await s.open(), { now: () => clock });
    await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'p' }), 201);
    await ok(v.call(v.operator, 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...fields, username: 'admin', password: 'status-admin-password' } }));
    agent = await v.addMachine('agent');
    await ok(v.call(v.operator, 'POST', '/v1/grants', { machine: 'agent', project: 'p', secret: 'admin' }), 201);
  });
  after(async () => v.close());

  test('a proven failure shows in the status with its code, message, time, attempt and the retry\'s due time; it stays through the retry\'s failure and clears when a rotation succeeds', async () => {
    const first = await policy('orders');
    const failedAt = clock;
    const { pendingPassword } = await attempt(first, 'proven');

    const st = await statusOf('orders');
    assert.equal(st.state, 'pending', 'the latest job is the retry');
    assert.notEqual(st.rotationId, first);
    const retry = st.rotationId ?? '';
    assert.deepEqual(st.lastError, { code: 'SK_ERR_PROVIDER_AUTH_FAILED', message: REFUSED, at: failedAt, attempt: 1, maxAttempts: MAX_CONSECUTIVE_FAILURES, rotationId: first, kind: 'rotate' });
    assert.equal(st.nextAttemptAt, await notBeforeOf(retry), 'the next attempt is the retry, after its backoff');
    assert.ok(st.nextAttemptAt !== null && st.nextAttemptAt > failedAt);
    assert.equal(st.nextRunAt, Date.parse('2026-06-02T03:00:00Z'), 'nextRunAt stays the schedule');
    assert.equal(JSON.stringify(st).includes(pendingPassword), false, 'no credential in the status');
    assert.equal(JSON.stringify(st).includes(fields.password), false);
    const row = await listed('orders');
    assert.deepEqual([row?.state, row?.lastAttemptFailed, row?.lastError?.code, row?.nextAttemptAt], ['pending', true, 'SK_ERR_PROVIDER_AUTH_FAILED', st.nextAttemptAt]);

    // The retry is claimed: the failure is still the last one.
    clock = (st.nextAttemptAt ?? clock) + 1000;
    const claim = (await ok(v.call(agent, 'POST', `/v1/agent/rotations/${retry}/claim`))).body as { fence: number };
    const during = await statusOf('orders');
    assert.deepEqual([during.state, during.lastError?.rotationId, during.lastError?.attempt], ['claimed', first, 1]);
    // …and fails too: attempt 2.
    await ok(v.call(agent, 'POST', `/v1/agent/rotations/${retry}/applied`, { fence: claim.fence }));
    await ok(v.call(agent, 'POST', `/v1/agent/rotations/${retry}/fail`, { fence: claim.fence, code: 'SK_ERR_PROVIDER_AUTH_FAILED', message: REFUSED, liveVerified: true }));
    const second = await statusOf('orders');
    assert.deepEqual(second.lastError, { code: 'SK_ERR_PROVIDER_AUTH_FAILED', message: REFUSED, at: clock, attempt: 2, maxAttempts: MAX_CONSECUTIVE_FAILURES, rotationId: retry, kind: 'rotate' });
    const third = second.rotationId ?? '';
    assert.equal(second.nextAttemptAt, await notBeforeOf(third));

    // The next retry succeeds: the failure is gone, and the next attempt is the schedule's.
    clock = (second.nextAttemptAt ?? clock) + 1000;
    await attempt(third, 'confirm');
    const healed = await statusOf('orders');
    assert.deepEqual([healed.state, healed.lastError, healed.nextAttemptAt], ['promoted', null, healed.nextRunAt]);
    assert.deepEqual([(await listed('orders'))?.lastAttemptFailed, (await listed('orders'))?.lastError], [false, null]);
  });

  test('an unproven failure counts the job\'s own attempts; the budget of proven failures spent, the next attempt is the schedule\'s', async () => {
    const id = await policy('billing');
    const { pendingPassword } = await attempt(id, 'unproven');
    const st = await statusOf('billing');
    assert.deepEqual([st.state, st.rotationId], ['pending', id], 'the same job waits for its retry');
    assert.deepEqual(st.lastError, { code: 'SK_ERR_PROVIDER_AUTH_FAILED', message: REFUSED, at: clock, attempt: 1, maxAttempts: MAX_UNPROVEN_ATTEMPTS, rotationId: id, kind: 'rotate' });
    assert.equal(st.nextAttemptAt, await notBeforeOf(id));
    assert.equal(JSON.stringify(st).includes(pendingPassword), false);

    // Three proven failures in a row: no retry is created; the schedule's run is the next attempt.
    let job = id;
    for (let n = 1; n <= MAX_CONSECUTIVE_FAILURES; n += 1) {
      clock = Math.max(clock, (await notBeforeOf(job)) ?? clock) + 1000;
      await attempt(job, 'proven');
      const now = await statusOf('billing');
      assert.equal(now.lastError?.attempt, n);
      assert.equal(now.lastError?.maxAttempts, MAX_CONSECUTIVE_FAILURES);
      job = now.rotationId ?? '';
    }
    const spent = await statusOf('billing');
    assert.equal(spent.state, 'failed');
    assert.equal(spent.nextAttemptAt, spent.nextRunAt, 'no retry: the schedule is next');
    assert.ok(spent.nextRunAt !== null);
  });
});
