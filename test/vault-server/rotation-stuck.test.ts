// A rotation where neither credential works is `stuck`: audited, counted, no more retries, and
// only an operator ends it (`rotation resolve --use pending|live` in the CLI; here its API route,
// with the agent's side driven by signed calls).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import type { IdentityKey } from '../../protocol/keys.js';

forEachStore('stuck rotations', (s) => {
  let v: TestVault;
  let agent: IdentityKey;
  const fields = { host: 'db.internal', port: '5432', username: 'app', password: 'live-password-0000' };

  before(async () => {
    v = await startTestVault(await s.open());
    await v.call(v.operator, 'POST', '/v1/projects', { name: 'p' });
    await v.call(v.operator, 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...fields, username: 'admin' } });
    agent = await v.addMachine('agent', ['rotator']);
    await v.call(v.operator, 'POST', '/v1/grants', { machine: 'agent', project: 'p', secret: 'admin' });
  });
  after(async () => v.close());

  async function stuckRotation(name: string): Promise<{ id: string; pendingPassword: string }> {
    await v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}`, { fields });
    await v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}/rotation`, { provider: 'postgres', agentLabel: 'rotator', adminSecret: 'admin' });
    const id = ((await v.call(v.operator, 'POST', `/v1/projects/p/secrets/${name}/rotation/run`)).body as { id: string }).id;
    const claim = await v.call(agent, 'POST', `/v1/agent/rotations/${id}/claim`);
    const { fence, pendingPassword } = claim.body as { fence: number; pendingPassword: string };
    const fail = await v.call(agent, 'POST', `/v1/agent/rotations/${id}/fail`, { fence, code: 'SK_ERR_PROVIDER_AUTH_FAILED', message: 'neither the pending nor the live password logs in', liveVerified: false, neitherWorks: true });
    assert.equal((fail.body as { state: string }).state, 'stuck');
    return { id, pendingPassword };
  }

  test('neither credential works: stuck, audited and counted; no new run, no claim; resolving with use=live discards the pending', async () => {
    const { id } = await stuckRotation('a');
    const status = (await v.call(v.operator, 'GET', '/v1/projects/p/secrets/a/rotation')).body as { state: string; lastError: { code: string; attempt: number; maxAttempts: number }; nextAttemptAt: number | null };
    assert.equal(status.state, 'stuck');
    assert.equal(status.lastError.code, 'SK_ERR_PROVIDER_AUTH_FAILED');
    assert.deepEqual([status.lastError.attempt, status.lastError.maxAttempts, status.nextAttemptAt], [1, 1, null], 'nothing retries a stuck job');
    const events = await v.ctx.store.db.selectFrom('audit_events').select('action').where('action', '=', 'rotation.stuck').execute();
    assert.ok(events.length >= 1);
    const stuckCount = (await v.metrics.rotations.get()).values.find((x) => x.labels['result'] === 'stuck')?.value ?? 0;
    assert.ok(stuckCount >= 1, 'the stuck rotation is counted');
    assert.equal((await v.call(v.operator, 'POST', '/v1/projects/p/secrets/a/rotation/run')).status, 409, 'no new rotation while stuck');
    assert.equal((await v.call(agent, 'POST', `/v1/agent/rotations/${id}/claim`)).status, 409, 'nobody retries a stuck rotation');
    const res = await v.call(v.operator, 'POST', '/v1/projects/p/secrets/a/rotation/resolve', { use: 'live' });
    assert.equal((res.body as { state: string }).state, 'failed');
    const versions = ((await v.call(v.operator, 'GET', '/v1/projects/p/secrets/a/versions')).body as { versions: Array<{ version: number; state: string }> }).versions;
    assert.deepEqual(versions.map((x) => [x.version, x.state]), [[2, 'discarded'], [1, 'live']]);
  });

  test('resolving with use=pending promotes the pending credential', async () => {
    await stuckRotation('b');
    const res = await v.call(v.operator, 'POST', '/v1/projects/p/secrets/b/rotation/resolve', { use: 'pending' });
    assert.equal((res.body as { state: string; version: number }).state, 'promoted');
    const versions = ((await v.call(v.operator, 'GET', '/v1/projects/p/secrets/b/versions')).body as { versions: Array<{ version: number; state: string }> }).versions;
    assert.deepEqual(versions.map((x) => [x.version, x.state]), [[2, 'live'], [1, 'previous']]);
    const audit = await v.ctx.store.db.selectFrom('audit_events').select('action').where('action', '=', 'rotation.resolved').execute();
    assert.equal(audit.length, 2);
    assert.equal((await v.call(v.operator, 'POST', '/v1/projects/p/secrets/b/rotation/resolve', { use: 'live' })).status, 404, 'nothing left to resolve');
  });
});
