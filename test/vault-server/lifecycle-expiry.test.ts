// Approval, extensions and expiry on both stores, with an injected clock: a bootstrap machine
// waits for approval, extensions are audited and revertible, expired machines are soft-disabled
// and hard-deleted 30 days later by a sweeper that runs one sweep at a time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import { codeOf, createToken, enroll, messageOf } from '../support/enrollment.js';
import { DELETE_HELD_ACTION, HARD_DELETE_AFTER_MS, SWEEPER_LEASE_NAME, acquireLease, sweepMachines } from '../../vault-server/modules/machines/machine-sweeper.js';
import { buildApp } from '../../vault-server/app.js';
import { openVault } from '../../vault-server/vault-state.js';
import { pino } from 'pino';
import { sleep, waitFor } from '../support/wait.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface MachineAnswer { machine: { name: string; status: string; expiresAt: number | null } }
interface History { machine: string; expiresAt: number; extensions: Array<{ previousExpiresAt: number; newExpiresAt: number; reason: string; revertedAt: number | null; actor: string }> }

forEachStore('machine lifetime', (s) => {
  let v: TestVault;
  let clock = Date.parse('2025-01-06T12:00:00Z');

  before(async () => {
    v = await startTestVault(await s.open(), { now: () => clock });
    assert.equal((await v.call(v.operator, 'POST', '/v1/projects', { name: 'app' })).status, 201);
    assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/app/secrets/api', { value: 'app-api-value-1' })).status, 200);
  });
  after(async () => v.close());

  const read = (key: Parameters<TestVault['call']>[0]) => v.call(key, 'GET', '/v1/projects/app/secrets/api');
  const history = async (name: string): Promise<History> => (await v.call(v.operator, 'GET', `/v1/machines/${name}/extensions`)).body as History;

  test('a bootstrap-minted machine cannot read until an operator approves it', async () => {
    const t = await createToken(v, 'bootstrap', { project: 'app', secrets: ['api'], lifetime: '2h' });
    assert.match(t.token, /^skb_[A-Za-z0-9_-]{43}$/);
    const { key, res } = await enroll(v, t.token, { hostname: 'worker-1' });
    const m = res.body as { name: string; status: string; expiresAt: number };
    assert.equal(m.status, 'pending_approval');
    assert.equal(m.expiresAt, clock + 2 * HOUR);
    const waiting = await read(key);
    assert.equal(waiting.status, 403);
    assert.equal(codeOf(waiting), 'SK_ERR_MACHINE_PENDING_APPROVAL');
    assert.equal(codeOf((await enroll(v, t.token, { hostname: 'worker-2' })).res), 'SK_ERR_TOKEN_INVALID', 'single use');

    assert.equal((await v.call(v.operator, 'POST', `/v1/machines/${m.name}/approve`)).status, 200);
    const ok = await read(key);
    assert.equal(ok.status, 200, ok.raw);
    const row = await v.ctx.store.db.selectFrom('machines').select(['approved_at', 'approved_by']).where('name', '=', m.name).executeTakeFirstOrThrow();
    assert.equal(row.approved_at, clock);
    assert.match(row.approved_by ?? '', /^operator:/);
  });

  test('--no-approval makes the minted machine active at once', async () => {
    const t = await createToken(v, 'bootstrap', { project: 'app', lifetime: '1h', noApproval: true });
    const { key, res } = await enroll(v, t.token);
    assert.equal((res.body as { status: string }).status, 'active');
    assert.equal((await read(key)).status, 200);
  });

  test('enabling never approves: a machine disabled while it waited for approval is refused 409 SK_ERR_MACHINE_NOT_APPROVED by `machine enable`, and `machine approve` admits it', async () => {
    const t = await createToken(v, 'bootstrap', { project: 'app', secrets: ['api'], lifetime: '2h' });
    const { key, res } = await enroll(v, t.token, { hostname: 'waiting-1' });
    const name = (res.body as { name: string }).name;
    assert.equal((res.body as { status: string }).status, 'pending_approval');
    const disabled = await v.call(v.operator, 'POST', `/v1/machines/${name}/disable`);
    assert.equal((disabled.body as MachineAnswer).machine.status, 'disabled', disabled.raw);

    const enabled = await v.call(v.operator, 'POST', `/v1/machines/${name}/enable`);
    assert.equal(enabled.status, 409, enabled.raw);
    assert.equal(codeOf(enabled), 'SK_ERR_MACHINE_NOT_APPROVED');
    assert.match(messageOf(enabled), new RegExp(`machine approve ${name}`));
    const row = async () => v.ctx.store.db.selectFrom('machines').select(['status', 'approved_at', 'approved_by']).where('name', '=', name).executeTakeFirstOrThrow();
    assert.deepEqual(await row(), { status: 'disabled', approved_at: null, approved_by: null }, 'the refused enable changed nothing');
    assert.equal(codeOf(await read(key)), 'SK_ERR_MACHINE_DISABLED');
    const enables = await v.ctx.store.db.selectFrom('audit_events').select('outcome').where('action', '=', 'machine.enable').where('target', '=', `machine:${name}`).execute();
    assert.deepEqual(enables, [], 'no enable was recorded');

    const approved = await v.call(v.operator, 'POST', `/v1/machines/${name}/approve`);
    assert.equal(approved.status, 200, approved.raw);
    assert.equal((approved.body as MachineAnswer).machine.status, 'active');
    const after = await row();
    assert.equal(after.approved_at, clock);
    assert.match(after.approved_by ?? '', /^operator:/);
    const approval = await v.ctx.store.db.selectFrom('audit_events').select('details').where('action', '=', 'machine.approve').where('target', '=', `machine:${name}`).executeTakeFirstOrThrow();
    assert.deepEqual({ ...JSON.parse(approval.details ?? '{}') as Record<string, unknown>, machineId: undefined }, { machineId: undefined, from: 'disabled', to: 'active' });
    assert.equal((await read(key)).status, 200);

    // Approved once, it is disabled and enabled like any machine.
    await v.call(v.operator, 'POST', `/v1/machines/${name}/disable`);
    const again = await v.call(v.operator, 'POST', `/v1/machines/${name}/enable`);
    assert.equal((again.body as MachineAnswer).machine.status, 'active', again.raw);
  });

  test('a disabled machine that never needed approval is enabled as before, and approve still refuses it', async () => {
    const t = await createToken(v, 'bootstrap', { project: 'app', secrets: ['api'], lifetime: '2h', noApproval: true });
    const { key, res } = await enroll(v, t.token, { hostname: 'no-approval-1' });
    const enrolled = (res.body as { name: string }).name;
    await v.addMachine('re-enabled-by-operator');
    for (const name of [enrolled, 're-enabled-by-operator']) {
      assert.equal(((await v.call(v.operator, 'POST', `/v1/machines/${name}/disable`)).body as MachineAnswer).machine.status, 'disabled');
      const approve = await v.call(v.operator, 'POST', `/v1/machines/${name}/approve`);
      assert.equal(codeOf(approve), 'SK_ERR_CONFLICT', `${name}: ${approve.raw}`);
      const enabled = await v.call(v.operator, 'POST', `/v1/machines/${name}/enable`);
      assert.equal((enabled.body as MachineAnswer).machine.status, 'active', `${name}: ${enabled.raw}`);
    }
    assert.equal((await read(key)).status, 200);
  });

  test('extensions are audited with their reason, listed, and reverted last first', async () => {
    const t = await createToken(v, 'enrollment', { project: 'app', machineLifetime: '1h', nameTemplate: 'ext-{n}' });
    const { res } = await enroll(v, t.token);
    const name = (res.body as { name: string }).name;
    const start = clock + HOUR;

    const e1 = await v.call(v.operator, 'POST', `/v1/machines/${name}/extend`, { by: '30d', reason: 'project runs longer' });
    assert.equal(e1.status, 200, e1.raw);
    assert.equal((e1.body as MachineAnswer).machine.expiresAt, start + 30 * DAY);
    const e2 = await v.call(v.operator, 'POST', `/v1/machines/${name}/extend`, { by: '1d', reason: 'one more day' });
    assert.equal((e2.body as MachineAnswer).machine.expiresAt, start + 31 * DAY);

    let h = await history(name);
    assert.deepEqual(h.extensions.map((e) => [e.previousExpiresAt, e.newExpiresAt, e.reason, e.revertedAt]), [
      [start, start + 30 * DAY, 'project runs longer', null],
      [start + 30 * DAY, start + 31 * DAY, 'one more day', null],
    ]);
    assert.match(h.extensions[0]?.actor ?? '', /^operator:/);

    const r1 = await v.call(v.operator, 'POST', `/v1/machines/${name}/revert-extension`, { reason: 'not needed after all' });
    assert.equal((r1.body as MachineAnswer).machine.expiresAt, start + 30 * DAY);
    const r2 = await v.call(v.operator, 'POST', `/v1/machines/${name}/revert-extension`);
    assert.equal(r2.status, 200, r2.raw);
    assert.equal((r2.body as MachineAnswer).machine.expiresAt, start);
    const none = await v.call(v.operator, 'POST', `/v1/machines/${name}/revert-extension`, {});
    assert.equal(codeOf(none), 'SK_ERR_CONFLICT');

    h = await history(name);
    assert.equal(h.extensions.length, 2, 'reverted extensions stay in the history');
    assert.ok(h.extensions.every((e) => e.revertedAt === clock));
    assert.equal(h.expiresAt, start);

    const audit = await v.ctx.store.db.selectFrom('audit_events').select(['action', 'details']).where('target', '=', `machine:${name}`).execute();
    const extends_ = audit.filter((a) => a.action === 'machine.extend').map((a) => (JSON.parse(a.details) as { reason: string }).reason);
    assert.deepEqual(extends_, ['project runs longer', 'one more day']);
    assert.equal(audit.filter((a) => a.action === 'machine.revert_extension').length, 2);

    assert.equal(codeOf(await v.call(v.operator, 'POST', `/v1/machines/${name}/extend`, { by: '30d' })), 'SK_ERR_VALIDATION', 'a reason is required');
    assert.equal(codeOf(await v.call(v.operator, 'POST', `/v1/machines/${name}/extend`, { by: 'soon', reason: 'x' })), 'SK_ERR_VALIDATION');
  });

  test('a temp-bootstrap machine cannot be extended past 12 months from its creation', async () => {
    const t = await createToken(v, 'bootstrap', { project: 'app', lifetime: '300d', noApproval: true });
    const name = ((await enroll(v, t.token)).res.body as { name: string }).name;
    assert.equal((await v.call(v.operator, 'POST', `/v1/machines/${name}/extend`, { by: '65d', reason: 'to the limit' })).status, 200);
    const over = await v.call(v.operator, 'POST', `/v1/machines/${name}/extend`, { by: '1m', reason: 'past the limit' });
    assert.equal(over.status, 400);
    assert.equal(codeOf(over), 'SK_ERR_VALIDATION');
    assert.match(messageOf(over), /12 months after its creation/);
    const operatorMachine = 'added-by-operator';
    await v.addMachine(operatorMachine);
    const neverExpires = await v.call(v.operator, 'POST', `/v1/machines/${operatorMachine}/extend`, { by: '1d', reason: 'x' });
    assert.equal(codeOf(neverExpires), 'SK_ERR_CONFLICT', 'a machine without an expiry has nothing to extend');
  });

  test('an expired machine is refused, soft-disabled by the sweeper, and an extension brings it back', async () => {
    const t = await createToken(v, 'enrollment', { project: 'app', machineLifetime: '1h', nameTemplate: 'short-{n}' });
    const { key, res } = await enroll(v, t.token);
    const name = (res.body as { name: string }).name;
    assert.equal((await read(key)).status, 200);

    clock += HOUR;
    const expired = await read(key);
    assert.equal(expired.status, 403);
    assert.equal(codeOf(expired), 'SK_ERR_MACHINE_EXPIRED');
    const sweep = await sweepMachines(v.ctx);
    assert.equal(sweep.ran, true);
    assert.ok(sweep.expired >= 1);
    const list = (await v.call(v.operator, 'GET', '/v1/machines')).body as { machines: Array<{ name: string; status: string }> };
    assert.equal(list.machines.find((m) => m.name === name)?.status, 'expired');
    assert.equal(codeOf(await read(key)), 'SK_ERR_MACHINE_EXPIRED');

    const back = await v.call(v.operator, 'POST', `/v1/machines/${name}/extend`, { by: '2h', reason: 'still needed' });
    assert.equal((back.body as MachineAnswer).machine.status, 'active');
    assert.equal((back.body as MachineAnswer).machine.expiresAt, clock + 2 * HOUR, 'extended from now when the expiry has passed');
    assert.equal((await read(key)).status, 200);
    // Reverting that extension puts the machine straight back to expired.
    const reverted = await v.call(v.operator, 'POST', `/v1/machines/${name}/revert-extension`, {});
    assert.equal((reverted.body as MachineAnswer).machine.status, 'expired');
    assert.equal(codeOf(await read(key)), 'SK_ERR_MACHINE_EXPIRED');
  });

  test('an expired machine that never got its approval comes back waiting for it', async () => {
    const t = await createToken(v, 'bootstrap', { project: 'app', lifetime: '1h' });
    const { res } = await enroll(v, t.token);
    const name = (res.body as { name: string }).name;
    clock += HOUR;
    await sweepMachines(v.ctx);
    const back = await v.call(v.operator, 'POST', `/v1/machines/${name}/extend`, { by: '1h', reason: 'contractor is late' });
    assert.equal((back.body as MachineAnswer).machine.status, 'pending_approval');
  });

  test('30 days after expiry the sweeper hard-deletes the machine: only its audit trail remains', async () => {
    const t = await createToken(v, 'enrollment', { project: 'app', secrets: ['api'], machineLifetime: '1h', nameTemplate: 'doomed-{n}' });
    const { key, res } = await enroll(v, t.token);
    const { name, machineId } = res.body as { name: string; machineId: string };
    await v.call(v.operator, 'POST', '/v1/grants', { machine: name, project: 'app' });
    await v.call(v.operator, 'POST', `/v1/machines/${name}/extend`, { by: '1h', reason: 'a little longer' });
    assert.equal((await read(key)).status, 200);
    const expiresAt = clock + 2 * HOUR;

    clock = expiresAt;
    assert.equal((await sweepMachines(v.ctx)).ran, true);
    clock = expiresAt + HARD_DELETE_AFTER_MS - 1;
    const early = await sweepMachines(v.ctx);
    assert.ok(await v.ctx.store.db.selectFrom('machines').select('id').where('id', '=', machineId).executeTakeFirst(), `deleted too early: ${JSON.stringify(early)}`);

    clock = expiresAt + HARD_DELETE_AFTER_MS;
    const sweep = await sweepMachines(v.ctx);
    assert.ok(sweep.deleted >= 1);
    const db = v.ctx.store.db;
    assert.equal(await db.selectFrom('machines').select('id').where((eb) => eb.or([eb('id', '=', machineId), eb('key_id', '=', key.keyId), eb('name', '=', name)])).executeTakeFirst(), undefined);
    assert.deepEqual(await db.selectFrom('grants').select('id').where('machine_id', '=', machineId).execute(), []);
    assert.deepEqual(await db.selectFrom('machine_extensions').select('id').where('machine_id', '=', machineId).execute(), []);
    const unknownKey = await read(key);
    assert.equal(codeOf(unknownKey), 'SK_ERR_SIGNATURE_UNKNOWN_KEY', 'its key no longer authenticates');

    const trail = await db.selectFrom('audit_events').select(['action', 'outcome', 'actor_kind']).where('target', '=', `machine:${name}`).orderBy('seq').execute();
    assert.deepEqual(trail.map((e) => e.action).filter((a) => a !== 'grant.add'),
      ['machine.enroll', 'machine.extend', 'machine.expire', 'machine.delete']);
    assert.equal(trail.at(-1)?.actor_kind, 'system');
    const verify = await v.call(v.operator, 'GET', '/v1/audit/verify');
    assert.equal((verify.body as { ok: boolean }).ok, true, JSON.stringify(verify.body));
  });

  test('a machine a lease role names as its agent is kept past its hard delete, with a warning and machine.delete_held once; with another agent named, the next sweep deletes it', async () => {
    const t = await createToken(v, 'enrollment', { project: 'app', machineLifetime: '1h', nameTemplate: 'lease-agent-{n}' });
    const { res } = await enroll(v, t.token);
    const { name, machineId } = res.body as { name: string; machineId: string };
    const admin = { host: 'db.internal', port: '6379', database: 'app', username: 'admin', password: 'held-admin-pw-7c1e' };
    assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/app/secrets/lease-admin', { fields: admin })).status, 200);
    const roleBody = { engine: 'redis', adminSecret: 'lease-admin', ttl: '1h', maxTtl: '2h', grant: { acl: '~app:* +@read' } };
    const put = await v.call(v.operator, 'PUT', '/v1/projects/app/lease-roles/held-cache', { ...roleBody, agentMachine: name });
    assert.equal(put.status, 200, put.raw);
    const db = v.ctx.store.db;
    const agentOfRole = async (): Promise<string | null> => (await db.selectFrom('lease_roles').select('agent_machine_id').where('name', '=', 'held-cache').executeTakeFirstOrThrow()).agent_machine_id;
    const machineRow = async (): Promise<unknown> => db.selectFrom('machines').select('id').where('id', '=', machineId).executeTakeFirst();
    const heldEvents = async (): Promise<Array<{ details: string }>> => db.selectFrom('audit_events').select('details').where('action', '=', DELETE_HELD_ACTION).where('target', '=', `machine:${name}`).execute();
    const expiresAt = clock + HOUR;

    clock = expiresAt;
    await sweepMachines(v.ctx);
    clock = expiresAt + HARD_DELETE_AFTER_MS;
    const logsBefore = v.logs.length;
    const sweep = await sweepMachines(v.ctx);
    assert.ok(await machineRow(), `the lease role's agent is not hard-deleted: ${JSON.stringify(sweep)}`);
    assert.equal(await agentOfRole(), machineId, 'the role keeps its agent');
    assert.equal(sweep.held, 1, JSON.stringify(sweep));
    const events = await heldEvents();
    assert.equal(events.length, 1);
    const details = JSON.parse(events[0]?.details ?? '{}') as { machineId: string; leaseRoles: Array<{ project: string; role: string }> };
    assert.deepEqual([details.machineId, details.leaseRoles], [machineId, [{ project: 'app', role: 'held-cache' }]]);
    const warnings = v.logs.slice(logsBefore).map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]?.msg ?? '', new RegExp(`machine ${name} .*agent of lease role app/held-cache: kept`));
    assert.ok(!v.logs.slice(logsBefore).some((l) => l.includes(admin.password)), 'no secret in the log');

    // Every minute the sweeper finds it again: no second event, no second warning.
    clock += 60_000;
    assert.equal((await sweepMachines(v.ctx)).held, 1);
    assert.equal((await heldEvents()).length, 1);
    assert.equal(v.logs.slice(logsBefore).filter((l) => (JSON.parse(l) as { level: number }).level === 40).length, 1);

    // Another agent named: the next sweep deletes the machine, and the role keeps its new agent.
    await v.addMachine('lease-agent-next');
    const moved = await v.call(v.operator, 'PUT', '/v1/projects/app/lease-roles/held-cache', { ...roleBody, agentMachine: 'lease-agent-next' });
    assert.equal(moved.status, 200, moved.raw);
    const later = await sweepMachines(v.ctx);
    assert.ok(later.deleted >= 1 && later.held === 0, JSON.stringify(later));
    assert.equal(await machineRow(), undefined);
    const next = await db.selectFrom('machines').select('id').where('name', '=', 'lease-agent-next').executeTakeFirstOrThrow();
    assert.equal(await agentOfRole(), next.id);
  });

  test('one sweep at a time: a lease held by another vault process makes a sweep stand aside', async () => {
    const t = await createToken(v, 'enrollment', { project: 'app', machineLifetime: '1h', nameTemplate: 'leased-{n}' });
    const { res } = await enroll(v, t.token);
    const name = (res.body as { name: string }).name;
    clock += HOUR;
    await v.ctx.store.db.insertInto('sweeper_leases').values({ name: SWEEPER_LEASE_NAME, holder: 'another-vault', lease_until: clock + 60_000 })
      .onConflict((oc) => oc.column('name').doUpdateSet({ holder: 'another-vault', lease_until: clock + 60_000 })).execute();
    const aside = await sweepMachines(v.ctx);
    assert.deepEqual(aside, { ran: false, expired: 0, deleted: 0, held: 0 });
    const status = async (): Promise<string> => (await v.ctx.store.db.selectFrom('machines').select('status').where('name', '=', name).executeTakeFirstOrThrow()).status;
    assert.equal(await status(), 'active');

    clock += 60_000; // the other holder's lease ran out
    const mine = await sweepMachines(v.ctx);
    assert.equal(mine.ran, true);
    assert.equal(await status(), 'expired');

    // Two processes taking the lease at the same moment: exactly one gets it. (Two whole sweeps
    // started together may legitimately both run, one after the other: the first releases the
    // lease when it is done, so the race is on the taking, tested here without the release.)
    const both = await Promise.all([acquireLease(v.ctx, SWEEPER_LEASE_NAME, 'vault-a', 60_000), acquireLease(v.ctx, SWEEPER_LEASE_NAME, 'vault-b', 60_000)]);
    assert.deepEqual([...both].sort(), [false, true]);
    const winner = both[0] ? 'vault-a' : 'vault-b';
    const loser = both[0] ? 'vault-b' : 'vault-a';
    assert.deepEqual(await sweepMachines(v.ctx, { holder: loser }), { ran: false, expired: 0, deleted: 0, held: 0 }, 'a sweep stands aside while the winner holds the lease');
    assert.equal((await sweepMachines(v.ctx, { holder: winner })).ran, true, 'the holder renews its own lease');
    assert.equal((await sweepMachines(v.ctx, { holder: loser })).ran, true, 'a finished sweep releases the lease');
  });

  test('a vault started with the sweeper soft-disables expired machines on its own and stops when it closes', async () => {
    const t = await createToken(v, 'enrollment', { project: 'app', machineLifetime: '1h', nameTemplate: 'timed-{n}' });
    const { res } = await enroll(v, t.token);
    const name = (res.body as { name: string }).name;
    clock += HOUR;
    const status = async (): Promise<string> => (await v.ctx.store.db.selectFrom('machines').select('status').where('name', '=', name).executeTakeFirstOrThrow()).status;
    const second = await buildApp({
      store: v.ctx.store, keyring: await openVault(v.ctx.store, v.rootKey), log: pino({ level: 'silent' }), authorities: ['vault.test:8200'],
      now: () => clock, machineSweeper: { everyMs: 25 },
    });
    try {
      await waitFor(status, { what: `the sweeper (every 25 ms) to mark ${name} expired`, timeoutMs: 30_000, intervalMs: 25, until: (st) => st === 'expired' });
    } finally {
      await second.app.close();
    }
    // Closed: no further sweeps, so a newly expired machine stays as it is.
    const later = await enroll(v, t.token);
    const laterName = (later.res.body as { name: string }).name;
    clock += HOUR;
    // A deliberate wait on time, for something that must not happen: six of the closed sweeper's
    // 25 ms intervals, in which a sweeper still running would have expired the machine.
    await sleep(150);
    const row = await v.ctx.store.db.selectFrom('machines').select('status').where('name', '=', laterName).executeTakeFirstOrThrow();
    assert.equal(row.status, 'active');
  });
});
