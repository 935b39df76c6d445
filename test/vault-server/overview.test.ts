// GET /v1/overview (issue 29): the dashboard's overview in one answer, on both stores — health,
// rotation counts as jobs move (due now → running), the rotation agents named by a policy or by a
// label, machines waiting for approval (a bootstrap-token enrollment), and the last canary trip
// (a real read of a decoy by a machine). Operators only: an AI agent's or a machine's key is
// refused. No stored value appears in the answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import { codeOf, createToken, enroll } from '../support/enrollment.js';
import { generateIdentityKey } from '../../protocol/keys.js';
import type { IdentityKey } from '../../protocol/keys.js';
import type { Overview } from '../../vault-server/modules/overview/overview-service.js';

const VALUE = 'overview-value-must-not-appear';

forEachStore('GET /v1/overview', (s) => {
  let v: TestVault;
  let agent: IdentityKey;
  const fields = { host: 'db.internal', port: '5432', username: 'app', password: `${VALUE}-db` };

  const ok = async (res: Promise<InjectedResponse>, status = 200): Promise<InjectedResponse> => {
    const r = await res;
    assert.equal(r.status, status, r.raw);
    return r;
  };
  const get = async (): Promise<Overview> => {
    const res = await ok(v.call(v.operator, 'GET', '/v1/overview'));
    assert.equal(res.raw.includes(VALUE), false, 'no stored value in the overview');
    return res.body as Overview;
  };

  before(async () => {
    v = await startTestVault(await s.open());
  });
  after(async () => v.close());

  test('an empty vault: ready, every count zero, every list empty', async () => {
    const o = await get();
    assert.equal(o.health.ready, true);
    assert.deepEqual([o.health.store, o.health.migrations, o.health.rootKey], ['ok', 'current', 'loaded']);
    assert.match(o.health.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(o.rotations, { policies: 0, paused: 0, dueNow: 0, dueNext24h: 0, running: 0, stuck: 0, failing: 0, drifting: 0, failedLast24h: 0 });
    assert.deepEqual(o.canaries, { total: 0, lockedProjects: 0, lastTrips: [] });
    assert.deepEqual(o.agents, { total: 0, online: 0, list: [] });
    assert.deepEqual(o.machines, { total: 0, active: 0, pendingApproval: 0, disabled: 0, expired: 0, seenLast24h: 0, pending: [] });
  });

  test('counts follow the vault: rotations due then running, agents by name and label, a pending machine, a canary trip', async () => {
    await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'p' }), 201);
    await ok(v.call(v.operator, 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...fields, username: 'admin', password: `${VALUE}-admin` } }));
    await ok(v.call(v.operator, 'PUT', '/v1/projects/p/secrets/db', { fields }));
    await ok(v.call(v.operator, 'PUT', '/v1/projects/p/secrets/db2', { fields }));
    agent = await v.addMachine('agent');
    await v.addMachine('agent2', ['rot']);
    await ok(v.call(v.operator, 'POST', '/v1/grants', { machine: 'agent', project: 'p', secret: 'admin' }), 201);
    await ok(v.call(v.operator, 'PUT', '/v1/projects/p/secrets/db/rotation', { provider: 'postgres', agent: 'agent', adminSecret: 'admin', schedule: '*/5 * * * *' }));
    await ok(v.call(v.operator, 'PUT', '/v1/projects/p/secrets/db2/rotation', { provider: 'postgres', agentLabel: 'rot', adminSecret: 'admin', paused: true }));
    const id = ((await ok(v.call(v.operator, 'POST', '/v1/projects/p/secrets/db/rotation/run'), 202)).body as { id: string }).id;

    let o = await get();
    assert.deepEqual(o.rotations, { policies: 2, paused: 1, dueNow: 1, dueNext24h: 1, running: 0, stuck: 0, failing: 0, drifting: 0, failedLast24h: 0 });
    assert.deepEqual(o.agents.list.map((a) => a.name).sort(), ['agent', 'agent2']);
    assert.equal(o.agents.total, 2);

    await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/claim`));
    o = await get();
    assert.deepEqual([o.rotations.dueNow, o.rotations.running], [0, 1]);

    // A machine enrolled with a bootstrap token waits for approval.
    const { token } = await createToken(v, 'bootstrap', { project: 'p', lifetime: '1h' });
    const enrolled = await enroll(v, token, { hostname: 'runner-7' });
    assert.equal(enrolled.res.status, 201, enrolled.res.raw);
    o = await get();
    assert.equal(o.machines.pendingApproval, 1);
    assert.deepEqual(o.machines.pending.map((m) => m.createdVia), ['bootstrap_token']);

    // A canary read by a machine: the trip is listed, the project locked, the reader disabled.
    await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'c' }), 201);
    await ok(v.call(v.operator, 'POST', '/v1/projects/c/canaries', { name: 'honey', value: `${VALUE}-canary` }), 201);
    const reader = await v.addMachine('reader');
    await ok(v.call(v.operator, 'POST', '/v1/grants', { machine: 'reader', project: 'c' }), 201);
    await v.call(reader, 'GET', '/v1/projects/c/secrets/honey');
    o = await get();
    assert.equal(o.canaries.total, 1);
    assert.equal(o.canaries.lockedProjects, 1);
    assert.equal(o.canaries.lastTrips.length, 1);
    assert.deepEqual({ ...o.canaries.lastTrips[0], at: 0 }, { at: 0, project: 'c', canary: 'honey', machine: 'reader', sourceIp: '127.0.0.1' });
    assert.deepEqual([o.machines.total, o.machines.active, o.machines.pendingApproval, o.machines.disabled], [4, 2, 1, 1]);
  });

  test('operators only: an AI agent with every scope and a machine are refused', async () => {
    const ai = generateIdentityKey();
    await ok(v.call(v.operator, 'POST', '/v1/ai-agents', { name: 'bot', publicKey: Buffer.from(ai.publicKey).toString('base64'), scopes: ['all'] }), 201);
    for (const key of [ai, agent]) {
      const res = await v.call(key, 'GET', '/v1/overview');
      assert.equal(res.status, 401, res.raw);
      assert.equal(codeOf(res), 'SK_ERR_SIGNATURE_UNKNOWN_KEY');
    }
  });
});
