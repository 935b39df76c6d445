// Leased credentials, the vault's half (issue #30, docs/leases.md), on both stores, against a real
// in-process vault. No agent runs here: the test plays the agent by signing the agent's requests
// with the agent machine's key (poll, claim, confirm, fail, reconcile), and plays the application
// machine the same way. The database logins themselves are the agent's (L-agent's tests).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { generateIdentityKey } from '../../protocol/keys.js';
import type { IdentityKey } from '../../protocol/keys.js';
import type { Lease, LeaseJobClaim, LeaseJobSummary, LeaseRoleView, LeaseSummary } from '../../protocol/api-types.js';
import { forEachStore } from '../support/stores.js';
import { startTestVault, TEST_AUTHORITY } from '../support/vault-app.js';
import { waitFor } from '../support/wait.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import { sweepLeases } from '../../vault-server/modules/leases/lease-sweeper.js';
import { revokeLeaseInTx } from '../../vault-server/modules/leases/leases-service.js';
import { writeTx } from '../../vault-server/context.js';
import { loginName, parseLeaseGrant } from '../../vault-server/modules/leases/lease-rules.js';

const ADMIN_PASSWORD = 'lease-admin-pw-0d9f';
const ADMIN = { host: 'db.internal', port: '6379', database: 'app', username: 'admin', password: ADMIN_PASSWORD };
const b64 = (k: IdentityKey): string => Buffer.from(k.publicKey).toString('base64');

test('lease rules: login names fit 32 lowercase [a-z0-9_] characters and carry the vault prefix', () => {
  const name = loginName('3f9a1c', 'App-RO.with-a-very-long-role-name-indeed', 'k2m9x0ab');
  assert.ok(name.startsWith('sk3f9a1c_app_ro'), name);
  assert.ok(name.endsWith('_k2m9x0ab'), name);
  assert.ok(name.length <= 32, name);
  assert.match(name, /^[a-z0-9_]+$/);
  assert.match(loginName('3f9a1c', 'x'), /^sk3f9a1c_x_[a-z0-9]{8}$/);
  assert.deepEqual(parseLeaseGrant('mongodb', { roles: [{ role: 'readWrite', db: 'app' }] }), { roles: [{ role: 'readWrite', db: 'app' }] });
  for (const rule of ['>secret', '<old', '#abc', '!abc', 'nopass', 'resetpass', 'on', 'off', 'reset', 'resetkeys', 'RESETCHANNELS']) {
    assert.throws(() => parseLeaseGrant('redis', { acl: `~app:* ${rule}` }), /SK_ERR_VALIDATION|sets a password/, rule);
  }
  assert.throws(() => parseLeaseGrant('postgres', { grantRole: 'x' }), /--member-of/);
});

