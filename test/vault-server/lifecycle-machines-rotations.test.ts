// The lifecycle of machines and rotation policies (issue "A lifecycle for everything"), on both
// stores: `machine remove` of a policy's agent (refused, then forced: the policy paused, the
// scheduler skipping it, the grants gone, the audit chain intact), `machine rename` keeping the
// machine's reads, and a policy's pause, resume and delete. The agent's side is driven directly
// with signed calls and the scheduler pass is called with an injected clock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import type { IdentityKey } from '../../protocol/keys.js';
import { runSchedulerTick } from '../../vault-server/modules/rotations/rotation-scheduler.js';

const codeOf = (r: InjectedResponse): string | undefined => (r.body as { error?: { code?: string } } | undefined)?.error?.code;

interface AuditEventView { action: string; target: string; outcome: string; details: Record<string, unknown> | null }

forEachStore('machine and rotation policy lifecycle', (s) => {
  let clock = Date.parse('2026-05-04T10:15:00Z');
  let v: TestVault;
  let rotator: IdentityKey;
  const op = (): IdentityKey => v.operator;
  const db = { host: 'db.internal', port: '5432', username: 'app', password: 'live-password-bbbb', database: 'app' };

  before(async () => {
    v = await startTestVault(await s.open(), { now: () => clock });
    assert.equal((await v.call(op(), 'POST', '/v1/projects', { name: 'p' })).status, 201);
    await v.call(op(), 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...db, username: 'admin', password: 'admin-password-cccc' } });
    rotator = await v.addMachine('rotator', ['rotators']);
    await v.call(op(), 'POST', '/v1/grants', { machine: 'rotator', project: 'p', secret: 'admin' });
  });
  after(async () => v.close());

  /** A database secret under an hourly policy; `agent`: a machine name, else the `rotators` label. */
  async function policy(name: string, agent?: string): Promise<void> {
    assert.equal((await v.call(op(), 'PUT', `/v1/projects/p/secrets/${name}`, { fields: db })).status, 200);
    const res = await v.call(op(), 'PUT', `/v1/projects/p/secrets/${name}/rotation`, {
      provider: 'postgres', adminSecret: 'admin', schedule: '0 * * * *', ...(agent ? { agent } : { agentLabel: 'rotators' }),
    });
    assert.equal(res.status, 200, res.raw);
  }
  async function rotationsOf(name: string): Promise<Array<{ id: string; kind: string; state: string }>> {
    return v.ctx.store.db.selectFrom('rotations').innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
      .select(['rotations.id as id', 'rotations.kind as kind', 'rotations.state as state'])
      .where('secrets.name', '=', name).orderBy('rotations.created_at').execute();
  }
  async function auditEvents(): Promise<AuditEventView[]> {
    return ((await v.call(op(), 'GET', '/v1/audit?limit=10000')).body as { events: AuditEventView[] }).events;
  }

  test('machine remove of a policy\'s agent is refused with SK_ERR_IN_USE naming the policy; --force pauses it, the scheduler skips it, the grants go, the audit chain holds', async () => {
    const agent = await v.addMachine('agent-1', ['db-agents']);
    await v.call(op(), 'POST', '/v1/grants', { machine: 'agent-1', project: 'p', secret: 'admin' });
    await policy('orders', 'agent-1');
    const machineId = (await v.ctx.store.db.selectFrom('machines').select('id').where('name', '=', 'agent-1').executeTakeFirstOrThrow()).id;

    const refused = await v.call(op(), 'DELETE', '/v1/machines/agent-1');
    assert.deepEqual([refused.status, codeOf(refused)], [409, 'SK_ERR_IN_USE'], refused.raw);
    assert.deepEqual((refused.body as { error: { policies: unknown } }).error.policies, [{ project: 'p', secret: 'orders' }]);
    assert.equal((await v.call(agent, 'GET', '/v1/agent/rotations')).status, 200, 'refused: the machine is untouched');

    const removed = await v.call(op(), 'DELETE', '/v1/machines/agent-1?force=true');
    assert.equal(removed.status, 200, removed.raw);
    const r = (removed.body as { removed: { grantsRemoved: number; pausedPolicies: unknown } }).removed;
    assert.equal(r.grantsRemoved, 1);
    assert.deepEqual(r.pausedPolicies, [{ project: 'p', secret: 'orders' }]);

    // The machine is gone, with its key and grants.
    assert.equal(codeOf(await v.call(agent, 'GET', '/v1/agent/rotations')), 'SK_ERR_SIGNATURE_UNKNOWN_KEY');
    assert.equal((await v.ctx.store.db.selectFrom('grants').select('id').where('machine_id', '=', machineId).execute()).length, 0);
    assert.equal((await v.call(op(), 'GET', '/v1/machines/agent-1/extensions')).status, 404);

    // Its policy is paused and says why, in status and list.
    const status = (await v.call(op(), 'GET', '/v1/projects/p/secrets/orders/rotation')).body as { enabled: boolean; pausedReason: string | null; nextRunAt: number | null };
    assert.deepEqual([status.enabled, status.pausedReason, status.nextRunAt], [false, 'machine_removed', null]);
    const listed = ((await v.call(op(), 'GET', '/v1/rotations')).body as { policies: Array<{ secret: string; enabled: boolean; pausedReason: string | null; agent: string | null }> }).policies
      .find((p) => p.secret === 'orders');
    assert.deepEqual([listed?.enabled, listed?.pausedReason, listed?.agent], [false, 'machine_removed', null]);

    // The scheduler does not run it, though it is long due.
    clock += 3 * 3_600_000;
    await runSchedulerTick(v.ctx);
    assert.deepEqual((await rotationsOf('orders')).filter((x) => x.kind === 'rotate'), []);

    // Resuming a policy without an agent is refused.
    const resume = await v.call(op(), 'POST', '/v1/projects/p/secrets/orders/rotation/resume');
    assert.deepEqual([resume.status, codeOf(resume)], [400, 'SK_ERR_ROTATION_POLICY'], resume.raw);

    // The audit log keeps the machine's trail: the refusal, the pause, the removal; the chain verifies.
    const events = await auditEvents();
    const denied = events.find((e) => e.action === 'machine.remove' && e.outcome === 'denied');
    assert.equal(denied?.details?.['code'], 'SK_ERR_IN_USE');
    const pause = events.find((e) => e.action === 'rotation.pause' && e.target === 'secret:p/orders');
    assert.deepEqual([pause?.details?.['reason'], pause?.details?.['machineId']], ['machine_removed', machineId]);
    const removal = events.find((e) => e.action === 'machine.remove' && e.outcome === 'success');
    assert.deepEqual([removal?.target, removal?.details?.['machineId'], removal?.details?.['keyId'], removal?.details?.['labels']], ['machine:agent-1', machineId, agent.keyId, ['db-agents']]);
    const verify = (await v.call(op(), 'GET', '/v1/audit/verify')).body as { ok: boolean };
    assert.equal(verify.ok, true);
  });

  test('machine remove of a machine no policy names needs no --force; an unknown one is SK_ERR_NOT_FOUND', async () => {
    await v.addMachine('spare');
    const res = await v.call(op(), 'DELETE', '/v1/machines/spare');
    assert.equal(res.status, 200, res.raw);
    assert.equal(codeOf(await v.call(op(), 'DELETE', '/v1/machines/spare')), 'SK_ERR_NOT_FOUND');
    // force rides in the query string: a body on DELETE is refused before any route runs.
    const withBody = await v.call(op(), 'DELETE', '/v1/machines/rotator', { force: true });
    assert.equal(codeOf(withBody), 'SK_ERR_BODY_UNEXPECTED');
  });

  test('machine rename keeps the key and the grants: the machine still reads its granted secret; a taken name is SK_ERR_CONFLICT', async () => {
    await v.call(op(), 'PUT', '/v1/projects/p/secrets/greeting', { value: 'not-a-real-secret' });
    const reader = await v.addMachine('reader');
    await v.addMachine('taken');
    await v.call(op(), 'POST', '/v1/grants', { machine: 'reader', project: 'p', secret: 'greeting' });
    assert.equal((await v.call(reader, 'GET', '/v1/projects/p/secrets/greeting')).status, 200);

    const clash = await v.call(op(), 'POST', '/v1/machines/reader/rename', { name: 'taken' });
    assert.deepEqual([clash.status, codeOf(clash)], [409, 'SK_ERR_CONFLICT']);
    const renamed = await v.call(op(), 'POST', '/v1/machines/reader/rename', { name: 'reader-2' });
    assert.equal(renamed.status, 200, renamed.raw);
    assert.equal((renamed.body as { machine: { name: string; keyId: string } }).machine.keyId, reader.keyId);

    const read = await v.call(reader, 'GET', '/v1/projects/p/secrets/greeting');
    assert.equal(read.status, 200, read.raw);
    const grants = ((await v.call(op(), 'GET', '/v1/grants?machine=reader-2')).body as { grants: Array<{ secret: string | null }> }).grants;
    assert.deepEqual(grants.map((g) => g.secret), ['greeting']);
    assert.equal((await v.call(op(), 'POST', '/v1/machines/reader/approve')).status, 404, 'the old name is free');
    const event = (await auditEvents()).find((e) => e.action === 'machine.rename');
    assert.deepEqual([event?.details?.['from'], event?.details?.['to']], ['reader', 'reader-2']);
  });

  test('a paused policy is not run by the scheduler; resumed, it runs at its next scheduled instant', async () => {
    clock = Date.parse('2026-05-05T10:15:00Z');
    await policy('billing');
    const paused = await v.call(op(), 'POST', '/v1/projects/p/secrets/billing/rotation/pause');
    assert.equal(paused.status, 200, paused.raw);
    assert.deepEqual((paused.body as { policy: { enabled: boolean; pausedReason: string } }).policy, { project: 'p', secret: 'billing', enabled: false, pausedReason: 'operator', nextRunAt: null });

    clock = Date.parse('2026-05-05T12:30:00Z');
    await runSchedulerTick(v.ctx);
    assert.deepEqual((await rotationsOf('billing')).filter((r) => r.kind === 'rotate'), [], 'paused: no rotation although two runs came due');

    const resumed = await v.call(op(), 'POST', '/v1/projects/p/secrets/billing/rotation/resume');
    assert.equal(resumed.status, 200, resumed.raw);
    const nextRunAt = Date.parse('2026-05-05T13:00:00Z');
    assert.deepEqual((resumed.body as { policy: unknown }).policy, { project: 'p', secret: 'billing', enabled: true, pausedReason: null, nextRunAt });
    await runSchedulerTick(v.ctx);
    assert.deepEqual((await rotationsOf('billing')).filter((r) => r.kind === 'rotate'), [], 'the missed runs are not made up');
    clock = nextRunAt;
    await runSchedulerTick(v.ctx);
    assert.equal((await rotationsOf('billing')).filter((r) => r.kind === 'rotate').length, 1);

    const actions = (await auditEvents()).filter((e) => e.target === 'secret:p/billing').map((e) => e.action);
    assert.ok(actions.includes('rotation.pause') && actions.includes('rotation.resume'), actions.join(' '));
  });

  test('rotation delete is refused while a rotation is unfinished; --force cancels one no agent claimed, never a claimed one', async () => {
    clock = Date.parse('2026-05-06T10:15:00Z');
    await policy('ledger');
    const [preflight] = await rotationsOf('ledger');
    assert.deepEqual([preflight?.kind, preflight?.state], ['preflight', 'pending']);
    const refused = await v.call(op(), 'DELETE', '/v1/projects/p/secrets/ledger/rotation');
    assert.deepEqual([refused.status, codeOf(refused)], [409, 'SK_ERR_ROTATION_IN_PROGRESS'], refused.raw);

    // A rotation an agent has claimed: refused even with --force.
    const run = await v.call(op(), 'POST', '/v1/projects/p/secrets/ledger/rotation/run');
    assert.equal(run.status, 202, run.raw);
    const id = (run.body as { id: string }).id;
    assert.equal((await v.call(rotator, 'POST', `/v1/agent/rotations/${id}/claim`)).status, 200);
    const forcedClaimed = await v.call(op(), 'DELETE', '/v1/projects/p/secrets/ledger/rotation?force=true');
    assert.deepEqual([forcedClaimed.status, codeOf(forcedClaimed)], [409, 'SK_ERR_ROTATION_IN_PROGRESS'], forcedClaimed.raw);
    assert.equal((await v.call(op(), 'GET', '/v1/projects/p/secrets/ledger/rotation')).status, 200, 'the policy stays');

    // Resolved, a new unclaimed job: --force cancels it and its pending version is discarded.
    assert.equal((await v.call(op(), 'POST', '/v1/projects/p/secrets/ledger/rotation/resolve', { use: 'live' })).status, 200);
    const second = (await v.call(op(), 'POST', '/v1/projects/p/secrets/ledger/rotation/run')).body as { id: string };
    const forced = await v.call(op(), 'DELETE', '/v1/projects/p/secrets/ledger/rotation?force=true');
    assert.equal(forced.status, 200, forced.raw);
    assert.equal((forced.body as { deleted: { cancelledRotationId: string } }).deleted.cancelledRotationId, second.id);
    assert.equal((await rotationsOf('ledger')).find((r) => r.id === second.id)?.state, 'cancelled');
    const versions = ((await v.call(op(), 'GET', '/v1/projects/p/secrets/ledger/versions')).body as { versions: Array<{ state: string }> }).versions;
    assert.equal(versions.filter((x) => x.state === 'pending').length, 0);
    assert.equal(codeOf(await v.call(op(), 'GET', '/v1/projects/p/secrets/ledger/rotation')), 'SK_ERR_NOT_FOUND');
    // The secret is writable again: no policy manages it.
    assert.equal((await v.call(op(), 'PUT', '/v1/projects/p/secrets/ledger', { fields: db })).status, 200);
    const event = (await auditEvents()).find((e) => e.action === 'rotation.policy.delete');
    assert.deepEqual([event?.target, event?.details?.['cancelledRotationId']], ['secret:p/ledger', second.id]);
    assert.equal(((await v.call(op(), 'GET', '/v1/audit/verify')).body as { ok: boolean }).ok, true);
  });
});
