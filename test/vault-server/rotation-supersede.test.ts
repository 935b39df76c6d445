// `rotation run` supersedes an *unclaimed* preflight only. On PostgreSQL with several vault
// processes an agent's claim of the preflight can commit between the run's look at the job and its
// update: the claimed preflight must not be cancelled under the agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import { forUpdate } from '../../vault-server/store/locks.js';

forEachStore('rotation supersedes a preflight', (s) => {
  let v: TestVault;
  const db = { host: 'db.internal', port: '5432', username: 'app', password: 'live-password-aaaa', database: 'app' };

  before(async () => {
    v = await startTestVault(await s.open());
    await v.call(v.operator, 'POST', '/v1/projects', { name: 'p' });
    await v.call(v.operator, 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...db, username: 'admin', password: 'admin-password' } });
    await v.addMachine('agent', ['rotator']);
    await v.call(v.operator, 'POST', '/v1/grants', { machine: 'agent', project: 'p', secret: 'admin' });
  });
  after(async () => v.close());

  async function preflightOf(name: string): Promise<string> {
    assert.equal((await v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}`, { fields: db })).status, 200);
    const res = await v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}/rotation`, { provider: 'postgres', agentLabel: 'rotator', adminSecret: 'admin' });
    assert.equal(res.status, 200, res.raw);
    const id = (res.body as { policy: { preflightId: string | null } }).policy.preflightId;
    assert.ok(id);
    return id;
  }
  const stateOf = async (id: string): Promise<string> =>
    (await v.ctx.store.db.selectFrom('rotations').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state;

  test('an unclaimed preflight is cancelled by a rotation', async () => {
    const preflight = await preflightOf('idle');
    assert.equal((await v.call(v.operator, 'POST', '/v1/projects/p/secrets/idle/rotation/run')).status, 202);
    assert.equal(await stateOf(preflight), 'cancelled');
  });

  // Two writers at once need PostgreSQL (SQLite has one writer: the interleaving cannot happen).
  test('a preflight claimed while the run looks at it is not cancelled; the run waits for its result', { skip: s.dialect !== 'postgres' }, async () => {
    const preflight = await preflightOf('raced');
    const agentId = (await v.ctx.store.db.selectFrom('machines').select('id').where('name', '=', 'agent').executeTakeFirstOrThrow()).id;
    let run: Promise<{ status: number; raw: string }> | undefined;
    // Another vault process's claim: holds the job's row lock while `rotation run` starts here.
    await v.ctx.store.db.transaction().execute(async (t) => {
      await forUpdate('postgres', t.selectFrom('rotations').select('id').where('id', '=', preflight)).execute();
      await t.updateTable('rotations').set({ state: 'claimed', fence: 1, attempt: 1, claimed_by: agentId, claimed_at: Date.now(), lease_until: Date.now() + 60_000 })
        .where('id', '=', preflight).execute();
      run = v.call(v.operator, 'POST', '/v1/projects/p/secrets/raced/rotation/run');
      await sleep(500); // the run has read the job and waits for its row
    });
    await sleep(300);
    assert.equal(await stateOf(preflight), 'claimed', 'the agent\'s claimed preflight is left to the agent');
    // The agent's result ends the preflight; the run, waiting for it, then creates its rotation.
    await v.ctx.store.db.updateTable('rotations').set({ state: 'preflight_passed', finished_at: Date.now(), lease_until: null }).where('id', '=', preflight).execute();
    const res = await run!;
    assert.equal(res.status, 202, res.raw);
    assert.equal(await stateOf(preflight), 'preflight_passed');
  });
});