forEachStore('leases', (s) => {
  let v: TestVault;
  let clock = Date.now();
  let agent: IdentityKey;
  let app1: IdentityKey;
  let app2: IdentityKey;
  let vid6 = '';

  const call = (key: IdentityKey, method: string, path: string, body?: unknown): Promise<InjectedResponse> => v.call(key, method, path, body);
  const ok = async (key: IdentityKey, method: string, path: string, body?: unknown, expect = 200): Promise<InjectedResponse> => {
    const res = await call(key, method, path, body);
    assert.equal(res.status, expect, `${method} ${path}: ${res.raw}`);
    return res;
  };
  const codeOf = (res: InjectedResponse): string | undefined => (res.body as { error?: { code?: string } } | undefined)?.error?.code;
  const putRole = (name: string, body: Record<string, unknown>): Promise<InjectedResponse> =>
    call(v.operator, 'PUT', `/v1/projects/shop/lease-roles/${name}`, { engine: 'redis', agentMachine: 'agent1', adminSecret: 'admin', ttl: '1h', maxTtl: '2h', grant: { acl: '~app:* +@read' }, ...body });
  /** The agent's poll (wait=0): the lease jobs it may claim now. */
  const pollLeaseJobs = async (): Promise<LeaseJobSummary[]> => {
    const res = await call(agent, 'GET', '/v1/agent/rotations?wait=0');
    if (res.status === 204) return [];
    assert.equal(res.status, 200, res.raw);
    return (res.body as { leaseJobs?: LeaseJobSummary[] }).leaseJobs ?? [];
  };
  const jobOf = async (leaseId: string, kind: string): Promise<LeaseJobSummary> => {
    const job = (await pollLeaseJobs()).find((j) => j.leaseId === leaseId && j.kind === kind);
    assert.ok(job, `a ${kind} job for lease ${leaseId} in the agent poll`);
    return job;
  };
  const claim = async (jobId: string): Promise<LeaseJobClaim> => (await ok(agent, 'POST', `/v1/agent/lease-jobs/${jobId}/claim`)).body as LeaseJobClaim;
  const runJob = async (leaseId: string, kind: string): Promise<LeaseJobClaim> => {
    const c = await claim((await jobOf(leaseId, kind)).id);
    await ok(agent, 'POST', `/v1/agent/lease-jobs/${c.id}/confirm`, { fence: c.fence });
    return c;
  };
  /** A lease request that returns at once (202, creating). */
  const request = async (machine: IdentityKey, role: string, body: Record<string, unknown> = {}): Promise<string> => {
    const res = await ok(machine, 'POST', `/v1/projects/shop/leases/${role}?wait=0`, body, 202);
    assert.equal((res.body as { state: string }).state, 'creating');
    return (res.body as { leaseId: string }).leaseId;
  };
  /** A project of its own with an admin secret, a Redis lease role `r` served by agent1, and app2 granted it. */
  const leaseProject = async (name: string): Promise<void> => {
    await ok(v.operator, 'POST', '/v1/projects', { name }, 201);
    await ok(v.operator, 'PUT', `/v1/projects/${name}/secrets/admin`, { fields: ADMIN });
    await ok(v.operator, 'POST', '/v1/grants', { machine: 'agent1', project: name, secret: 'admin' }, 201);
    await ok(v.operator, 'PUT', `/v1/projects/${name}/lease-roles/r`, { engine: 'redis', agentMachine: 'agent1', adminSecret: 'admin', ttl: '1h', maxTtl: '2h', grant: { acl: '~app:* +@read' } });
    await ok(v.operator, 'POST', '/v1/grants', { machine: 'app2', project: name, leaseRole: 'r' }, 201);
  };
  /** Request, create (as the agent), and return the active lease as its machine sees it. */
  const activeLease = async (machine: IdentityKey, role: string): Promise<Lease> => {
    const id = await request(machine, role);
    await runJob(id, 'create');
    return (await ok(machine, 'GET', `/v1/leases/${id}`)).body as Lease;
  };
  const leaseState = async (id: string): Promise<string> => ((await ok(v.operator, 'GET', '/v1/leases')).body as { leases: LeaseSummary[] }).leases.find((l) => l.leaseId === id)?.state ?? 'none';
  const auditActions = async (): Promise<Array<{ action: string; target: string; outcome: string }>> =>
    ((await ok(v.operator, 'GET', '/v1/audit?limit=10000&order=asc')).body as { events: Array<{ action: string; target: string; outcome: string }> }).events;

  before(async () => {
    v = await startTestVault(await s.open(), { now: () => clock });
    agent = await v.addMachine('agent1');
    app1 = await v.addMachine('app1');
    app2 = await v.addMachine('app2');
    await ok(v.operator, 'POST', '/v1/projects', { name: 'shop' }, 201);
    await ok(v.operator, 'PUT', '/v1/projects/shop/secrets/admin', { fields: ADMIN });
    await ok(v.operator, 'POST', '/v1/grants', { machine: 'agent1', project: 'shop', secret: 'admin' }, 201);
    assert.equal((await putRole('cache-ro', {})).status, 200);
    assert.equal((await putRole('pg-ro', { engine: 'postgres', grant: { memberOf: 'app_ro' } })).status, 200);
    for (const m of ['app1', 'app2']) {
      for (const r of ['cache-ro', 'pg-ro']) await ok(v.operator, 'POST', '/v1/grants', { machine: m, project: 'shop', leaseRole: r }, 201);
    }
    const meta = await v.ctx.store.db.selectFrom('vault_meta').select('value').where('key', '=', 'vault_id').executeTakeFirstOrThrow();
    vid6 = Buffer.from(meta.value).toString('utf8').replace(/-/g, '').slice(0, 6).toLowerCase();
  });
  after(async () => {
    await v.close();
  });

  test('lease roles: create, list, get, delete; bad ACL rules, ttl > max-ttl and a wrong grant are refused', async () => {
    const role = (await ok(v.operator, 'GET', '/v1/projects/shop/lease-roles/cache-ro')).body as { role: LeaseRoleView };
    assert.equal(role.role.engine, 'redis');
    assert.deepEqual(role.role.grant, { acl: '~app:* +@read' });
    assert.equal(role.role.ttlMs, 3_600_000);
    assert.equal(role.role.agentMachine, 'agent1');
    const listed = (await ok(v.operator, 'GET', '/v1/projects/shop/lease-roles')).body as { roles: LeaseRoleView[] };
    assert.deepEqual(listed.roles.map((r) => r.name), ['cache-ro', 'pg-ro']);
    for (const acl of ['~app:* >newpass', 'on ~app:* +@all', '~app:* nopass', '#0a1b ~*']) {
      const res = await putRole('bad', { grant: { acl } });
      assert.equal(res.status, 400, res.raw);
      assert.equal(codeOf(res), 'SK_ERR_VALIDATION');
      assert.ok(!res.raw.includes('newpass'), 'a refused password rule is not echoed');
    }
    const ttl = await putRole('bad', { ttl: '3h', maxTtl: '1h' });
    assert.equal(codeOf(ttl), 'SK_ERR_VALIDATION');
    const wrongGrant = await putRole('bad', { engine: 'mysql', grant: { memberOf: 'x' } });
    assert.equal(codeOf(wrongGrant), 'SK_ERR_VALIDATION');
    const twoAgents = await putRole('bad', { agentLabel: 'agents' });
    assert.equal(codeOf(twoAgents), 'SK_ERR_VALIDATION');
    assert.equal((await call(v.operator, 'GET', '/v1/projects/shop/lease-roles/bad')).status, 404);
    await ok(v.operator, 'PUT', '/v1/projects/shop/lease-roles/temp', { engine: 'mongodb', agentLabel: 'agents', adminSecret: 'admin', ttl: '10m', maxTtl: '1h', grant: { roles: [{ role: 'read', db: 'app' }] } });
    await ok(v.operator, 'DELETE', '/v1/projects/shop/lease-roles/temp');
    assert.equal((await call(v.operator, 'GET', '/v1/projects/shop/lease-roles/temp')).status, 404);
    const events = (await auditActions()).map((e) => e.action);
    assert.ok(events.includes('lease_role.created') && events.includes('lease_role.deleted'));
  });

  test('AI agents are refused every lease-role route and lease-role grants, whatever their scopes', async () => {
    const key = generateIdentityKey();
    await ok(v.operator, 'POST', '/v1/ai-agents', { name: 'bot', publicKey: b64(key), scopes: ['grants:write', 'grants:read', 'rotations:write', 'rotations:read'] }, 201);
    for (const [method, path] of [['GET', '/v1/projects/shop/lease-roles'], ['GET', '/v1/projects/shop/lease-roles/cache-ro'], ['DELETE', '/v1/projects/shop/lease-roles/cache-ro'], ['GET', '/v1/leases']] as const) {
      const res = await call(key, method, path);
      assert.ok(res.status === 401 || res.status === 403, `${method} ${path}: ${res.status}`);
    }
    const put = await call(key, 'PUT', '/v1/projects/shop/lease-roles/ai', { engine: 'redis', agentMachine: 'agent1', adminSecret: 'admin', ttl: '1h', maxTtl: '2h', grant: { acl: '~*' } });
    assert.ok(put.status === 401 || put.status === 403, put.raw);
    const grant = await call(key, 'POST', '/v1/grants', { machine: 'app1', project: 'shop', leaseRole: 'cache-ro' });
    assert.equal(grant.status, 403, grant.raw);
    assert.equal(codeOf(grant), 'SK_ERR_FORBIDDEN');
  });

  test('lease → create job → claim carries the password → confirm → the machine gets the fields (the test plays the agent)', async () => {
    const id = await request(app1, 'cache-ro');
    // The intent is committed before the agent sees a job: the lease row names the login already.
    const row = await v.ctx.store.db.selectFrom('leases').select(['username', 'state']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.state, 'creating');
    const job = await jobOf(id, 'create');
    assert.deepEqual({ project: job.project, role: job.role }, { project: 'shop', role: 'cache-ro' });
    const c = await claim(job.id);
    assert.equal(c.kind, 'create');
    assert.equal(c.engine, 'redis');
    assert.equal(c.username, row.username);
    assert.ok(c.username.startsWith(`sk${vid6}_cache_ro_`), c.username);
    assert.ok(c.username.length <= 32);
    assert.ok(typeof c.password === 'string' && c.password.length >= 32);
    assert.deepEqual(c.grant, { acl: '~app:* +@read' });
    assert.equal(c.admin.password, ADMIN_PASSWORD);
    assert.equal(c.target.host, 'db.internal');
    assert.equal(c.target.password, undefined, 'the target carries no credential');
    assert.ok(c.validUntil > clock);
    // Not handed out yet: the machine waits.
    const pending = await call(app1, 'GET', `/v1/leases/${id}?wait=0`);
    assert.equal(pending.status, 202);
    assert.equal((pending.body as { fields?: unknown }).fields, undefined);
    await ok(agent, 'POST', `/v1/agent/lease-jobs/${c.id}/confirm`, { fence: c.fence });
    const lease = (await ok(app1, 'GET', `/v1/leases/${id}`)).body as Lease;
    assert.equal(lease.state, 'active');
    assert.deepEqual({ ...lease.fields }, { host: 'db.internal', port: '6379', database: 'app', username: c.username, password: c.password });
    // Another machine learns nothing of it; the operators' list never carries the password.
    assert.equal((await call(app2, 'GET', `/v1/leases/${id}`)).status, 404);
    const list = await ok(v.operator, 'GET', '/v1/leases?project=shop&role=cache-ro&machine=app1&state=active');
    assert.ok((list.body as { leases: LeaseSummary[] }).leases.some((l) => l.leaseId === id && l.username === c.username));
    assert.ok(!list.raw.includes(c.password ?? 'x'));
    assert.ok(!v.logs.join('').includes(c.password ?? 'x'), 'the password is never logged');
    assert.ok((await auditActions()).some((e) => e.action === 'lease.created' && e.target === `lease:${id}`));
    // Each fetch that hands the password out again is a read, audited (never with the value).
    const reads = (await auditActions()).filter((e) => e.action === 'lease.read' && e.target === `lease:${id}`).length;
    assert.ok(reads >= 1, 'the GET above was audited');
    await ok(app1, 'GET', `/v1/leases/${id}`);
    const after = await ok(v.operator, 'GET', '/v1/audit?limit=10000&order=asc');
    assert.equal((after.body as { events: Array<{ action: string; target: string }> }).events.filter((e) => e.action === 'lease.read' && e.target === `lease:${id}`).length, reads + 1);
    assert.ok(!after.raw.includes(c.password ?? 'x'), 'the audit log never carries the password');
    // The nonce is claimed with the read: the same signed request again is a replay, not a second hand-out.
    const signed = v.sign(app1, 'GET', `/v1/leases/${id}`);
    assert.equal((await v.send('GET', `/v1/leases/${id}`, signed.headers)).status, 200);
    const replayed = await v.send('GET', `/v1/leases/${id}`, signed.headers);
    assert.deepEqual([replayed.status, codeOf(replayed)], [401, 'SK_ERR_SIGNATURE_REPLAYED']);
    assert.ok(!replayed.raw.includes(c.password ?? 'x'));
  });

  test('a held lease request is answered 201 with the fields as soon as the agent confirms (long-poll; the test plays the agent)', async () => {
    const held = call(app1, 'POST', '/v1/projects/shop/leases/cache-ro?wait=20', {});
    let job: LeaseJobSummary | undefined;
    for (let i = 0; i < 200 && !job; i++) {
      job = (await pollLeaseJobs()).find((j) => j.kind === 'create');
      if (!job) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(job, 'the create job of the held request');
    const c = await claim(job.id);
    await ok(agent, 'POST', `/v1/agent/lease-jobs/${c.id}/confirm`, { fence: c.fence });
    const res = await held;
    assert.equal(res.status, 201, res.raw);
    assert.equal((res.body as Lease).fields?.password, c.password);
  });

  test('renew: moved now (redis), through a renew job (postgres), capped by max TTL, then SK_ERR_LEASE_MAX_TTL (the test plays the agent)', async () => {
    const lease = await activeLease(app1, 'cache-ro');
    clock += 10 * 60_000;
    const renewed = (await ok(app1, 'POST', `/v1/leases/${lease.leaseId}/renew`, { ttl: '30m' })).body as Lease;
    assert.equal(renewed.expiresAt, clock + 30 * 60_000);
    const capped = (await ok(app1, 'POST', `/v1/leases/${lease.leaseId}/renew`, { ttl: '5h' })).body as Lease;
    assert.equal(capped.expiresAt, lease.maxExpiresAt);
    const atCap = await call(app1, 'POST', `/v1/leases/${lease.leaseId}/renew`, {});
    assert.equal(atCap.status, 409);
    assert.equal(codeOf(atCap), 'SK_ERR_LEASE_MAX_TTL');

    const pg = await activeLease(app1, 'pg-ro');
    const held = call(app1, 'POST', `/v1/leases/${pg.leaseId}/renew?wait=20`, { ttl: '90m' });
    let job: LeaseJobSummary | undefined;
    for (let i = 0; i < 200 && !job; i++) {
      job = (await pollLeaseJobs()).find((j) => j.leaseId === pg.leaseId && j.kind === 'renew');
      if (!job) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(job, 'a renew job moves VALID UNTIL');
    const c = await claim(job.id);
    assert.equal(c.validUntil, clock + 90 * 60_000);
    assert.equal(c.password, undefined, 'only a create carries the password');
    await ok(agent, 'POST', `/v1/agent/lease-jobs/${c.id}/confirm`, { fence: c.fence });
    const res = await held;
    assert.equal(res.status, 200, res.raw);
    assert.equal((res.body as Lease).expiresAt, clock + 90 * 60_000);
  });

  test('two PostgreSQL renews confirmed out of order: the expiry only moves forward (the test plays the agent)', async () => {
    const pg = await activeLease(app2, 'pg-ro');
    const renewJob = async (ttl: string): Promise<LeaseJobClaim> => {
      await ok(app2, 'POST', `/v1/leases/${pg.leaseId}/renew?wait=0`, { ttl }, 202);
      const pending = (await pollLeaseJobs()).filter((j) => j.leaseId === pg.leaseId && j.kind === 'renew');
      assert.equal(pending.length, 1);
      return claim((pending[0] as LeaseJobSummary).id);
    };
    const first = await renewJob('40m'); // claimed, still running when the second renew is asked for
    const second = await renewJob('80m');
    assert.ok(second.validUntil > first.validUntil);
    await ok(agent, 'POST', `/v1/agent/lease-jobs/${second.id}/confirm`, { fence: second.fence });
    await ok(agent, 'POST', `/v1/agent/lease-jobs/${first.id}/confirm`, { fence: first.fence });
    const now = (await ok(app2, 'GET', `/v1/leases/${pg.leaseId}`)).body as Lease;
    assert.equal(now.expiresAt, second.validUntil);
  });

  test('a transition worked out from a lease row read before another one committed changes nothing: a stale expiry after a revoke queues no second drop (a conditional UPDATE, as when the sweeper races a revoke)', async () => {
    const lease = await activeLease(app1, 'cache-ro');
    const stale = await v.ctx.store.db.selectFrom('leases').selectAll().where('id', '=', lease.leaseId).executeTakeFirstOrThrow();
    await ok(app1, 'POST', `/v1/leases/${lease.leaseId}/revoke`, {});
    assert.equal(await writeTx(v.ctx, (trx, audit) => revokeLeaseInTx(v.ctx, trx, audit, stale, 'expired')), false);
    const drops = await v.ctx.store.db.selectFrom('lease_jobs').select('id').where('lease_id', '=', lease.leaseId).where('kind', '=', 'drop').execute();
    assert.equal(drops.length, 1);
    assert.ok(!(await auditActions()).some((e) => e.action === 'lease.expired' && e.target === `lease:${lease.leaseId}`));
    await runJob(lease.leaseId, 'drop');
    assert.equal(await leaseState(lease.leaseId), 'revoked');
  });

  test('revoke by the owner → drop job → revoked; a revoked lease cannot be renewed (the test plays the agent)', async () => {
    const lease = await activeLease(app1, 'cache-ro');
    assert.equal((await call(app2, 'POST', `/v1/leases/${lease.leaseId}/revoke`, {})).status, 404);
    const revoking = (await ok(app1, 'POST', `/v1/leases/${lease.leaseId}/revoke`, {})).body as Lease;
    assert.equal(revoking.state, 'revoking');
    assert.equal((revoking as { fields?: unknown }).fields, undefined);
    const c = await runJob(lease.leaseId, 'drop');
    assert.equal(c.username, lease.fields?.username);
    assert.equal(await leaseState(lease.leaseId), 'revoked');
    const renew = await call(app1, 'POST', `/v1/leases/${lease.leaseId}/renew`, {});
    assert.equal(codeOf(renew), 'SK_ERR_LEASE_STATE');
    // An operator revokes too.
    const other = await activeLease(app2, 'cache-ro');
    assert.equal(((await ok(v.operator, 'POST', `/v1/leases/${other.leaseId}/revoke`, {})).body as Lease).state, 'revoking');
  });

  test('expiry: the sweeper moves a lapsed lease to a drop job, which ends it expired (injected clock; the test plays the agent)', async () => {
    const lease = await activeLease(app2, 'pg-ro');
    clock = lease.expiresAt + 1;
    const swept = await sweepLeases(v.ctx);
    assert.ok(swept.ran && swept.expired >= 1);
    assert.equal(await leaseState(lease.leaseId), 'revoking');
    await runJob(lease.leaseId, 'drop');
    assert.equal(await leaseState(lease.leaseId), 'expired');
    assert.ok((await auditActions()).filter((e) => e.action === 'lease.expired' && e.target === `lease:${lease.leaseId}`).length === 2, 'expiry audited when decided and when dropped');
  });

  test('a stale fence is refused (SK_ERR_ROTATION_FENCED); a failed create marks the lease failed and queues a drop (the test plays the agent)', async () => {
    const id = await request(app1, 'cache-ro');
    const job = await jobOf(id, 'create');
    const first = await claim(job.id);
    clock += 61_000; // the 60 s claim lapses: re-claimable with a new fence
    const second = await claim(job.id);
    assert.equal(second.fence, first.fence + 1);
    const stale = await call(agent, 'POST', `/v1/agent/lease-jobs/${job.id}/confirm`, { fence: first.fence });
    assert.equal(stale.status, 409);
    assert.equal(codeOf(stale), 'SK_ERR_ROTATION_FENCED');
    await ok(agent, 'POST', `/v1/agent/lease-jobs/${job.id}/fail`, { fence: second.fence, code: 'SK_ERR_PROVIDER_PRIVILEGE', message: 'permission denied to create role' });
    assert.equal(await leaseState(id), 'failed');
    await runJob(id, 'drop');
    assert.equal(await leaseState(id), 'failed');
    assert.ok((await auditActions()).some((e) => e.action === 'lease.failed' && e.target === `lease:${id}`));
  });

  test('a lease revoked while its create is claimed: the drop waits for that claim, and the create is never handed out again (the test plays the agent)', async () => {
    const id = await request(app2, 'cache-ro');
    const create = await claim((await jobOf(id, 'create')).id);
    await ok(app2, 'POST', `/v1/leases/${id}/revoke`, {});
    // The create is under a live claim: no drop is handed out yet (it would race the create).
    assert.deepEqual((await pollLeaseJobs()).filter((j) => j.leaseId === id).map((j) => j.kind), []);
    clock += 61_000;
    const after = (await pollLeaseJobs()).filter((j) => j.leaseId === id);
    assert.deepEqual(after.map((j) => j.kind), ['drop']);
    const again = await call(agent, 'POST', `/v1/agent/lease-jobs/${create.id}/claim`);
    assert.equal(codeOf(again), 'SK_ERR_LEASE_STATE');
    await runJob(id, 'drop');
    assert.equal(await leaseState(id), 'revoked');
  });

  test('a create whose claim lapsed on a revoked lease is cancelled when its drop is confirmed, so the role can then be deleted (the test plays the agent)', async () => {
    await leaseProject('lapsed');
    const id = ((await ok(app2, 'POST', '/v1/projects/lapsed/leases/r?wait=0', {}, 202)).body as { leaseId: string }).leaseId;
    const create = await claim((await jobOf(id, 'create')).id);
    await ok(app2, 'POST', `/v1/leases/${id}/revoke`, {});
    clock += 61_000; // the agent died holding the create: its claim lapses
    await runJob(id, 'drop');
    assert.equal(await leaseState(id), 'revoked');
    const job = await v.ctx.store.db.selectFrom('lease_jobs').select(['state', 'error']).where('id', '=', create.id).executeTakeFirstOrThrow();
    assert.equal(job.state, 'cancelled');
    assert.match(job.error ?? '', /dropped/);
    await ok(v.operator, 'DELETE', '/v1/projects/lapsed/lease-roles/r');
  });

  test('batch claim and confirm: one request for several jobs; a refused job is listed with its code and the others go on (the test plays the agent)', async () => {
    const ids = [await request(app1, 'cache-ro'), await request(app1, 'cache-ro'), await request(app2, 'cache-ro')];
    const jobs = await Promise.all(ids.map((id) => jobOf(id, 'create')));
    const [j1, j2, j3] = jobs as [LeaseJobSummary, LeaseJobSummary, LeaseJobSummary];
    const single = await claim(j1.id); // under a live claim: the batch cannot take it
    const batch = (await ok(agent, 'POST', '/v1/agent/lease-jobs/claim', { ids: [j1.id, j2.id, j3.id, 'no-such-job'] })).body as { claims: LeaseJobClaim[]; refused: Array<{ id: string; code: string }> };
    assert.deepEqual(batch.claims.map((c) => c.id), [j2.id, j3.id]);
    assert.ok(batch.claims.every((c) => c.kind === 'create' && typeof c.password === 'string' && c.admin['password'] === ADMIN_PASSWORD));
    assert.deepEqual(batch.refused.map((r) => [r.id, r.code]), [[j1.id, 'SK_ERR_LEASE_STATE'], ['no-such-job', 'SK_ERR_LEASE_NOT_FOUND']]);
    // One read of the admin secret, naming both jobs it was handed out for.
    const reads = ((await ok(v.operator, 'GET', '/v1/audit?limit=10000&order=asc&action=secret.read')).body as { events: Array<{ details: { via?: string; leaseJobs?: Array<{ id: string }> } }> }).events
      .filter((e) => e.details.via === 'lease.claim');
    assert.deepEqual(reads.at(-1)?.details.leaseJobs?.map((j) => j.id), [j2.id, j3.id]);

    const [c2, c3] = batch.claims as [LeaseJobClaim, LeaseJobClaim];
    const confirmed = (await ok(agent, 'POST', '/v1/agent/lease-jobs/confirm', { jobs: [{ id: c2.id, fence: c2.fence }, { id: c3.id, fence: c3.fence - 1 }, { id: single.id, fence: single.fence }] })).body as { confirmed: string[]; refused: Array<{ id: string; code: string }> };
    assert.deepEqual(confirmed.confirmed, [c2.id, single.id]);
    assert.deepEqual(confirmed.refused.map((r) => [r.id, r.code]), [[c3.id, 'SK_ERR_ROTATION_FENCED']]);
    assert.deepEqual([await leaseState(ids[0] as string), await leaseState(ids[1] as string), await leaseState(ids[2] as string)], ['active', 'active', 'creating']);
    await ok(agent, 'POST', '/v1/agent/lease-jobs/confirm', { jobs: [{ id: c3.id, fence: c3.fence }] });
    assert.equal(await leaseState(ids[2] as string), 'active');
    // Confirming again: the job is done, refused, nothing changes.
    const again = (await ok(agent, 'POST', '/v1/agent/lease-jobs/confirm', { jobs: [{ id: c3.id, fence: c3.fence }] })).body as { confirmed: string[]; refused: Array<{ code: string }> };
    assert.deepEqual([again.confirmed, again.refused.map((r) => r.code)], [[], ['SK_ERR_LEASE_STATE']]);
    // Only machines that serve the role claim; an application machine is refused per job.
    const other = (await ok(app1, 'POST', '/v1/agent/lease-jobs/claim', { ids: [j1.id] })).body as { claims: unknown[]; refused: Array<{ code: string }> };
    assert.deepEqual([other.claims.length, other.refused.map((r) => r.code)], [0, ['SK_ERR_ROTATION_NOT_CLAIMABLE']]);
    for (const body of [{ ids: [] }, { ids: Array.from({ length: 101 }, (_, i) => `j${i}`) }, { jobs: [{ id: c3.id }] }, {}]) {
      const path = 'jobs' in body ? '/v1/agent/lease-jobs/confirm' : '/v1/agent/lease-jobs/claim';
      const res = await call(agent, 'POST', path, body);
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body).slice(0, 40)}: ${res.raw}`);
      assert.equal(codeOf(res), 'SK_ERR_VALIDATION');
    }
  });

  test('limits: the role\'s --max-leases answers 409, the machine\'s 10 concurrent leases (--max-leases-per-machine) 429 (SK_ERR_LEASE_LIMIT)', async () => {
    await ok(v.operator, 'PUT', '/v1/projects/shop/lease-roles/tiny', { engine: 'redis', agentMachine: 'agent1', adminSecret: 'admin', ttl: '1h', maxTtl: '2h', maxLeases: 2, grant: { acl: '~t:* +@read' } });
    await ok(v.operator, 'PUT', '/v1/projects/shop/lease-roles/many', { engine: 'redis', agentMachine: 'agent1', adminSecret: 'admin', ttl: '1h', maxTtl: '2h', grant: { acl: '~m:* +@read' } });
    for (const r of ['tiny', 'many']) await ok(v.operator, 'POST', '/v1/grants', { machine: 'app1', project: 'shop', leaseRole: r }, 201);
    await request(app1, 'tiny');
    await request(app1, 'tiny');
    const role = await call(app1, 'POST', '/v1/projects/shop/leases/tiny?wait=0', {});
    assert.equal(role.status, 409, role.raw);
    assert.equal(codeOf(role), 'SK_ERR_LEASE_LIMIT');
    for (let i = 0; i < 10; i++) await request(app1, 'many');
    const machine = await call(app1, 'POST', '/v1/projects/shop/leases/many?wait=0', {});
    assert.equal(machine.status, 429, machine.raw);
    assert.equal(codeOf(machine), 'SK_ERR_LEASE_LIMIT');
    const noGrant = await call(app2, 'POST', '/v1/projects/shop/leases/many?wait=0', {});
    assert.equal(noGrant.status, 403);
    assert.equal(codeOf(noGrant), 'SK_ERR_NO_GRANT');
    // --max-leases-per-machine moves the machine's limit (and the role shows it)
    const pair = await ok(v.operator, 'PUT', '/v1/projects/shop/lease-roles/pair', { engine: 'redis', agentMachine: 'agent1', adminSecret: 'admin', ttl: '1h', maxTtl: '2h', maxLeasesPerMachine: 2, grant: { acl: '~p:* +@read' } });
    assert.equal((pair.body as { role: { maxLeasesPerMachine: number } }).role.maxLeasesPerMachine, 2);
    await ok(v.operator, 'POST', '/v1/grants', { machine: 'app1', project: 'shop', leaseRole: 'pair' }, 201);
    await request(app1, 'pair');
    await request(app1, 'pair');
    const third = await call(app1, 'POST', '/v1/projects/shop/leases/pair?wait=0', {});
    assert.equal(third.status, 429, third.raw);
    assert.equal(codeOf(third), 'SK_ERR_LEASE_LIMIT');
    // Both limits on one role: another machine's leases count for the role, not for this machine.
    await ok(v.operator, 'PUT', '/v1/projects/shop/lease-roles/mix', { engine: 'redis', agentMachine: 'agent1', adminSecret: 'admin', ttl: '1h', maxTtl: '2h', maxLeases: 3, maxLeasesPerMachine: 1, grant: { acl: '~x:* +@read' } });
    for (const m of ['app1', 'app2']) await ok(v.operator, 'POST', '/v1/grants', { machine: m, project: 'shop', leaseRole: 'mix' }, 201);
    await request(app2, 'mix');
    await request(app1, 'mix');
    const second = await call(app1, 'POST', '/v1/projects/shop/leases/mix?wait=0', {});
    assert.equal(second.status, 429, second.raw);
    const limitOf = (res: InjectedResponse): unknown => {
      const { code, limit, scope, retryAfter } = (res.body as { error: Record<string, unknown> }).error;
      return { code, limit, scope, retryAfter };
    };
    assert.deepEqual(limitOf(second), { code: 'SK_ERR_LEASE_LIMIT', limit: 1, scope: 'machine', retryAfter: 30 });
    await ok(v.operator, 'PUT', '/v1/projects/shop/lease-roles/mix', { engine: 'redis', agentMachine: 'agent1', adminSecret: 'admin', ttl: '1h', maxTtl: '2h', maxLeases: 2, maxLeasesPerMachine: 5, grant: { acl: '~x:* +@read' } });
    const full = await call(app1, 'POST', '/v1/projects/shop/leases/mix?wait=0', {});
    assert.equal(full.status, 409, full.raw);
    assert.deepEqual(limitOf(full), { code: 'SK_ERR_LEASE_LIMIT', limit: 2, scope: 'role', retryAfter: undefined });
    const zero = await call(v.operator, 'PUT', '/v1/projects/shop/lease-roles/pair', { engine: 'redis', agentMachine: 'agent1', adminSecret: 'admin', ttl: '1h', maxTtl: '2h', maxLeasesPerMachine: 0, grant: { acl: '~p:* +@read' } });
    assert.equal(zero.status, 400);
  });

  test('removing the grant, disabling the machine and a canary trip revoke leases at once (drop jobs queued)', async () => {
    const app3 = await v.addMachine('app3');
    await ok(v.operator, 'POST', '/v1/grants', { machine: 'app3', project: 'shop', leaseRole: 'pg-ro' }, 201);
    const byGrant = await activeLease(app3, 'pg-ro');
    const creating = await request(app3, 'pg-ro');
    const grants = (await ok(v.operator, 'GET', '/v1/grants?machine=app3')).body as { grants: Array<{ id: string; leaseRole?: string }> };
    const g = grants.grants.find((x) => x.leaseRole === 'pg-ro');
    assert.ok(g);
    await ok(v.operator, 'DELETE', `/v1/grants/${g.id}`, undefined, 204);
    assert.equal(await leaseState(byGrant.leaseId), 'revoking');
    assert.equal(await leaseState(creating), 'revoking');
    // The unclaimed create job is cancelled; only the drops are handed out.
    const jobs = (await pollLeaseJobs()).filter((j) => j.leaseId === creating);
    assert.deepEqual(jobs.map((j) => j.kind), ['drop']);
    await runJob(byGrant.leaseId, 'drop');
    assert.equal(await leaseState(byGrant.leaseId), 'revoked');

    await ok(v.operator, 'POST', '/v1/grants', { machine: 'app3', project: 'shop', leaseRole: 'pg-ro' }, 201);
    const byDisable = await activeLease(app3, 'pg-ro');
    await ok(v.operator, 'POST', '/v1/machines/app3/disable', {});
    assert.equal(await leaseState(byDisable.leaseId), 'revoking');

    // A canary trip locks the project: app2's leases in it end, and the drops still run in the locked project.
    const byCanary = await activeLease(app2, 'cache-ro');
    await ok(v.operator, 'POST', '/v1/projects/shop/canaries', { name: 'decoy', value: 'decoy-value' }, 201);
    await ok(v.operator, 'POST', '/v1/grants', { machine: 'app1', project: 'shop', secret: 'decoy' }, 201);
    await ok(app1, 'GET', '/v1/projects/shop/secrets/decoy');
    assert.equal(await leaseState(byCanary.leaseId), 'revoking');
    const locked = await call(app2, 'POST', '/v1/projects/shop/leases/cache-ro?wait=0', {});
    assert.equal(codeOf(locked), 'SK_ERR_PROJECT_LOCKED');
    await runJob(byCanary.leaseId, 'drop');
    assert.equal(await leaseState(byCanary.leaseId), 'revoked');
    const revoked = (await auditActions()).filter((e) => e.action === 'lease.revoked');
    assert.ok(revoked.some((e) => e.target === `lease:${byCanary.leaseId}`));
    await ok(v.operator, 'POST', '/v1/projects/shop/unlock', { reason: 'test' });
    await ok(v.operator, 'POST', '/v1/machines/app1/enable', {});
  });

  test('moving a project to the trash revokes its live leases in the same transaction; restoring it brings none back (the test plays the agent)', async () => {
    await leaseProject('gone');
    const requested = await ok(app2, 'POST', '/v1/projects/gone/leases/r?wait=0', {}, 202);
    const id = (requested.body as { leaseId: string }).leaseId;
    await runJob(id, 'create');
    assert.equal(await leaseState(id), 'active');
    const deleted = await ok(v.operator, 'DELETE', '/v1/projects/gone');
    assert.equal((deleted.body as { revokedLeases: number }).revokedLeases, 1);
    assert.equal(await leaseState(id), 'revoking');
    const after = await ok(app2, 'GET', `/v1/leases/${id}`);
    assert.equal((after.body as Lease).fields, undefined, 'no password once revoking');
    const revoked = (await auditActions()).filter((e) => e.action === 'lease.revoked' && e.target === `lease:${id}`);
    assert.equal(revoked.length, 1);
    await runJob(id, 'drop'); // drops are handed out for a project in the trash
    assert.equal(await leaseState(id), 'revoked');
    await ok(v.operator, 'POST', '/v1/projects/gone/restore', {});
    assert.equal(await leaseState(id), 'revoked', 'a restore does not bring the lease back');
  });

  test('a lease role\'s admin secret goes to the trash only with --force: its leases are revoked, drops still run, no new lease until it is restored (the test plays the agent)', async () => {
    await leaseProject('adm');
    const id = ((await ok(app2, 'POST', '/v1/projects/adm/leases/r?wait=0', {}, 202)).body as { leaseId: string }).leaseId;
    await runJob(id, 'create');
    const refused = await call(v.operator, 'DELETE', '/v1/projects/adm/secrets/admin');
    assert.equal(refused.status, 409, refused.raw);
    assert.equal(codeOf(refused), 'SK_ERR_IN_USE');
    assert.equal(await leaseState(id), 'active', 'a refused delete changes nothing');
    const deleted = await ok(v.operator, 'DELETE', '/v1/projects/adm/secrets/admin?force=true');
    assert.equal((deleted.body as { revokedLeases: number }).revokedLeases, 1);
    assert.equal(await leaseState(id), 'revoking');
    const noLease = await call(app2, 'POST', '/v1/projects/adm/leases/r?wait=0', {});
    assert.equal(noLease.status, 409, noLease.raw);
    assert.equal(codeOf(noLease), 'SK_ERR_LEASE_STATE');
    const drop = await runJob(id, 'drop'); // the agent still gets the admin credential to drop the login
    assert.equal(drop.admin.password, ADMIN_PASSWORD);
    assert.equal(await leaseState(id), 'revoked');
    await ok(v.operator, 'POST', '/v1/projects/adm/secrets/admin/restore', {});
    await ok(app2, 'POST', '/v1/projects/adm/leases/r?wait=0', {}, 202);
  });

  test('project rotate-key rewraps lease passwords: an active lease still opens (the test plays the agent)', async () => {
    const lease = await activeLease(app2, 'pg-ro');
    await ok(v.operator, 'POST', '/v1/projects/shop/rotate-key', {});
    const again = (await ok(app2, 'GET', `/v1/leases/${lease.leaseId}`)).body as Lease;
    assert.equal(again.fields?.password, lease.fields?.password);
    const row = await v.ctx.store.db.selectFrom('leases').select('project_key_version').where('id', '=', lease.leaseId).executeTakeFirstOrThrow();
    assert.ok(row.project_key_version >= 2);
  });

  test('reconcile: drop = this vault\'s logins with no live intent (a committed, unconfirmed intent is kept); foreign = other sk logins, audited once (the test plays the agent)', async () => {
    const roles = ((await ok(agent, 'POST', '/v1/agent/lease-roles', {})).body as { roles: Array<{ roleId: string; role: string; prefix: string; admin: Record<string, string>; target: Record<string, string>; grant?: unknown }> }).roles;
    const role = roles.find((r) => r.role === 'cache-ro');
    assert.ok(role);
    // the grant goes with each role: a reconcile drop on PostgreSQL reassigns to its memberOf
    assert.deepEqual(role.grant, { acl: '~app:* +@read' });
    assert.deepEqual(roles.find((r) => r.role === 'pg-ro')?.grant, { memberOf: 'app_ro' });
    assert.equal(role.prefix, `sk${vid6}_`);
    assert.equal(role.admin.password, ADMIN_PASSWORD);
    assert.equal(role.target.password, undefined);
    const active = await activeLease(app1, 'cache-ro');
    const intentId = await request(app1, 'cache-ro');
    const intent = await v.ctx.store.db.selectFrom('leases').select('username').where('id', '=', intentId).executeTakeFirstOrThrow();
    const ended = await activeLease(app1, 'cache-ro');
    await ok(app1, 'POST', `/v1/leases/${ended.leaseId}/revoke`, {});
    await runJob(ended.leaseId, 'drop');
    const orphan = `sk${vid6}_cache_ro_zzzzzzzz`;
    const foreign = ['sk_other_tool', 'sk000000_x_abcdefgh'.replace('000000', vid6 === '000000' ? '111111' : '000000')];
    const logins = [active.fields?.username ?? '', intent.username, ended.fields?.username ?? '', orphan, ...foreign];
    for (let round = 0; round < 2; round++) {
      const res = (await ok(agent, 'POST', `/v1/agent/lease-roles/${role.roleId}/reconcile`, { logins })).body as { drop: string[]; foreign: string[] };
      assert.deepEqual(res.drop.sort(), [ended.fields?.username ?? '', orphan].sort());
      assert.deepEqual(res.foreign.sort(), [...foreign].sort());
    }
    const events = (await auditActions()).filter((e) => e.action === 'lease.foreign_login');
    assert.equal(events.length, foreign.length, 'each foreign login is audited once');
    // Another machine is not this role's agent.
    assert.equal((await call(app1, 'POST', `/v1/agent/lease-roles/${role.roleId}/reconcile`, { logins: [] })).status, 404);
  });
  test('a lease role\'s admin secret cannot be purged from the trash while the role exists (SK_ERR_IN_USE, never a 500)', async () => {
    await ok(v.operator, 'POST', '/v1/projects', { name: 'tmp' }, 201);
    await ok(v.operator, 'PUT', '/v1/projects/tmp/secrets/admin2', { fields: ADMIN });
    await ok(v.operator, 'PUT', '/v1/projects/tmp/lease-roles/r', { engine: 'mysql', agentMachine: 'agent1', adminSecret: 'admin2', ttl: '1h', maxTtl: '1h', grant: { grantRole: 'app_ro' } });
    await ok(v.operator, 'DELETE', '/v1/projects/tmp/secrets/admin2?force=true');
    const purge = await call(v.operator, 'POST', '/v1/trash/purge', { project: 'tmp', name: 'admin2' });
    assert.equal(purge.status, 409, purge.raw);
    assert.equal(codeOf(purge), 'SK_ERR_IN_USE');
    await ok(v.operator, 'DELETE', '/v1/projects/tmp/lease-roles/r');
    await ok(v.operator, 'POST', '/v1/trash/purge', { project: 'tmp', name: 'admin2' });
  });
  test('the admin secret\'s access policy applies to a lease request as to a read (ipAllowlist refuses; the refusal is audited)', async () => {
    await ok(v.operator, 'POST', '/v1/projects', { name: 'pol' }, 201);
    await ok(v.operator, 'PUT', '/v1/projects/pol/secrets/admin', { fields: ADMIN });
    await ok(v.operator, 'PUT', '/v1/projects/pol/lease-roles/r', { engine: 'redis', agentMachine: 'agent1', adminSecret: 'admin', ttl: '1h', maxTtl: '1h', grant: { acl: '~p:* +@read' } });
    await ok(v.operator, 'POST', '/v1/grants', { machine: 'app2', project: 'pol', leaseRole: 'r' }, 201);
    await ok(v.operator, 'POST', '/v1/projects/pol/policies', { name: 'office', ipAllowlist: ['10.0.0.0/8'] }, 201);
    await ok(v.operator, 'PUT', '/v1/projects/pol/policies/bindings/admin', { policy: 'office' });
    const refused = await call(app2, 'POST', '/v1/projects/pol/leases/r?wait=0', {});
    assert.equal(refused.status, 403, refused.raw);
    assert.equal(codeOf(refused), 'SK_ERR_POLICY_IP');
    assert.ok((await auditActions()).some((e) => e.action === 'lease.requested' && e.outcome === 'denied' && e.target === 'lease_role:pol/r'));
    await ok(v.operator, 'DELETE', '/v1/projects/pol/policies/bindings/admin');
    const granted = await call(app2, 'POST', '/v1/projects/pol/leases/r?wait=0', {});
    assert.equal(granted.status, 202, granted.raw);
  });
  test('the named agent of a lease role cannot be removed, not even with --force (SK_ERR_IN_USE names the roles); once another agent is named it can', async () => {
    await v.addMachine('agentx');
    await ok(v.operator, 'POST', '/v1/projects', { name: 'agentless' }, 201);
    await ok(v.operator, 'PUT', '/v1/projects/agentless/secrets/admin', { fields: ADMIN });
    const role = { engine: 'redis', adminSecret: 'admin', ttl: '1h', maxTtl: '1h', grant: { acl: '~a:* +@read' } };
    await ok(v.operator, 'PUT', '/v1/projects/agentless/lease-roles/r', { ...role, agentMachine: 'agentx' });
    for (const path of ['/v1/machines/agentx', '/v1/machines/agentx?force=true']) {
      const refused = await call(v.operator, 'DELETE', path);
      assert.equal(refused.status, 409, refused.raw);
      assert.equal(codeOf(refused), 'SK_ERR_IN_USE');
      assert.match(refused.raw, /lease role \(agentless\/r\)/);
    }
    const denied = (await auditActions()).filter((e) => e.action === 'machine.remove' && e.outcome === 'denied');
    assert.ok(denied.length >= 2, 'each refusal audited');
    await ok(v.operator, 'PUT', '/v1/projects/agentless/lease-roles/r', { ...role, agentLabel: 'rotator' });
    await ok(v.operator, 'DELETE', '/v1/machines/agentx');
  });

  test('reverting an extension that leaves a machine expired revokes its leases at once (the sweeper only looks at live machines); a machine cannot be added with expiresIn under 1m', async () => {
    for (const expiresIn of ['0s', '59s']) {
      const refused = await call(v.operator, 'POST', '/v1/machines', { name: `short-${expiresIn}`, publicKey: Buffer.from(generateIdentityKey().publicKey).toString('base64'), expiresIn });
      assert.equal(refused.status, 400, refused.raw);
      assert.equal(codeOf(refused), 'SK_ERR_VALIDATION');
    }
    const key = generateIdentityKey();
    await ok(v.operator, 'POST', '/v1/machines', { name: 'tempm', publicKey: Buffer.from(key.publicKey).toString('base64'), expiresIn: '1h' }, 201);
    await ok(v.operator, 'POST', '/v1/grants', { machine: 'tempm', project: 'shop', leaseRole: 'cache-ro' }, 201);
    const lease = await activeLease(key, 'cache-ro');
    await ok(v.operator, 'POST', '/v1/machines/tempm/extend', { by: '1h', reason: 'one more hour' });
    clock += 90 * 60_000; // past the first expiry, within the extension
    await ok(v.operator, 'POST', '/v1/machines/tempm/revert-extension', { reason: 'not needed' });
    assert.equal(await leaseState(lease.leaseId), 'revoking');
    assert.ok((await auditActions()).some((e) => e.action === 'lease.revoked' && e.target === `lease:${lease.leaseId}`));
  });

  test('a machine that hangs up while its lease request is held is let go at once, not at the end of its wait (a POST request\'s own close fires once its body is read)', async () => {
    await v.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (v.app.server.address() as AddressInfo).port;
    const held = async (): Promise<number> => (await v.metrics.longPolls.get()).values[0]?.value ?? 0;
    assert.equal(await held(), 0);
    const target = '/v1/projects/lapsed2/leases/r?wait=30';
    await leaseProject('lapsed2');
    const { headers, payload } = v.sign(app2, 'POST', target, {});
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    const head = Object.entries({ host: TEST_AUTHORITY, ...headers, 'content-length': String(payload.length) }).map(([k, val]) => `${k}: ${val}\r\n`).join('');
    socket.write(`POST ${target} HTTP/1.1\r\n${head}\r\n`);
    socket.write(payload);
    // Nobody confirms (no agent; the injected clock stands still): only the hang-up can end the wait.
    await waitFor(held, { what: 'the lease request to be held', timeoutMs: 10_000, intervalMs: 20, until: (n) => n === 1 });
    socket.destroy();
    await waitFor(held, { what: 'the held lease request to be let go after the hang-up', timeoutMs: 10_000, intervalMs: 20, until: (n) => n === 0 });
  });
});
