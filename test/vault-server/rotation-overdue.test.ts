// `rotation.overdue` on both stores: raised once when a scheduled policy has not promoted since
// the fire time after its last success plus max(1 h, 10 % of the interval); not again for the same
// period (the marker is in the store, so restarts and replicas agree); again for the next
// period after a later success; never for a paused policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse } from '../support/vault-app.js';
import { checkOverdue, overdueAt } from '../../vault-server/modules/rotations/rotation-overdue.js';

const HOUR = 3_600_000;

async function ok(res: Promise<InjectedResponse>, status = 200): Promise<InjectedResponse> {
  const r = await res;
  assert.equal(r.status, status, r.raw);
  return r;
}

test('overdueAt: the fire time after the last success, plus max(1 h, 10 % of the interval)', () => {
  const since = Date.UTC(2026, 0, 1, 10, 30);
  assert.deepEqual(overdueAt('0 * * * *', 'UTC', since), { missedFireAt: Date.UTC(2026, 0, 1, 11, 0), overdueAt: Date.UTC(2026, 0, 1, 12, 0) });
  const daily = overdueAt('0 3 * * *', 'UTC', since);
  assert.deepEqual(daily, { missedFireAt: Date.UTC(2026, 0, 2, 3, 0), overdueAt: Date.UTC(2026, 0, 2, 3, 0) + 2.4 * HOUR });
  assert.equal(overdueAt(null, null, since), null);
});

forEachStore('rotation.overdue', (s) => {
  test('raised once per overdue period, from the store alone; again after a later success; never while paused', async () => {
    let now = Date.UTC(2026, 5, 1, 10, 30);
    const store = await s.openAt(await s.freshLocation());
    const v = await startTestVault(store, { now: () => now });
    const op = v.operator;
    await ok(v.call(op, 'POST', '/v1/projects', { name: 'p' }), 201);
    for (const name of ['db', 'db2']) {
      await ok(v.call(op, 'PUT', `/v1/projects/p/secrets/${name}`, { fields: { host: '127.0.0.1', port: '5432', username: 'app', password: `overdue-${name}` } }));
    }
    await ok(v.call(op, 'PUT', '/v1/projects/p/secrets/admin', { fields: { host: '127.0.0.1', port: '5432', username: 'postgres', password: 'overdue-admin' } }));
    await v.addMachine('agent');
    await ok(v.call(op, 'PUT', '/v1/projects/p/secrets/db/rotation', { provider: 'postgres', agent: 'agent', adminSecret: 'admin', schedule: '0 * * * *' }));
    await ok(v.call(op, 'PUT', '/v1/projects/p/secrets/db2/rotation', { provider: 'postgres', agent: 'agent', adminSecret: 'admin', schedule: '0 * * * *', paused: true }));
    const overdueEvents = async (): Promise<Array<{ target: string; details: { missedFireAt: number } }>> =>
      ((await ok(v.call(op, 'GET', '/v1/audit'))).body as { events: Array<{ action: string; target: string; details: { missedFireAt: number } }> }).events.filter((e) => e.action === 'rotation.overdue');

    now = Date.UTC(2026, 5, 1, 11, 59); // due at 11:00, grace 1 h: not yet
    assert.deepEqual(await checkOverdue(v.ctx), { overdue: 0, raised: 0 });
    now = Date.UTC(2026, 5, 1, 12, 1);
    assert.deepEqual(await checkOverdue(v.ctx), { overdue: 1, raised: 1 });
    assert.deepEqual(await checkOverdue(v.ctx), { overdue: 1, raised: 0 }, 'the same period again');
    // checkOverdue keeps nothing in memory: what was raised is the policy's `overdue_for` in the
    // store, which a restarted vault or another replica reads the same way.
    const marker = await v.ctx.store.db.selectFrom('rotation_policies').select('overdue_for').where('overdue_for', 'is not', null).execute();
    assert.deepEqual(marker.map((m) => Number(m.overdue_for)), [Date.UTC(2026, 5, 1, 11, 0)]);
    now = Date.UTC(2026, 5, 1, 15, 0);
    const events = await overdueEvents();
    assert.deepEqual(events.map((e) => [e.target, e.details.missedFireAt]), [['secret:p/db', Date.UTC(2026, 5, 1, 11, 0)]]);
    assert.equal((await checkOverdue(v.ctx)).raised, 0);

    // A success at 15:00 starts a new period: due 16:00, overdue 17:00.
    const policy = await v.ctx.store.db.selectFrom('rotation_policies').innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id')
      .select(['rotation_policies.id as id', 'secrets.id as secretId']).where('secrets.name', '=', 'db').executeTakeFirstOrThrow();
    await v.ctx.store.db.insertInto('rotations').values({
      id: randomUUID(), secret_id: policy.secretId, policy_id: policy.id, kind: 'rotate', state: 'promoted', attempt: 1, pending_version_id: null,
      claimed_by: null, lease_until: null, fence: 1, maybe_applied: 0, error: null, error_code: null, created_at: now, claimed_at: now,
      applied_at: now, finished_at: now, not_before: null, details: null,
    }).execute();
    now = Date.UTC(2026, 5, 1, 16, 59);
    assert.deepEqual(await checkOverdue(v.ctx), { overdue: 0, raised: 0 });
    now = Date.UTC(2026, 5, 1, 17, 1);
    assert.deepEqual(await checkOverdue(v.ctx), { overdue: 1, raised: 1 });
    assert.equal((await overdueEvents()).length, 2);
    assert.equal((await overdueEvents()).some((e) => e.target === 'secret:p/db2'), false, 'a paused policy is never overdue');
    await v.close();
  });
});
