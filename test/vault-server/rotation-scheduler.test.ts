// The scheduler's pass over due policies: one policy whose rotation cannot be created (its secret
// no longer holds a database credential) must not hold up the policies due after it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import { runSchedulerTick } from '../../vault-server/modules/rotations/rotation-scheduler.js';

forEachStore('rotation scheduler', (s) => {
  let clock = Date.parse('2026-05-04T12:00:00Z');
  let v: TestVault;
  const db = { host: 'db.internal', port: '5432', username: 'app', password: 'live-password-aaaa', database: 'app' };

  before(async () => {
    v = await startTestVault(await s.open(), { now: () => clock });
    await v.call(v.operator, 'POST', '/v1/projects', { name: 'p' });
    await v.call(v.operator, 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...db, username: 'admin', password: 'admin-password' } });
    await v.addMachine('agent', ['rotator']);
    await v.call(v.operator, 'POST', '/v1/grants', { machine: 'agent', project: 'p', secret: 'admin' });
  });
  after(async () => v.close());

  async function policy(name: string, schedule: string): Promise<void> {
    assert.equal((await v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}`, { fields: db })).status, 200);
    const res = await v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}/rotation`, { provider: 'postgres', agentLabel: 'rotator', adminSecret: 'admin', schedule });
    assert.equal(res.status, 200, res.raw);
  }
  async function rotateJobs(name: string): Promise<number> {
    const rows = await v.ctx.store.db.selectFrom('rotations').innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
      .select('rotations.id').where('secrets.name', '=', name).where('rotations.kind', '=', 'rotate').execute();
    return rows.length;
  }

  test('a due policy whose rotation cannot be created does not stop the pass: later policies still rotate', async () => {
    await policy('broken', '0 1 * * *');
    await policy('healthy', '0 2 * * *');
    // Paused, the secret may be written by hand: it loses its port, and the policy is resumed.
    assert.equal((await v.call(v.operator, 'POST', '/v1/projects/p/secrets/broken/rotation/pause')).status, 200);
    const { port: _port, ...noPort } = db;
    assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/p/secrets/broken', { fields: noPort })).status, 200);
    assert.equal((await v.call(v.operator, 'POST', '/v1/projects/p/secrets/broken/rotation/resume')).status, 200);

    clock = Date.parse('2026-05-05T03:00:00Z'); // both due; `broken` (01:00) comes first
    const tick = await runSchedulerTick(v.ctx);
    assert.equal(tick.created, 1, 'the healthy policy got its rotation');
    assert.equal(tick.failed, 1, 'the broken policy is counted, not thrown');
    assert.equal(await rotateJobs('healthy'), 1);
    assert.equal(await rotateJobs('broken'), 0);

    // The broken run is skipped until the schedule's next run, not retried every pass.
    const again = await runSchedulerTick(v.ctx);
    assert.deepEqual({ created: again.created, failed: again.failed }, { created: 0, failed: 0 });
    const stored = await v.call(v.operator, 'GET', '/v1/projects/p/secrets/broken/rotation');
    assert.equal((stored.body as { nextRunAt: number }).nextRunAt, Date.parse('2026-05-06T01:00:00Z'));
  });
});
